import assert from 'node:assert/strict'
import {chmodSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {ExitCode} from '../../src/exit-codes.js'
import * as lifecycle from '../../src/lifecycle/index.js'
import {refusal} from '../support/lifecycle-assertions.js'
import {lifecycleWorlds, snapshotTree} from '../support/lifecycle-fixture.js'
import {runRunner} from '../support/lifecycle-runs.js'
import {createTestPki} from '../support/test-pki.js'

const NAME = 'thed'
const NOBODY = 65534

describe('lifecycle refusals: each names the problem, has its exit code, and changes nothing', function () {
  const env = lifecycleWorlds(NAME, {labelPrefix: 'com.example.thed.r', defaultEtc: () => ({'thed.conf': 'x\n'})})
  const world = () => env.world()

  it('not root: the runner as uid 65534 gets notRoot and its own message; nothing changes', async () => {
    const w = world()
    const payload = await w.payload('1.0.0')
    chmodSync(payload, 0o755)
    const before = snapshotTree(w.root)
    const run = await runRunner({root: w.root, launchctlPath: env.launchd.launchctlPath, trust: env.trust, verb: 'install', target: payload}, {uid: NOBODY})
    assert.equal(run.exitCode, ExitCode.notRoot, run.stderr)
    assert.match(String(run.output?.['refused']), /must run as root \(effective uid is 65534\)/)
    assert.deepEqual(snapshotTree(w.root), before)
  })

  it('NODE_OPTIONS as root: unsafeEnvironment naming the variable', async () => {
    const w = world()
    const payload = await w.payload('1.0.0')
    const before = snapshotTree(w.root)
    const run = await runRunner({root: w.root, launchctlPath: env.launchd.launchctlPath, trust: env.trust, verb: 'install', target: payload}, {env: {NODE_OPTIONS: '--no-warnings', PATH: process.env['PATH'] ?? ''}})
    assert.equal(run.exitCode, ExitCode.unsafeEnvironment, run.stderr)
    assert.match(String(run.output?.['refused']), /NODE_OPTIONS/)
    assert.deepEqual(snapshotTree(w.root), before)
  })

  it('a payload file with the setuid or setgid bit: badInput naming it and the bit; refused, not stripped; nothing changes', async () => {
    const w = world()
    const payload = await w.payload('1.0.0')
    mkdirSync(join(payload, 'lib'), {recursive: true})
    writeFileSync(join(payload, 'lib', 'helper'), '#!/bin/sh\n')
    chmodSync(join(payload, 'lib', 'helper'), 0o6755)
    const before = snapshotTree(w.root)
    const e = await refusal(() => lifecycle.install(w.ctx, payload))
    assert.equal(e.exitCode, ExitCode.badInput)
    assert.match(e.message, /"lib\/helper" has the setuid and setgid bit \(mode 6755\); esdctl refuses set-id files/)
    assert.deepEqual(snapshotTree(w.root), before)
  })

  it('a directory payload with a link leaving it (lib -> /etc, lib/shadow -> /etc/shadow): badInput naming the entry, like the .tar.gz; nothing changes', async () => {
    for (const plant of [
      (payload: string) => symlinkSync('/etc', join(payload, 'lib')),
      (payload: string) => {
        mkdirSync(join(payload, 'lib'), {recursive: true})
        symlinkSync('/etc/shadow', join(payload, 'lib', 'shadow'))
      },
      (payload: string) => {
        mkdirSync(join(payload, 'share'), {recursive: true})
        symlinkSync('../../etc', join(payload, 'share', 'up'))
      },
    ]) {
      const w = world()
      const payload = await w.payload('1.0.0')
      plant(payload)
      const before = snapshotTree(w.root)
      const e = await refusal(() => lifecycle.install(w.ctx, payload))
      assert.equal(e.exitCode, ExitCode.badInput)
      assert.match(e.message, /entry "(lib|lib\/shadow|share\/up)" is a symbolic link to .*(outside|leaves) the payload; replace the link .* nothing was installed/)
      assert.deepEqual(snapshotTree(w.root), before)
    }
  })

  it('a directory payload with a link that stays inside it installs', async () => {
    const w = world()
    const payload = await w.payload('1.0.0')
    mkdirSync(join(payload, 'share', 'doc'), {recursive: true})
    writeFileSync(join(payload, 'share', 'doc', 'README'), 'x\n')
    symlinkSync('doc/README', join(payload, 'share', 'README'))
    const result = await lifecycle.install(w.ctx, payload)
    assert.equal(result.exitCode, ExitCode.ok, result.message)
  })

  it('a group-writable parent: unsafeEnvironment naming the directory', async () => {
    const w = world()
    const payload = await w.payload('1.0.0')
    mkdirSync(join(w.root, 'opt'), {mode: 0o775})
    chmodSync(join(w.root, 'opt'), 0o775)
    const before = snapshotTree(w.root)
    const e = await refusal(() => lifecycle.install(w.ctx, payload))
    assert.equal(e.exitCode, ExitCode.unsafeEnvironment)
    assert.match(e.message, new RegExp(`${join(w.root, 'opt')} .*writable by its group`))
    assert.deepEqual(snapshotTree(w.root), before)
  })

  it('a planted symlink in place of the bundle: unsafeEnvironment, nothing followed or changed', async () => {
    const w = world()
    assert.equal((await lifecycle.install(w.ctx, await w.payload('1.0.0'))).exitCode, ExitCode.ok)
    const elsewhere = `${w.root}-elsewhere`
    env.track(elsewhere)
    renameSync(w.layout.app, elsewhere)
    symlinkSync(elsewhere, w.layout.app)
    const next = await w.payload('1.1.0')
    const before = snapshotTree(w.root)
    const beforeTarget = snapshotTree(elsewhere)
    const e = await refusal(() => lifecycle.upgrade(w.ctx, next))
    assert.equal(e.exitCode, ExitCode.unsafeEnvironment)
    assert.match(e.message, new RegExp(`${w.layout.app} has been replaced by a symbolic link`))
    const u = await refusal(() => lifecycle.uninstall(w.ctx, NAME, {purge: true}))
    assert.equal(u.exitCode, ExitCode.unsafeEnvironment)
    assert.deepEqual(snapshotTree(w.root), before)
    assert.deepEqual(snapshotTree(elsewhere), beforeTarget)
  })

  it('a link planted inside etc/: unsafeEnvironment, nothing outside the prefix moved', async () => {
    const w = world()
    assert.equal((await lifecycle.install(w.ctx, await w.payload('1.0.0', {etc: {'sub/thed.conf': 'a=1\n'}}))).exitCode, ExitCode.ok)
    const outside = `${w.root}-outside`
    env.track(outside)
    mkdirSync(outside)
    writeFileSync(join(outside, 'thed.conf'), 'belongs to someone else\n')
    rmSync(join(w.layout.etc, 'sub'), {recursive: true})
    symlinkSync(outside, join(w.layout.etc, 'sub'))
    const next = await w.payload('1.1.0', {etc: {'sub/thed.conf': 'a=2\n'}})
    const before = snapshotTree(w.root)
    const beforeOutside = snapshotTree(outside)
    const r = await lifecycle.upgrade(w.ctx, next)
    assert.equal(r.exitCode, ExitCode.unsafeEnvironment, r.message)
    assert.match(r.message, new RegExp(`${join(w.layout.etc, 'sub')} is a symbolic link`))
    assert.deepEqual(snapshotTree(w.root), before)
    assert.deepEqual(snapshotTree(outside), beforeOutside)
  })

  it('a bad manifest: badInput naming the file and the field', async () => {
    const w = world()
    const payload = await w.payload('1.0.0')
    const manifest = JSON.parse(readFileSync(join(payload, 'esdctl.json'), 'utf8')) as Record<string, unknown>
    manifest['name'] = '../etc'
    writeFileSync(join(payload, 'esdctl.json'), JSON.stringify(manifest))
    const before = snapshotTree(w.root)
    const e = await refusal(() => lifecycle.install(w.ctx, payload))
    assert.equal(e.exitCode, ExitCode.badInput)
    assert.match(e.message, /esdctl\.json: \/name: /)
    assert.deepEqual(snapshotTree(w.root), before)
  })

  it('a manifest whose plist doctor would fail (UserName not root): install, upgrade and plist refuse with badInput naming esdctl.json and the field', async () => {
    const w = world()
    const payload = await w.payload('1.0.0')
    const manifest = JSON.parse(readFileSync(join(payload, 'esdctl.json'), 'utf8')) as Record<string, unknown>
    manifest['UserName'] = '_mydaemon'
    writeFileSync(join(payload, 'esdctl.json'), JSON.stringify(manifest))
    const before = snapshotTree(w.root)
    for (const run of [() => lifecycle.install(w.ctx, payload), () => lifecycle.upgrade(w.ctx, payload), () => lifecycle.renderPlistForPayload(payload, w.root)]) {
      const e = await refusal(run)
      assert.equal(e.exitCode, ExitCode.badInput)
      assert.match(e.message, /esdctl\.json: \/UserName: UserName is "_mydaemon": an Endpoint Security client must run as root/)
    }
    assert.deepEqual(snapshotTree(w.root), before)
  })

  it('failed verification (signed for another team): verificationFailed with findings; nothing on disk changes', async () => {
    const w = world()
    const otherTeam = await (await createTestPki()).developerId('ZZZZZ99999')
    const payload = await w.payload('1.0.0', {identity: otherTeam})
    const before = snapshotTree(w.root)
    const result = await lifecycle.install(w.ctx, payload)
    assert.equal(result.exitCode, ExitCode.verificationFailed, result.message)
    assert.equal(result.changed, false)
    assert.ok(result.findings!.some((f) => f.severity === 'error'), JSON.stringify(result.findings))
    assert.deepEqual(snapshotTree(w.root), before)
    assert.equal(await w.ctx.launchctl.print(w.label), undefined)
  })

  it('downgrade: badInput saying so; nothing changes', async () => {
    const w = world()
    assert.equal((await lifecycle.install(w.ctx, await w.payload('2.0.0'))).exitCode, ExitCode.ok)
    const older = await w.payload('1.9.9')
    const before = snapshotTree(w.root)
    const result = await lifecycle.install(w.ctx, older)
    assert.equal(result.exitCode, ExitCode.badInput)
    assert.match(result.message, /refusing to downgrade thed from 2\.0\.0 to 1\.9\.9; pass --allow-downgrade/)
    assert.deepEqual(snapshotTree(w.root), before)
  })

  it('upgrade of something not installed is refused, telling to use install', async () => {
    const w = world()
    const e = await refusal(async () => lifecycle.upgrade(w.ctx, await w.payload('1.0.0')))
    assert.equal(e.exitCode, ExitCode.badInput)
    assert.match(e.message, /not installed .*use esdctl install/)
  })

  it('two runs at once: the second is refused with locked and the holder pid; the first completes, nothing corrupt', async () => {
    const w = world()
    const payload = await w.payload('1.0.0')
    const first = runRunner({root: w.root, launchctlPath: env.launchd.launchctlPath, trust: env.trust, verb: 'install', target: payload, pauseMs: 1500})
    const lockPath = join(w.root, 'Library', 'Application Support', 'esdctl', 'esdctl.lock')
    let holder = ''
    for (let i = 0; i < 200 && holder === ''; i++) {
      await new Promise((r) => setTimeout(r, 20))
      try {
        holder = readFileSync(lockPath, 'utf8').trim()
      } catch {
        holder = ''
      }
    }
    assert.notEqual(holder, '', 'the first run took the lock')
    const second = await runRunner({root: w.root, launchctlPath: env.launchd.launchctlPath, trust: env.trust, verb: 'install', target: payload})
    assert.equal(second.exitCode, ExitCode.locked, second.stderr)
    assert.match(String(second.output?.['refused']), new RegExp(`pid ${holder}`))
    const done = await first
    assert.equal(done.exitCode, ExitCode.ok, done.stderr)
    assert.equal((await lifecycle.readInstallRecord(w.layout))?.version, '1.0.0')
    assert.equal((await w.ctx.launchctl.print(w.label))?.state, 'running')
  })
})
