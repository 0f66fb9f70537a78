import assert from 'node:assert/strict'
import {cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {basename, dirname, join} from 'node:path'
import {LaunchctlAdapter} from '../../src/adapters/launchctl.js'
import {OfflineLaunchctl} from '../../src/adapters/offline-launchctl.js'
import {UnifiedLogAdapter} from '../../src/adapters/unified-log.js'
import {doctorReport} from '../../src/doctor/doctor-report.js'
import {ExitCode} from '../../src/exit-codes.js'
import {PrefixLayout, ToolPaths} from '../../src/layout/prefix-layout.js'
import type {LifecycleContext, LifecycleResult} from '../../src/lifecycle/context.js'
import * as lifecycle from '../../src/lifecycle/index.js'
import {isLifecycleError} from '../../src/lifecycle/lifecycle-error.js'
import {inspectInstallRecordAt} from '../../src/records/install-record.js'
import {isRecordDamaged} from '../../src/records/own-json.js'
import {inspectRegistry} from '../../src/records/registry.js'
import {munkiInstallCheck, MUNKI_INSTALL_NEEDED, MUNKI_INSTALLED} from '../../src/status/munki-installcheck.js'
import {runStatus} from '../../src/status/run-status.js'
import {startFakeLaunchd, type FakeLaunchd} from '../doubles/fake-launchd/fake-launchd.js'
import {createFakeLog, type FakeLog} from '../doubles/log/fake-log.js'
import {buildPayload, makeRoot, snapshotTree, testContext, testIdentity} from '../support/lifecycle-fixture.js'
import type {TrustStore} from '../../src/trust/trust-store.js'

const NAME = 'thed'
const LABEL = 'com.example.thed.damage'

type RecordId = 'receipt' | 'registry' | 'slot receipt'
type Damage = 'empty' | 'truncated' | 'garbage' | 'wrong shape' | 'directory' | 'link'
type Command = 'install' | 'upgrade' | 'uninstall' | 'rollback' | 'status' | 'doctor'

const RECORDS: RecordId[] = ['receipt', 'registry', 'slot receipt']
const DAMAGES: Damage[] = ['empty', 'truncated', 'garbage', 'wrong shape', 'directory', 'link']
const COMMANDS: Command[] = ['install', 'upgrade', 'uninstall', 'rollback', 'status', 'doctor']

function recordPath(id: RecordId, layout: PrefixLayout, root: string): string {
  if (id === 'receipt') return layout.receipt
  if (id === 'slot receipt') return layout.slotReceipt
  return new ToolPaths(root).registry
}

/** Damages the record at `path`; returns what to expect at the moved-aside path. */
function damage(path: string, kind: Damage, decoy: string): (aside: string) => void {
  const original = readFileSync(path)
  rmSync(path)
  switch (kind) {
    case 'empty':
    case 'truncated':
    case 'garbage':
    case 'wrong shape': {
      const bytes =
        kind === 'empty' ? Buffer.alloc(0)
        : kind === 'truncated' ? original.subarray(0, Math.floor(original.length / 2))
        : kind === 'garbage' ? Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x22, 0x80, 0x0a, 0x5d, 0xc3])
        : Buffer.from(JSON.stringify({schemaVersion: 1, daemons: 'none', name: 42}))
      writeFileSync(path, bytes)
      return (aside) => {
        assert.ok(lstatSync(aside).isFile())
        assert.deepEqual(readFileSync(aside), bytes)
        assert.equal(lstatSync(aside).mode & 0o777, 0o600)
      }
    }
    case 'directory':
      mkdirSync(path)
      writeFileSync(join(path, 'inside'), 'x')
      return (aside) => {
        assert.ok(lstatSync(aside).isDirectory())
        assert.equal(lstatSync(aside).mode & 0o777, 0o700)
        assert.equal(readFileSync(join(aside, 'inside'), 'utf8'), 'x')
      }
    case 'link':
      symlinkSync(decoy, path)
      return (aside) => assert.equal(readlinkSync(aside), decoy)
  }
}

/** Where the damaged record went: beside it, or for the rollback slot's receipt (the slot is retired by upgrades) in the state directory. */
function asideOf(path: string): string | undefined {
  const slot = basename(dirname(path)) === 'previous'
  const dir = slot ? dirname(dirname(path)) : dirname(path)
  const stem = slot ? 'previous-receipt.json' : basename(path)
  if (!existsSync(dir)) return undefined
  const found = readdirSync(dir).filter((f) => f.startsWith(`${stem}.damaged-`))
  assert.ok(found.length <= 1, `one moved-aside copy, found ${found.join(', ')}`)
  return found[0] === undefined ? undefined : join(dir, found[0])
}

async function outcome(run: () => Promise<LifecycleResult>): Promise<{exitCode: number; message: string; recovered?: string; result?: LifecycleResult}> {
  try {
    const r = await run()
    return {exitCode: r.exitCode, message: r.message, ...(r.recovered ? {recovered: r.recovered} : {}), result: r}
  } catch (e) {
    if (isLifecycleError(e)) return {exitCode: e.exitCode, message: e.message}
    throw new Error(`not a refusal but a crash (exit 1): ${(e as Error).stack}`)
  }
}

/** runStatus writes to stdout; the test keeps it and returns the exit code with it. */
async function statusOf(root: string, launchctl: LaunchctlAdapter): Promise<{rc: number; out: string}> {
  const write = process.stdout.write.bind(process.stdout)
  let out = ''
  process.stdout.write = ((chunk: string | Uint8Array) => ((out += String(chunk)), true)) as typeof process.stdout.write
  try {
    const rc = await runStatus({format: 'json', root}, launchctl)
    return {rc, out}
  } finally {
    process.stdout.write = write
  }
}

describe('damaged records: every record × every damage × every command, never exit 1', function () {
  this.timeout(120_000)
  let trust: TrustStore
  let launchd: FakeLaunchd
  let fakeLog: FakeLog
  let base: string
  const payloads: Record<string, string> = {}
  const cleanup: string[] = []

  const offlineContext = (root: string): LifecycleContext => ({...testContext({root, launchctlPath: '/nonexistent/launchctl', trust}), launchctl: new OfflineLaunchctl(), offline: true})

  before(async function () {
    this.timeout(120_000)
    const made = await testIdentity()
    trust = made.trust
    launchd = await startFakeLaunchd()
    fakeLog = createFakeLog([])
    for (const version of ['1.0.0', '1.1.0', '1.2.0']) {
      const dir = `${makeRoot()}-payload`
      cleanup.push(dir, dir.replace(/-payload$/, ''))
      payloads[version] = await buildPayload({dir, name: NAME, label: LABEL, version, identity: made.identity, etc: {'thed.conf': `v=${version}\n`}})
    }
    // The base machine, staged offline: 1.0.0 installed, then upgraded to 1.1.0 (so the rollback slot is full).
    base = makeRoot()
    cleanup.push(base)
    const ctx = offlineContext(base)
    assert.equal((await lifecycle.install(ctx, payloads['1.0.0']!)).exitCode, ExitCode.ok)
    assert.equal((await lifecycle.upgrade(ctx, payloads['1.1.0']!)).exitCode, ExitCode.ok)
  })
  after(async () => {
    await launchd?.stop()
    fakeLog?.remove()
    for (const path of cleanup) rmSync(path, {recursive: true, force: true})
  })

  /** A copy of the base machine for one case. */
  function machine(): {root: string; layout: PrefixLayout; decoy: string} {
    const root = makeRoot()
    cleanup.push(root, `${root}-decoy`)
    rmSync(root, {recursive: true})
    cpSync(base, root, {recursive: true, verbatimSymlinks: true, preserveTimestamps: true})
    writeFileSync(`${root}-decoy`, '{"schemaVersion": 1, "daemons": []}\n')
    return {root, layout: new PrefixLayout({name: NAME, label: LABEL, root}), decoy: `${root}-decoy`}
  }

  for (const id of RECORDS) {
    for (const kind of DAMAGES) {
      for (const command of COMMANDS) {
        it(`${id}, ${kind}: ${command}`, async () => {
          const {root, layout, decoy} = machine()
          const path = recordPath(id, layout, root)
          const expectAside = damage(path, kind, decoy)
          const decoyBefore = readFileSync(decoy, 'utf8')
          const ctx = offlineContext(root)

          if (command === 'status' || command === 'doctor') {
            const before = snapshotTree(root)
            const launchctl = new LaunchctlAdapter({executable: launchd.launchctlPath})
            if (command === 'status') {
              const {rc, out} = await statusOf(root, launchctl)
              // The rollback slot is rollback's business; status reports the live records.
              assert.equal(rc, id === 'slot receipt' ? ExitCode.ok : ExitCode.badInput, out)
              if (id !== 'slot receipt') {
                assert.ok(out.includes(path), `status names ${path}: ${out}`)
                // Under --root the advice acts on the same image, never on the Mac the admin sits at.
                assert.ok(out.includes(`sudo esdctl install --root ${root} PAYLOAD`), out)
                assert.doesNotMatch(out, /sudo esdctl start/)
              }
            } else {
              try {
                const report = await doctorReport({launchctl, log: new UnifiedLogAdapter({executable: fakeLog.logPath}), root, name: NAME, platform: 'linux', verify: {trust}})
                if (id === 'registry') {
                  // The registry's damage is reported first; the daemon is still found (from its install record) and checked.
                  assert.equal(report.registry?.id, 'registry.damaged')
                  assert.equal(report.registry.severity, 'error')
                  assert.ok(report.registry.message.includes(path), report.registry.message)
                  assert.ok(report.registry.fix?.includes(`sudo esdctl install --root ${root} PAYLOAD`), report.registry.fix)
                  assert.deepEqual(report.daemons.map((d) => d.name), [NAME])
                  assert.ok(report.daemons[0]!.checks.some((c) => c.id === 'record.ok'))
                  assert.equal(report.ok, false)
                } else {
                  const check = report.daemons[0]!.checks.find((c) => c.id === (id === 'receipt' ? 'record.unreadable' : 'record.slot-damaged'))
                  assert.ok(check, JSON.stringify(report.daemons[0]!.checks.map((c) => c.id)))
                  assert.equal(check.severity, 'error')
                  assert.ok(check.message.includes(path), check.message)
                  assert.equal(report.ok, false)
                }
              } catch (e) {
                if (!isRecordDamaged(e)) throw e
                assert.equal(id, 'registry')
                assert.ok(e.message.includes(path) && e.message.includes(`sudo esdctl install --root ${root} PAYLOAD`), e.message)
              }
            }
            assert.deepEqual(snapshotTree(root), before, 'status and doctor change nothing')
            assert.equal(readFileSync(decoy, 'utf8'), decoyBefore)
            return
          }

          const run = {
            install: () => lifecycle.install(ctx, payloads['1.2.0']!),
            upgrade: () => lifecycle.upgrade(ctx, payloads['1.2.0']!),
            uninstall: () => lifecycle.uninstall(ctx, NAME),
            rollback: () => lifecycle.rollback(ctx, NAME),
          }[command]
          const r = await outcome(run)
          // Everything is on disk, so every record can be rebuilt and the command does its work.
          assert.equal(r.exitCode, ExitCode.ok, r.message)
          assert.ok(r.recovered?.includes(`${path} was damaged`), `the result says what was repaired: ${r.recovered}`)
          assert.match(r.recovered!, /moved aside to .*\.damaged-\d{8}T\d{6}Z/)
          const aside = asideOf(path)
          // Uninstall removes esdctl's state directory with the daemon; the registry's copy stays.
          if (aside !== undefined) expectAside(aside)
          else assert.ok(command === 'uninstall' && id !== 'registry', `${path} was moved aside`)
          assert.equal(readFileSync(decoy, 'utf8'), decoyBefore, 'the link target was never written')

          const record = await inspectInstallRecordAt(layout.receipt)
          const registry = await inspectRegistry(root)
          if (command === 'uninstall') {
            assert.equal(record.state, 'absent')
            assert.equal(registry.state, 'absent')
          } else {
            assert.equal(record.state, 'ok')
            assert.equal(record.state === 'ok' && record.value.version, command === 'rollback' ? '1.0.0' : '1.2.0')
            assert.deepEqual(registry.state === 'ok' && registry.value.map((e) => e.name), [NAME])
          }
        })
      }
    }
  }

  describe('what cannot be rebuilt: exit 4 naming the file and the recovering command; nothing changes, the record stays in place', () => {
    it('a damaged receipt with the launchd plist gone: upgrade and rollback exit 4; install then recovers', async () => {
      const {root, layout, decoy} = machine()
      rmSync(layout.launchdPlist)
      damage(layout.receipt, 'garbage', decoy)
      for (const command of ['upgrade', 'rollback'] as const) {
        const before = snapshotTree(root)
        const r = await outcome(() => (command === 'upgrade' ? lifecycle.upgrade(offlineContext(root), payloads['1.2.0']!) : lifecycle.rollback(offlineContext(root), NAME)))
        assert.equal(r.exitCode, ExitCode.badInput, r.message)
        assert.ok(r.message.includes(layout.receipt), r.message)
        assert.match(r.message, /cannot be rebuilt from disk: .*\.plist is missing .*It was left in place and nothing was changed/)
        assert.ok(r.message.includes(`sudo esdctl install --root ${root} PAYLOAD`), r.message)
        // Refused before the move aside: a refusal that moved the record would leave the next run another problem (a reinstall loop).
        assert.equal(asideOf(layout.receipt), undefined)
        assert.deepEqual(snapshotTree(root), before, command)
      }
      const again = await outcome(() => lifecycle.install(offlineContext(root), payloads['1.2.0']!))
      assert.equal(again.exitCode, ExitCode.ok, again.message)
      const record = await inspectInstallRecordAt(layout.receipt)
      assert.equal(record.state === 'ok' && record.value.version, '1.2.0')
    })

    it("a damaged slot receipt with the slot's bundle gone: rollback exits 4 naming it; upgrade goes ahead", async () => {
      const {root, layout, decoy} = machine()
      rmSync(join(layout.rollbackSlot, `${NAME}.app`), {recursive: true})
      damage(layout.slotReceipt, 'truncated', decoy)
      const r = await outcome(() => lifecycle.rollback(offlineContext(root), NAME))
      assert.equal(r.exitCode, ExitCode.badInput, r.message)
      assert.ok(r.message.includes(layout.slotReceipt), r.message)
      assert.ok(r.message.includes(`no previous version to roll back to until the next \`sudo esdctl upgrade --root ${root} PAYLOAD\``), r.message)
      assert.equal(asideOf(layout.slotReceipt), undefined)
      assert.ok(existsSync(layout.slotReceipt))
      const up = await outcome(() => lifecycle.upgrade(offlineContext(root), payloads['1.2.0']!))
      assert.equal(up.exitCode, ExitCode.ok, up.message)
    })

    for (const [id, kind] of [['receipt', 'truncated'], ['receipt', 'garbage'], ['receipt', 'wrong shape'], ['registry', 'truncated']] as const) {
      it(`Munki, ${id} ${kind}: the check asks for an install once; the install repairs the record and the next check says installed`, async () => {
        const {root, layout, decoy} = machine()
        damage(recordPath(id, layout, root), kind, decoy)
        const first = await munkiInstallCheck({root, name: NAME, expectVersion: '1.1.0'})
        assert.equal(first.exitCode, MUNKI_INSTALL_NEEDED, first.message)
        const repaired = await outcome(() => lifecycle.install(offlineContext(root), payloads['1.1.0']!))
        assert.equal(repaired.exitCode, ExitCode.ok, repaired.message)
        const next = await munkiInstallCheck({root, name: NAME, expectVersion: '1.1.0'})
        assert.deepEqual(next, {exitCode: MUNKI_INSTALLED, message: `${NAME} 1.1.0 is installed; nothing to install`})
      })
    }

    it('a dry run reports the damage (exit 4) and moves nothing', async () => {
      const {root, layout, decoy} = machine()
      damage(layout.receipt, 'empty', decoy)
      const before = snapshotTree(root)
      const r = await outcome(() => lifecycle.upgrade(offlineContext(root), payloads['1.2.0']!, {dryRun: true}))
      assert.equal(r.exitCode, ExitCode.badInput, r.message)
      assert.match(r.message, /receipt\.json is damaged \(it is empty\); a run without --dry-run moves it aside/)
      assert.deepEqual(snapshotTree(root), before)
    })

    it('registry and receipt both damaged: the label is found from the launchd plist and both are rebuilt', async () => {
      const {root, layout, decoy} = machine()
      damage(layout.receipt, 'wrong shape', decoy)
      damage(new ToolPaths(root).registry, 'directory', decoy)
      const r = await outcome(() => lifecycle.rollback(offlineContext(root), NAME))
      assert.equal(r.exitCode, ExitCode.ok, r.message)
      const record = await inspectInstallRecordAt(layout.receipt)
      assert.equal(record.state === 'ok' && record.value.version, '1.0.0')
      assert.equal((await inspectRegistry(root)).state, 'ok')
    })
  })
})
