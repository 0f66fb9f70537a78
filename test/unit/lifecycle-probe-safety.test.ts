import assert from 'node:assert/strict'
import {chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {ExitCode} from '../../src/exit-codes.js'
import * as lifecycle from '../../src/lifecycle/index.js'
import {checkProgram} from '../../src/safety/check-program.js'
import {lifecycleWorlds, snapshotTree} from '../support/lifecycle-fixture.js'

const NAME = 'thed'
const NOBODY = 65534

/**
 * The health probe runs as root at each install, upgrade, start and restart: a program any local
 * user could plant or change (in /tmp, owned by them, group-writable, below a directory others can
 * write) is refused before it runs, exit 9, naming the path and the fix.
 */
describe('lifecycle: the health probe is run as root only when only root can change it', function () {
  const env = lifecycleWorlds(NAME, {labelPrefix: 'com.example.thed.probe', defaultEtc: (version) => ({'thed.conf': `version=${version}\n`})})

  /** A probe script in a directory of its own, writing `marker` when it runs; root-owned 0755 in a 0755 directory. */
  function plantProbe(): {dir: string; program: string; marker: string} {
    const dir = mkdtempSync(join(tmpdir(), 'esdctl-probe-'))
    env.track(dir)
    chmodSync(dir, 0o755)
    const marker = join(dir, 'ran')
    const program = join(dir, 'probe')
    writeFileSync(program, `#!/bin/sh\necho ran > ${marker}\n`, {mode: 0o755})
    return {dir, program, marker}
  }
  const withProbe = (program: string) => ({manifest: {healthCheck: {runningSeconds: 1, command: [program, '--ping']}}})

  it('runs a root-owned probe that only root can change (the control)', async () => {
    const w = env.world()
    const {program, marker} = plantProbe()
    const r = await lifecycle.install(w.ctx, await w.payload('1.0.0', withProbe(program)))
    assert.equal(r.exitCode, ExitCode.ok, r.message)
    assert.ok(existsSync(marker), 'the probe ran')
  })

  it('refuses a probe owned by another user before anything changes: exit 9, the path and the fix named, the probe never run', async () => {
    const w = env.world()
    const {program, marker} = plantProbe()
    chownSync(program, NOBODY, NOBODY)
    const before = snapshotTree(w.root)
    const r = await lifecycle.install(w.ctx, await w.payload('1.0.0', withProbe(program)))
    assert.equal(r.exitCode, ExitCode.unsafeEnvironment, r.message)
    assert.match(r.message, new RegExp(`health probe ${program}`))
    assert.match(r.message, /owned by uid 65534, not root/)
    assert.match(r.message, /chown root:wheel/)
    assert.equal(existsSync(marker), false, 'the planted probe did not run')
    assert.deepEqual(snapshotTree(w.root), before)
    assert.equal(await w.ctx.launchctl.print(w.label), undefined)
    const dry = await lifecycle.install(w.ctx, await w.payload('1.0.0', withProbe(program)), {dryRun: true})
    assert.equal(dry.exitCode, ExitCode.unsafeEnvironment, 'the dry run refuses it too')
  })

  it('refuses a group-writable probe, and one below a directory others can write', async () => {
    const w = env.world()
    const {program, marker} = plantProbe()
    chmodSync(program, 0o775)
    const r = await lifecycle.install(w.ctx, await w.payload('1.0.0', withProbe(program)))
    assert.equal(r.exitCode, ExitCode.unsafeEnvironment, r.message)
    assert.match(r.message, /mode 0775\) is writable by its group/)
    const second = plantProbe()
    chmodSync(second.dir, 0o777)
    const r2 = await lifecycle.install(w.ctx, await w.payload('1.0.0', withProbe(second.program)))
    assert.equal(r2.exitCode, ExitCode.unsafeEnvironment, r2.message)
    assert.match(r2.message, new RegExp(`${second.dir} \\(owner uid 0, group gid 0, mode 0777\\) is writable by its group, is writable by everyone`))
    assert.equal(existsSync(marker) || existsSync(second.marker), false)
  })

  it('judges the file a link leads to, and runs that file, not the link', async () => {
    const w = env.world()
    const planted = plantProbe()
    chownSync(planted.program, NOBODY, NOBODY)
    const links = mkdtempSync(join(tmpdir(), 'esdctl-probe-link-'))
    env.track(links)
    chmodSync(links, 0o755)
    symlinkSync(planted.program, join(links, 'probe'))
    const r = await lifecycle.install(w.ctx, await w.payload('1.0.0', withProbe(join(links, 'probe'))))
    assert.equal(r.exitCode, ExitCode.unsafeEnvironment, r.message)
    assert.match(r.message, new RegExp(`which resolves to ${planted.program}`))
    const safe = plantProbe()
    const check = await checkProgram(join(links, 'probe'))
    assert.equal(check.ok, false)
    const ok = await checkProgram(safe.program)
    assert.deepEqual(ok, {ok: true, resolved: safe.program})
  })

  it('a probe inside the prefix is checked where it lies right before it runs: a first install leaves nothing, exit 9', async () => {
    const w = env.world()
    // var/ is the admin's and the daemon's, never esdctl's: whatever lies there is checked as it is.
    mkdirSync(w.layout.var, {recursive: true})
    const program = join(w.layout.var, 'probe')
    writeFileSync(program, '#!/bin/sh\nexit 0\n', {mode: 0o755})
    chownSync(program, NOBODY, NOBODY)
    const before = snapshotTree(w.root)
    const r = await lifecycle.install(w.ctx, await w.payload('1.0.0', {manifest: {healthCheck: {runningSeconds: 1, command: ['{var}/probe']}}}))
    assert.equal(r.exitCode, ExitCode.unsafeEnvironment, r.message)
    assert.match(r.message, /refusing to run the health probe .*var\/probe as root/)
    assert.match(r.message, /nothing was left installed/)
    const after = snapshotTree(w.root)
    for (const [path, entry] of Object.entries(before)) assert.equal(after[path], entry, path)
    assert.equal(existsSync(w.layout.app), false)
    assert.equal(existsSync(w.layout.launchdPlist), false)
    assert.equal(existsSync(w.layout.receipt), false)
    assert.equal(await w.ctx.launchctl.print(w.label), undefined)
  })

  it('start and restart refuse an installed probe that another user took over, before launchd is asked', async () => {
    const w = env.world()
    const {program, marker} = plantProbe()
    assert.equal((await lifecycle.install(w.ctx, await w.payload('1.0.0', withProbe(program)))).exitCode, ExitCode.ok)
    assert.equal((await lifecycle.stop(w.ctx, NAME)).exitCode, ExitCode.ok)
    chownSync(program, NOBODY, NOBODY)
    writeFileSync(marker, '')
    await assert.rejects(lifecycle.start(w.ctx, NAME), (e: Error & {exitCode?: number}) => e.exitCode === ExitCode.unsafeEnvironment && /owned by uid 65534/.test(e.message))
    assert.equal(await w.ctx.launchctl.print(w.label), undefined, 'launchd was not asked to start it')
    await assert.rejects(lifecycle.restart(w.ctx, NAME), (e: Error & {exitCode?: number}) => e.exitCode === ExitCode.unsafeEnvironment)
    assert.equal(await w.ctx.launchctl.print(w.label), undefined)
  })
})
