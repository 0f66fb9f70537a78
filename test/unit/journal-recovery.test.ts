import assert from 'node:assert/strict'
import {existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {LaunchctlAdapter} from '../../src/adapters/launchctl.js'
import {realProcessIdentity} from '../../src/adapters/process-identity.js'
import {RootFs} from '../../src/adapters/root-fs.js'
import {PinoAuditLog} from '../../src/audit/audit-log.js'
import {ExitCode} from '../../src/exit-codes.js'
import {PrefixLayout, ToolPaths} from '../../src/layout/prefix-layout.js'
import type {LifecycleContext} from '../../src/lifecycle/context.js'
import {esdctlVersion} from '../../src/lifecycle/esdctl-version.js'
import {isLifecycleError, type LifecycleError} from '../../src/lifecycle/lifecycle-error.js'
import {daemonFs} from '../../src/lifecycle/preflight.js'
import type {Journal} from '../../src/lifecycle/journal.js'
import {judgeJournal, journalLinks, recoverInterrupted} from '../../src/lifecycle/session.js'
import {makeRoot} from '../support/lifecycle-fixture.js'

const NAME = 'thed'
const LABEL = 'com.example.thed'
const NOW = Date.parse('2026-01-02T03:04:05.678Z')
const ASIDE_SUFFIX = '.damaged-20260102T030405678Z'

/**
 * recoverInterrupted on journals written by hand into a fresh --root: which it refuses (and whether
 * it sets them aside or keeps them), and which it acts on. Steps left pending are checked but never
 * run, so no launchd is needed; what recovery would touch is decided before it touches anything.
 */
describe('journal recovery: what a journal may name before recovery acts on it', () => {
  let root: string
  let layout: PrefixLayout
  let tool: ToolPaths
  let ctx: LifecycleContext
  beforeEach(() => {
    root = makeRoot()
    layout = new PrefixLayout({name: NAME, label: LABEL, root})
    tool = new ToolPaths(root)
    mkdirSync(layout.stateDir, {recursive: true})
    ctx = {
      root,
      launchctl: new LaunchctlAdapter({executable: join(root, 'no-launchctl')}),
      codesign: undefined,
      fs: new RootFs(),
      identity: realProcessIdentity,
      clock: {now: () => NOW, sleep: async () => undefined},
      audit: new PinoAuditLog(),
      progress: {stepStarted: () => undefined, stepFinished: () => undefined},
    }
  })
  afterEach(() => rmSync(root, {recursive: true, force: true}))

  const journal = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
    schemaVersion: 2, esdctlVersion: esdctlVersion(), transaction: 't1', action: 'install', name: NAME, label: LABEL, phase: 'forward',
    steps: [], finish: [], abandon: [], afterAbandon: [], ...over,
  })
  const plant = (j: unknown): void => {
    mkdirSync(layout.stateDir, {recursive: true})
    writeFileSync(layout.journal, typeof j === 'string' ? j : JSON.stringify(j))
  }
  // As openSession calls it: with the file system restricted to what this daemon may change.
  const recover = (): Promise<string | undefined> => recoverInterrupted(ctx, daemonFs(ctx, layout, tool), layout, tool)
  const aside = (): string => `${layout.journal}${ASIDE_SUFFIX}`

  describe('judgeJournal: the verdict recovery and doctor share', () => {
    const judge = (fs: RootFs = daemonFs(ctx, layout, tool)) => judgeJournal(ctx, fs, layout, tool)

    it('none without a journal; recover for one this esdctl wrote for this daemon, with the file system it may touch', async () => {
      assert.deepEqual(await judge(), {kind: 'none'})
      plant(journal())
      const verdict = await judge()
      assert.equal(verdict.kind, 'recover')
      assert.equal(verdict.kind === 'recover' && verdict.journal.transaction, 't1')
    })

    it('refused, the journal kept, for another daemon\'s journal; damaged for one that is no journal', async () => {
      plant(journal({name: 'other', label: 'com.example.other'}))
      const refused = await judge()
      assert.equal(refused.kind, 'refused')
      assert.equal(refused.kind === 'refused' && refused.journal.name, 'other')
      plant('{')
      assert.equal((await judge()).kind, 'damaged')
    })

    it('an error reading the journal that is neither damage nor a refusal is thrown as it is', async () => {
      plant(journal())
      const failing = Object.assign(Object.create(RootFs.prototype) as RootFs, new RootFs())
      const io = Object.assign(new Error('EIO: i/o error'), {code: 'EIO'})
      failing.readFile = async () => { throw io }
      failing.lstat = async () => { throw io }
      await assert.rejects(judge(failing), (e: unknown) => e === io)
    })
  })

  async function refusal(): Promise<LifecycleError> {
    try {
      await recover()
    } catch (e) {
      assert.ok(isLifecycleError(e), String(e))
      return e
    }
    assert.fail('recovery went ahead')
  }
  /** The refusal of an untrusted journal: set aside, not acted on, badInput naming why. */
  async function setAside(why: string): Promise<void> {
    const before = readFileSync(layout.journal)
    const e = await refusal()
    assert.equal(e.exitCode, ExitCode.badInput)
    assert.equal(e.message, `the transaction journal ${layout.journal} is damaged or untrusted (${why}); it was moved aside to ${aside()} and not acted on, so the interrupted transaction it described was neither undone nor finished. Check the daemon with \`esdctl doctor --root ${root} ${NAME}\`, then repair it with \`sudo esdctl install --root ${root} PAYLOAD\` (the version you want) or \`sudo esdctl uninstall --root ${root} ${NAME}\``)
    assert.equal(existsSync(layout.journal), false)
    assert.deepEqual(readFileSync(aside()), before)
  }
  const untrusted = (what: string, path: string, why: string): string => `${layout.journal} names the ${what} ${JSON.stringify(path)}, which is not ${why} for ${NAME}; it is not acted on. Inspect the journal, move it aside and run again`
  const pending = (step: Record<string, unknown>): Record<string, unknown> => ({id: `s-${String(step['kind'])}`, title: 't', state: 'pending', ...step})

  it('no journal: nothing to recover', async () => {
    assert.equal(await recover(), undefined)
  })

  it('an interrupted run before its commit is undone, one after it finished; the journal is gone after either', async () => {
    plant(journal({action: 'upgrade', transaction: 'tx-9'}))
    assert.equal(await recover(), `an interrupted upgrade of ${NAME} (transaction tx-9) was undone; the state before it is restored`)
    assert.equal(existsSync(layout.journal), false)
    const scratch = join(layout.staging, 'scratch')
    mkdirSync(scratch, {recursive: true})
    plant(journal({phase: 'committed', finish: [{kind: 'remove-tree', path: scratch}]}))
    assert.equal(await recover(), `an interrupted install of ${NAME} (transaction t1) had committed; its cleanup was finished`)
    assert.equal(existsSync(scratch), false)
    assert.equal(existsSync(layout.journal), false)
  })

  it('a journal that is no journal is set aside, named with the time, and not acted on', async () => {
    plant('{"schemaVersion": 2, "steps": "')
    await setAside(`${layout.journal}: not valid JSON (${(() => {
      try {
        JSON.parse('{"schemaVersion": 2, "steps": "')
      } catch (e) {
        return (e as Error).message
      }
      return ''
    })()})`)
  })

  it('a journal too large to read is an error of its own, and stays where it is', async () => {
    plant(JSON.stringify(journal({pad: 'x'.repeat(4 * 1024 * 1024)})))
    await assert.rejects(recover(), (e: unknown) => !isLifecycleError(e) && /more than the 4194304 allowed/.test((e as Error).message))
    assert.equal(existsSync(layout.journal), true)
    assert.equal(existsSync(aside()), false)
  })

  it("another daemon's journal is refused and kept where it is; one with this name but another label is set aside", async () => {
    plant(journal({name: 'other', label: 'com.example.other'}))
    const e = await refusal()
    assert.equal(e.exitCode, ExitCode.badInput)
    assert.equal(e.message, `${layout.journal} belongs to other (com.example.other), not ${NAME} (${LABEL}); finish it with a command naming other`)
    assert.equal(existsSync(layout.journal), true)
    assert.equal(existsSync(aside()), false)
    plant(journal({name: 'other'}))
    const f = await refusal()
    assert.equal(f.message, `${layout.journal} belongs to other (${LABEL}), not ${NAME} (${LABEL}); finish it with a command naming other`)
    assert.equal(existsSync(layout.journal), true)
    plant(journal({label: 'com.example.other'}))
    await setAside(`${layout.journal} belongs to ${NAME} (com.example.other), not ${NAME} (${LABEL}); finish it with a command naming ${NAME}`)
  })

  it('a journal this esdctl cannot act on is kept untouched, naming who wrote it and what to do', async () => {
    const foreignText = 'it is in journal format 1, whose steps are names whose meaning lived in the code of the esdctl that wrote it'
    const cases: [string | undefined, string][] = [
      [undefined, 'an earlier esdctl'],
      [esdctlVersion(), `an earlier build of esdctl ${esdctlVersion()}`],
      ['0.0.1', 'esdctl 0.0.1'],
      ['99.0.0', `esdctl 99.0.0, newer than this esdctl ${esdctlVersion()},`],
    ]
    for (const [version, writer] of cases) {
      plant({schemaVersion: 1, ...(version === undefined ? {} : {esdctlVersion: version}), transaction: 'old-1', action: 'upgrade', name: NAME, label: LABEL, phase: 'undoing', steps: [{id: 'stage', state: 'done'}]})
      const before = readFileSync(layout.journal)
      const e = await refusal()
      assert.equal(e.exitCode, ExitCode.badInput)
      const by = writer.replace(/, newer than.*$/, '')
      assert.equal(e.message, `${layout.journal} was written by ${writer} for an interrupted upgrade of ${NAME} (transaction old-1, phase undoing), and this esdctl ${esdctlVersion()} cannot act on it: ${foreignText}. It is kept untouched. Finish it with ${by} (any of its commands that change ${NAME} recovers it first), then use this esdctl again; if that esdctl is gone, check the daemon with \`esdctl doctor --root ${root} ${NAME}\`, move the journal aside and repair with \`sudo esdctl install --root ${root} PAYLOAD\``)
      assert.deepEqual(readFileSync(layout.journal), before)
      assert.equal(existsSync(aside()), false)
    }
    // With no esdctl version, the format says who wrote it: a format above this esdctl's is a newer esdctl's.
    plant({schemaVersion: 99, transaction: 'new-1', action: 'install', name: NAME, label: LABEL, phase: 'forward', steps: [{id: 'x', kind: 'teleport'}]})
    const newer = await refusal()
    assert.match(newer.message, /was written by a newer esdctl for an interrupted install .* it is in journal format 99, newer than this esdctl's 2\. It is kept untouched\. Finish it with a newer esdctl \(/)
    assert.doesNotMatch(newer.message, /earlier/)
    // The same format with a step kind this esdctl lacks: another esdctl's.
    plant({schemaVersion: 2, transaction: 'new-2', action: 'install', name: NAME, label: LABEL, phase: 'forward', steps: [{id: 'x', kind: 'teleport'}]})
    assert.match((await refusal()).message, /was written by another esdctl for an interrupted install/)
    // Another daemon's foreign journal is refused for belonging elsewhere, and kept too.
    plant({schemaVersion: 1, transaction: 'old-1', action: 'upgrade', name: 'other', label: 'com.example.other', phase: 'forward', steps: [{id: 'stage', state: 'done'}]})
    assert.match((await refusal()).message, /belongs to other/)
    assert.equal(existsSync(layout.journal), true)
  })

  it("paths each step may name: the daemon's own are accepted; a path outside them, or another label, sets the journal aside", async () => {
    const steps = [
      pending({kind: 'write-plist', path: layout.launchdPlist, from: join(layout.staging, 'p.plist'), keep: join(layout.stateDir, 'kept.plist'), hadPlist: false}),
      pending({kind: 'enable', label: LABEL}),
      pending({kind: 'bootout-jobs', jobs: [{label: 'com.example.legacy', plist: join(layout.launchDaemonsDir, 'com.example.legacy.plist')}, {label: 'com.example.bare'}], waitMs: 0}),
      // A label with ".plist" inside it: only the suffix is the file name's extension.
      pending({kind: 'bootstrap-jobs', jobs: [{label: 'com.example.plist.agent', plist: join(layout.launchDaemonsDir, 'com.example.plist.agent.plist')}], waitMs: 0}),
      pending({kind: 'move', id: 'mv', moves: [{from: join(layout.launchDaemonsDir, 'com.example.legacy.plist'), to: join(layout.stateDir, 'legacy.plist')}, {from: layout.launchdPlist, to: join(layout.stateDir, 'own.plist')}], before: [], after: []}),
      pending({kind: 'links', before: [{path: join(root, 'usr', 'local', 'bin', NAME), text: null, dirExisted: false}], after: [{path: join(layout.bin, NAME), systemPath: `/opt/${NAME}/bin/${NAME}`, text: 'x'}]}),
    ]
    plant(journal({steps, finish: [{kind: 'remove-created-dirs', dirs: [join(root, 'opt'), layout.prefix, layout.stateDir]}], abandon: [{kind: 'purge-prefix', prefix: layout.prefix, keep: layout.stateDir}]}))
    assert.match((await recover()) ?? '', /was undone/)

    const refusals: [Record<string, unknown>, string][] = [
      [{steps: [pending({kind: 'remove-plist', path: join(root, 'etc', 'passwd'), saved: join(layout.stateDir, 's')})]}, untrusted('path', join(root, 'etc', 'passwd'), 'one esdctl may change')],
      [{steps: [pending({kind: 'enable', label: 'com.example.other'})]}, untrusted('launchd label', 'com.example.other', 'its label')],
      [{steps: [pending({kind: 'links', before: [{path: join(root, 'usr', 'local', 'lib', 'x'), text: null, dirExisted: true}], after: []})]}, untrusted('link', join(root, 'usr', 'local', 'lib', 'x'), 'a place esdctl writes links')],
      [{steps: [pending({kind: 'links', before: [], after: [{path: `/usr/local/bin/${NAME}`, systemPath: `/usr/local/bin/${NAME}`, text: 'x'}]})]}, untrusted('link', `/usr/local/bin/${NAME}`, 'a place esdctl writes links')],
      [{steps: [pending({kind: 'links', before: [{path: `${root}-x/usr/local/bin/${NAME}`, text: null, dirExisted: true}], after: []})]}, untrusted('link', `${root}-x/usr/local/bin/${NAME}`, 'a place esdctl writes links')],
      // Beside the root, not under it: what follows the root's name would read as the prefix-relative link bin/<file>.
      [{steps: [pending({kind: 'links', before: [{path: `${root}bin/${NAME}`, text: null, dirExisted: true}], after: []})]}, untrusted('link', `${root}bin/${NAME}`, 'a place esdctl writes links')],
      [{steps: [pending({kind: 'bootstrap-jobs', jobs: [{label: 'com.example.legacy', plist: join(root, 'etc', 'com.example.legacy.plist')}], waitMs: 0})]}, untrusted('plist', join(root, 'etc', 'com.example.legacy.plist'), 'a launchd job plist esdctl may move')],
      [{steps: [pending({kind: 'bootout-jobs', jobs: [{label: 'com.example.legacy', plist: join(layout.launchDaemonsDir, 'bad label.plist')}], waitMs: 0})]}, untrusted('plist', join(layout.launchDaemonsDir, 'bad label.plist'), 'a launchd job plist esdctl may move')],
      [{steps: [pending({kind: 'bootout-jobs', jobs: [{label: 'com.example.legacy', plist: join(layout.launchDaemonsDir, 'com.example.legacy.txt')}], waitMs: 0})]}, untrusted('plist', join(layout.launchDaemonsDir, 'com.example.legacy.txt'), 'a launchd job plist esdctl may move')],
      [{steps: [pending({kind: 'move', moves: [{from: join(layout.launchDaemonsDir, 'bad label.plist'), to: join(layout.stateDir, 'x')}], before: [], after: []})]}, untrusted('plist', join(layout.launchDaemonsDir, 'bad label.plist'), 'a launchd job plist esdctl may move')],
      [{steps: [pending({kind: 'move', moves: [{from: join(layout.stateDir, 'x'), to: join(root, 'Library', 'elsewhere.plist')}], before: [], after: []})]}, untrusted('path', join(root, 'Library', 'elsewhere.plist'), 'one esdctl may change')],
      [{finish: [{kind: 'remove-created-dirs', dirs: [join(root, 'var')]}]}, untrusted('directory', join(root, 'var'), 'one a first install creates')],
      [{finish: [{kind: 'remove-created-dirs', dirs: [join(root, 'Library', 'Launch')]}]}, untrusted('directory', join(root, 'Library', 'Launch'), 'one a first install creates')],
      [{afterAbandon: [{kind: 'remove-created-dirs', dirs: [join(root, 'op')]}]}, untrusted('directory', join(root, 'op'), 'one a first install creates')],
      [{abandon: [{kind: 'remove-tree', path: join(root, 'etc')}]}, untrusted('path', join(root, 'etc'), 'one esdctl may change')],
      [{afterAbandon: [{kind: 'purge-prefix', prefix: layout.prefix, keep: join(root, 'keep')}]}, untrusted('path', join(root, 'keep'), 'one esdctl may change')],
    ]
    for (const [over, why] of refusals) {
      plant(journal(over))
      await setAside(why)
      rmSync(aside())
    }
  })

  // Pure: recovering on the live system would write under /opt of this machine, so the link check is asked directly.
  it('on the live system (root /) a journal may name /usr/local/bin/<file>, its own system path; /usr/bin/<file> is refused', () => {
    const live = new PrefixLayout({name: NAME, label: LABEL})
    const linksJournal = (path: string): Journal => journal({steps: [pending({kind: 'links', before: [{path, text: null, dirExisted: true}], after: []})]}) as unknown as Journal
    assert.deepEqual(journalLinks(live, linksJournal(`/usr/local/bin/${NAME}`)), [{path: `/usr/local/bin/${NAME}`, systemPath: `/usr/local/bin/${NAME}`, text: ''}])
    assert.deepEqual(journalLinks(live, linksJournal(`/opt/${NAME}/bin/${NAME}`)), [{path: `/opt/${NAME}/bin/${NAME}`, systemPath: `/opt/${NAME}/bin/${NAME}`, text: ''}])
    assert.throws(() => journalLinks(live, linksJournal(`/usr/bin/${NAME}`)), (e: unknown) => isLifecycleError(e) && e.exitCode === ExitCode.badInput &&
      e.message === `${live.journal} names the link "/usr/bin/${NAME}", which is not a place esdctl writes links for ${NAME}; it is not acted on. Inspect the journal, move it aside and run again`)
  })

  it('the directories a first install created may include the ancestors of the prefix and of the plist', async () => {
    plant(journal({afterAbandon: [{kind: 'remove-created-dirs', dirs: [join(root, 'Library'), layout.launchDaemonsDir, join(root, 'opt'), layout.prefix, join(layout.prefix, 'etc')]}]}))
    assert.match((await recover()) ?? '', /was undone/)
    assert.deepEqual(readdirSync(layout.stateDir).filter((f) => f.startsWith('journal')), [])
  })

  it('a recovery that fails has the failure\'s own status, keeps the journal, and says the next run tries again', async () => {
    // Undoing the move renames b back to a, into a directory that is gone.
    const from = join(layout.prefix, 'gone', 'a')
    const to = join(layout.prefix, 'b')
    writeFileSync(to, 'x')
    plant(journal({transaction: 'tx-f', steps: [{id: 'mv', title: 't', state: 'done', kind: 'move', moves: [{from, to}], before: [], after: []}]}))
    const e = await refusal()
    // The failed rename's own status (a path that is not there is bad input), not launchd's 5, and
    // the journal is kept for the next run rather than set aside: it was trusted.
    assert.equal(e.exitCode, ExitCode.badInput)
    assert.equal(existsSync(aside()), false)
    assert.match(e.message, new RegExp(`^an interrupted install of ${NAME} \\(transaction tx-f\\) could not be recovered: .+; the journal ${layout.journal.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is kept and the next run tries again$`))
    assert.equal(existsSync(layout.journal), true)
  })
})
