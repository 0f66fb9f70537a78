import assert from 'node:assert/strict'
import {existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {OfflineLaunchctl} from '../../src/adapters/offline-launchctl.js'
import {ExitCode} from '../../src/exit-codes.js'
import type {LifecycleContext} from '../../src/lifecycle/context.js'
import * as lifecycle from '../../src/lifecycle/index.js'
import {PrefixLayout} from '../../src/layout/prefix-layout.js'
import {buildPayload, makeRoot, snapshotTree, testContext, testIdentity} from '../support/lifecycle-fixture.js'

const NAME = 'thed'
const LABEL = 'com.example.thed.journal'

/**
 * The journal drives recovery as root, so it is input like any other: a damaged one, or one that
 * names a path esdctl never writes for this daemon, is set aside and refused as bad input (exit 4)
 * naming the file and how to repair; one from a newer esdctl with steps this one lacks is refused
 * and kept. Never a crash (exit 1), and nothing outside the journal changes.
 */
describe('lifecycle: a damaged or foreign transaction journal', function () {
  const paths: string[] = []
  let ctx: LifecycleContext
  let root: string
  let layout: PrefixLayout

  before(async () => {
    const {identity, trust} = await testIdentity()
    root = makeRoot()
    paths.push(root)
    const payload = await buildPayload({dir: `${root}-payload`, name: NAME, label: LABEL, version: '1.0.0', identity})
    paths.push(payload)
    ctx = {...testContext({root, launchctlPath: '/nonexistent/launchctl', trust}), launchctl: new OfflineLaunchctl(), offline: true}
    layout = new PrefixLayout({name: NAME, label: LABEL, root})
    assert.equal((await lifecycle.install(ctx, payload)).exitCode, ExitCode.ok)
  })
  after(() => {
    for (const p of paths) rmSync(p, {recursive: true, force: true})
  })

  /** A journal in this esdctl's format (2): an uninstall interrupted after its first step. */
  function journalWith(over: Record<string, unknown>): string {
    const work = join(layout.staging, 't')
    return JSON.stringify({
      schemaVersion: 2, esdctlVersion: '0.1.0', transaction: 't', action: 'uninstall', name: NAME, label: LABEL, phase: 'forward',
      steps: [{kind: 'move', id: 'prepare', title: 'Prepare the parking area', moves: [], before: [{path: join(work, 'parked'), mode: 0o700, removeOnUndo: false}], after: [], state: 'done'}],
      finish: [], abandon: [{kind: 'remove-tree', path: work}], afterAbandon: [],
      ...over,
    })
  }

  async function refusal(): Promise<lifecycle.LifecycleError> {
    const e = await lifecycle.uninstall(ctx, NAME).then(() => undefined, (err: unknown) => err)
    assert.ok(e instanceof lifecycle.LifecycleError, `expected a refusal, got ${String(e)}`)
    return e
  }

  const asides = (): string[] => readdirSync(layout.stateDir).filter((f) => f.startsWith('journal.json.damaged-'))

  it('a pending journal: --dry-run refuses to plan from the half-changed state and says how to recover; the journal is untouched', async () => {
    const text = journalWith({})
    writeFileSync(layout.journal, text, {mode: 0o600})
    for (const dry of [() => lifecycle.uninstall(ctx, NAME, {dryRun: true}), () => lifecycle.rollback(ctx, NAME, {dryRun: true})]) {
      const e = await dry().then(() => undefined, (err: unknown) => err)
      assert.ok(e instanceof lifecycle.LifecycleError, `expected a refusal, got ${JSON.stringify(e)}`)
      assert.equal(e.exitCode, ExitCode.badInput)
      assert.match(e.message, /an interrupted uninstall of thed \(transaction t\) is pending in .*journal\.json; a run first undoes it.*--dry-run cannot plan it yet/)
      assert.ok(e.message.includes(`sudo esdctl install --root ${root} PAYLOAD`), e.message)
    }
    assert.equal(readFileSync(layout.journal, 'utf8'), text)
    assert.equal(asides().length, 0)
    rmSync(layout.journal)
  })

  for (const [what, text] of [
    ['bytes that are not JSON', '{"schemaVersion": 1, "transac'],
    ['JSON that is not a journal', '{"schemaVersion": 1, "steps": "all of them"}'],
  ] as const) {
    it(`${what}: moved aside as journal.json.damaged-<time>, exit 4 naming it and the repair commands`, async () => {
      writeFileSync(layout.journal, text, {mode: 0o600})
      const before = snapshotTree(join(root, 'opt', NAME, `${NAME}.app`))
      const e = await refusal()
      assert.equal(e.exitCode, ExitCode.badInput)
      assert.ok(e.message.includes(layout.journal), e.message)
      assert.match(e.message, /moved aside to .*journal\.json\.damaged-\d{8}T\d+Z/)
      assert.ok(e.message.includes(`esdctl doctor --root ${root} thed`) && e.message.includes(`sudo esdctl install --root ${root} PAYLOAD`), e.message)
      assert.ok(!existsSync(layout.journal))
      assert.equal(asides().length, 1)
      assert.equal(readFileSync(join(layout.stateDir, asides()[0]!), 'utf8'), text)
      assert.deepEqual(snapshotTree(join(root, 'opt', NAME, `${NAME}.app`)), before)
      rmSync(join(layout.stateDir, asides()[0]!))
    })
  }

  it('a journal naming a link outside what esdctl writes for this daemon is not acted on: set aside, exit 4', async () => {
    const victim = join(root, 'etc-victim')
    writeFileSync(victim, 'system file')
    writeFileSync(layout.journal, journalWith({steps: [{kind: 'links', id: 'remove-links', title: 'Remove the links esdctl maintains', before: [{path: victim, text: null, dirExisted: true}], after: [], state: 'started'}]}), {mode: 0o600})
    const e = await refusal()
    assert.equal(e.exitCode, ExitCode.badInput)
    assert.match(e.message, /names the link .*etc-victim.*not a place esdctl writes links/)
    assert.equal(readFileSync(victim, 'utf8'), 'system file')
    assert.equal(asides().length, 1)
    rmSync(join(layout.stateDir, asides()[0]!))
  })

  it('a journal from a newer esdctl with steps this one lacks is refused (exit 4) and kept for that esdctl', async () => {
    const text = journalWith({esdctlVersion: '99.0.0', steps: [{kind: 'teleport', id: 'teleport-daemon', title: 'Teleport', state: 'started'}]})
    writeFileSync(layout.journal, text, {mode: 0o600})
    const e = await refusal()
    assert.equal(e.exitCode, ExitCode.badInput)
    assert.match(e.message, /written by esdctl 99\.0\.0, newer than this esdctl .* names step kinds this esdctl does not have \(teleport\)/)
    assert.equal(readFileSync(layout.journal, 'utf8'), text)
    rmSync(layout.journal)
  })

  it('a journal in the earlier format 1 (steps as bare ids, written by this very version before plans were data) is refused (exit 4) and kept, naming the file, its writer and what to do', async () => {
    const text = JSON.stringify({schemaVersion: 1, esdctlVersion: '0.1.0', transaction: 't', action: 'uninstall', name: NAME, label: LABEL, phase: 'forward', steps: [{id: 'prepare', state: 'done'}, {id: 'bootout-old', state: 'started'}], data: {work: join(layout.staging, 't')}})
    writeFileSync(layout.journal, text, {mode: 0o600})
    const before = snapshotTree(join(root, 'opt', NAME, `${NAME}.app`))
    const e = await refusal()
    assert.equal(e.exitCode, ExitCode.badInput)
    assert.ok(e.message.includes(layout.journal), e.message)
    assert.match(e.message, /written by an earlier build of esdctl 0\.1\.0 for an interrupted uninstall of thed .* journal format 1/)
    assert.match(e.message, /kept untouched\. Finish it with an earlier build of esdctl 0\.1\.0 .*esdctl doctor --root .* thed.*sudo esdctl install --root .* PAYLOAD/)
    assert.equal(readFileSync(layout.journal, 'utf8'), text)
    assert.equal(asides().length, 0)
    assert.deepEqual(snapshotTree(join(root, 'opt', NAME, `${NAME}.app`)), before)
    const {checkJournal} = await import('../../src/doctor/check-journal.js')
    const [seen] = await checkJournal(layout)
    assert.equal(seen?.id, 'journal.foreign')
    assert.equal(seen?.severity, 'error', 'every mutating command refuses until it is dealt with')
    assert.match(seen?.message ?? '', /written by an earlier build of esdctl 0\.1\.0, which this esdctl cannot finish or undo: it is in journal format 1/)
    rmSync(layout.journal)
  })

  it('a journal whose step would move a file outside what esdctl may change is set aside (exit 4), the file untouched', async () => {
    const victim = join(root, 'victim.conf')
    writeFileSync(victim, 'keep me')
    writeFileSync(layout.journal, journalWith({steps: [{kind: 'move', id: 'park', title: 'Park', moves: [{from: victim, to: join(layout.staging, 't', 'victim')}], before: [], after: [], state: 'done'}]}), {mode: 0o600})
    // doctor judges it as the run will: set aside unread, never "undone first".
    const {checkJournal} = await import('../../src/doctor/check-journal.js')
    const {readInstallRecordAt} = await import('../../src/records/install-record.js')
    const record = await readInstallRecordAt(layout.receipt)
    const [seen] = await checkJournal(layout, record)
    assert.equal(seen?.id, 'journal.damaged')
    assert.equal(seen?.severity, 'error')
    assert.match(seen?.message ?? '', /damaged or untrusted \(.*victim\.conf.*\); the next esdctl command that changes thed moves it aside .* neither finished nor undone/)
    const e = await refusal()
    assert.equal(e.exitCode, ExitCode.badInput)
    assert.match(e.message, /names the path .*victim\.conf.*not one esdctl may change/)
    assert.equal(readFileSync(victim, 'utf8'), 'keep me')
    assert.equal(asides().length, 1)
    // Moved aside: doctor names it until an install repairs the daemon, then keeps it as a note.
    const aside = join(layout.stateDir, asides()[0]!)
    assert.deepEqual((await checkJournal(layout, record)).map((c) => [c.id, c.path, c.outcome, c.severity]), [['journal.set-aside', aside, 'failed', 'warning']])
    const later = {...record!, installedAt: new Date(Date.now() + 60_000).toISOString()}
    assert.deepEqual((await checkJournal(layout, later)).map((c) => [c.id, c.outcome]), [['journal.set-aside', 'passed']])
    rmSync(join(layout.stateDir, asides()[0]!))
  })

  it('another daemon\'s journal in this prefix is refused and kept; doctor says so instead of "it undoes the transaction first"', async () => {
    const text = journalWith({name: 'other', label: 'com.example.other'})
    writeFileSync(layout.journal, text, {mode: 0o600})
    const {checkJournal} = await import('../../src/doctor/check-journal.js')
    const [seen] = await checkJournal(layout)
    assert.equal(seen?.id, 'journal.foreign')
    assert.equal(seen?.severity, 'error')
    assert.match(seen?.message ?? '', /belongs to other \(com\.example\.other\), not thed/)
    assert.doesNotMatch(seen?.fix ?? '', /undoes the transaction/)
    const e = await refusal()
    assert.equal(e.exitCode, ExitCode.badInput)
    assert.match(e.message, /belongs to other \(com\.example\.other\), not thed/)
    assert.equal(readFileSync(layout.journal, 'utf8'), text)
    assert.equal(asides().length, 0)
    rmSync(layout.journal)
  })

  it('a recovery that fails outside launchd is not reported as launchd failing (5): its own status, the journal kept', async () => {
    // Undoing this move must rename back into a directory that is now a file: the file system refuses (ENOTDIR).
    mkdirSync(layout.var, {recursive: true})
    const blocked = join(layout.var, 'blocked')
    writeFileSync(blocked, 'not a directory')
    const parked = join(layout.staging, 't', 'parked-module')
    mkdirSync(parked, {recursive: true})
    const text = journalWith({steps: [{kind: 'move', id: 'park', title: 'Park', moves: [{from: join(blocked, 'm.so'), to: parked}], before: [], after: [], state: 'done'}]})
    writeFileSync(layout.journal, text, {mode: 0o600})
    const e = await refusal()
    assert.notEqual(e.exitCode, ExitCode.launchdFailed, e.message)
    assert.equal(e.exitCode, ExitCode.badInput, e.message)
    assert.match(e.message, /could not be recovered: .*ENOTDIR.*the journal .* is kept/)
    assert.ok(existsSync(layout.journal))
    rmSync(layout.journal)
    rmSync(blocked)
    rmSync(join(layout.staging, 't'), {recursive: true, force: true})
  })

  it('journals this esdctl writes carry its version', async () => {
    const {esdctlVersion} = await import('../../src/lifecycle/esdctl-version.js')
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {version: string}
    assert.equal(esdctlVersion(), pkg.version)
    let written: {esdctlVersion?: string} | undefined
    const watching = {...ctx, faultHook: (point: string) => void (point === 'journal:opened' ? (written = JSON.parse(readFileSync(layout.journal, 'utf8')) as {esdctlVersion?: string}) : undefined)}
    assert.equal((await lifecycle.uninstall(watching, NAME)).exitCode, ExitCode.ok)
    assert.equal(written?.esdctlVersion, pkg.version)
    const {parseJournal} = await import('../../src/lifecycle/journal.js')
    assert.throws(() => parseJournal(Buffer.from(journalWith({esdctlVersion: 7})), 'j'), /not an esdctl transaction journal/)
  })
})
