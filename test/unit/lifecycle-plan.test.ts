import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {execa} from 'execa'
import {OfflineLaunchctl} from '../../src/adapters/offline-launchctl.js'
import {ExitCode} from '../../src/exit-codes.js'
import type {LifecycleContext, LifecycleResult} from '../../src/lifecycle/context.js'
import * as lifecycle from '../../src/lifecycle/index.js'
import type {Journal} from '../../src/lifecycle/journal.js'
import {PrefixLayout} from '../../src/layout/prefix-layout.js'
import {cleanupTitle} from '../../src/lifecycle/cleanup-title.js'
import {renderLifecycleText} from '../../src/render/lifecycle-text.js'
import {buildPayload, lifecycleWorlds, makeRoot, testContext, testIdentity} from '../support/lifecycle-fixture.js'
import {REPO_ROOT} from '../support/real-artifacts.js'

const NAME = 'thed'
const LAUNCHD_KINDS = ['enable', 'bootout', 'await-exit', 'bootout-jobs', 'bootstrap', 'bootstrap-jobs', 'health-check']

type Shown = {id: string; kind?: string; title: string}

/** Runs `act` with a fault hook that reads the journal the moment it opens: the plan the run is about to carry out. */
async function journaled(ctx: LifecycleContext, layout: PrefixLayout, act: (ctx: LifecycleContext) => Promise<LifecycleResult>): Promise<{result: LifecycleResult; journal: Journal}> {
  let journal: Journal | undefined
  const watching = {...ctx, faultHook: (point: string) => void (point === 'journal:opened' ? (journal = JSON.parse(readFileSync(layout.journal, 'utf8')) as Journal) : undefined)}
  const result = await act(watching)
  assert.ok(journal !== undefined, `no journal opened: ${result.message}`)
  return {result, journal}
}

const shown = (steps: readonly Shown[]): Shown[] => steps.map((s) => ({id: s.id, kind: s.kind, title: s.title}))

/** The lines a dry run prints for its plan: the numbered steps, then the finish. */
function printedPlan(dry: LifecycleResult): string[] {
  const text = renderLifecycleText({...dry, ok: true, failed: false, rc: 0, msg: dry.message, dryRun: true})
  return text.split('\n').filter((l) => /^ {2}(\d+\.|-) /.test(l)).map((l) => l.replace(/^ {2}(\d+\.|-) /, ''))
}

/** What the real run will do, read from its journal: every step's title, then every finish cleanup's. */
const journaledPlan = (journal: Journal): string[] => [...journal.steps.map((s) => s.title), ...journal.finish.map(cleanupTitle)]

/**
 * The plan is a value: the dry run returns exactly the steps (same kinds, order and titles) the
 * real run then writes into its journal, for every mutating verb; on an image under --root the
 * launchd steps, which would not run, are in neither.
 */
describe('lifecycle plans: the dry run shows the plan the real run journals', function () {
  const env = lifecycleWorlds(NAME, {labelPrefix: 'com.example.thed.plan', defaultEtc: (v) => ({'thed.conf': `v=${v}\n`})})

  it('install, upgrade, rollback and uninstall: dry-run plan = the journal\'s steps', async () => {
    const w = env.world()
    const v1 = await w.payload('1.0.0')
    const v2 = await w.payload('2.0.0')
    const verbs: [string, (ctx: LifecycleContext, dryRun: boolean) => Promise<LifecycleResult>][] = [
      ['install', (ctx, dryRun) => lifecycle.install(ctx, v1, {dryRun})],
      ['upgrade', (ctx, dryRun) => lifecycle.upgrade(ctx, v2, {dryRun})],
      ['rollback', (ctx, dryRun) => lifecycle.rollback(ctx, NAME, {dryRun})],
      ['uninstall', (ctx, dryRun) => lifecycle.uninstall(ctx, NAME, {dryRun})],
    ]
    for (const [verb, run] of verbs) {
      const dry = await run(w.ctx, true)
      assert.equal(dry.exitCode, ExitCode.ok, `${verb} dry run: ${dry.message}`)
      const {result, journal} = await journaled(w.ctx, w.layout, (ctx) => run(ctx, false))
      assert.equal(result.exitCode, ExitCode.ok, `${verb}: ${result.message}`)
      assert.deepEqual(shown(dry.plan!), shown(journal.steps), verb)
      // The finish (deleting the scratch directory with what it set aside, the retired slot among it) is part of what the dry run prints.
      assert.deepEqual(dry.finish, journal.finish.map((c) => ({kind: c.kind, title: cleanupTitle(c)})), `${verb} finish`)
      assert.ok(journal.finish.length > 0, `${verb} has a finish`)
      assert.deepEqual(printedPlan(dry), journaledPlan(journal), `${verb}: the printed plan is the journal's`)
      if (verb === 'rollback') {
        // The receipt goes back with its version (three renames); the registry entry (name, label, prefix) does not change.
        const titles = dry.plan!.map((s) => s.title)
        assert.equal(titles.filter((t) => /its receipt with it/.test(t)).length, 3, titles.join('\n'))
        assert.ok(titles.some((t) => /registry entry.*stays/.test(t)), titles.join('\n'))
        assert.match(dry.finish!.map((f) => f.title).join('\n'), new RegExp(`^Delete this run's scratch directory in ${w.layout.staging},`))
      }
      assert.ok(journal.steps.some((s) => s.kind === 'bootstrap' || s.kind === 'bootout'), `${verb} talks to launchd on a live system`)
      assert.equal(journal.schemaVersion, 2)
      if (verb === 'install') {
        // A first install has no slot, no installed version and no loaded job: the titles say so instead of promising moves.
        const titles = dry.plan!.map((s) => s.title).join('\n')
        assert.match(titles, /Create the rollback slot \(there is no older one\)/)
        assert.match(titles, /into the rollback slot: none is installed/)
        assert.match(titles, /not loaded, nothing to stop/)
        assert.doesNotMatch(titles, /Set the older rollback slot aside/)
      }
    }
  })

  it('on an image under --root, launchd steps are in neither the dry run nor the journal', async () => {
    const {identity, trust} = await testIdentity()
    const root = makeRoot()
    env.track(root)
    const payload = await buildPayload({dir: `${root}-payload`, name: NAME, label: 'com.example.thed.image', version: '1.0.0', identity})
    env.track(payload)
    const ctx: LifecycleContext = {...testContext({root, launchctlPath: '/nonexistent/launchctl', trust}), launchctl: new OfflineLaunchctl(), offline: true}
    const layout = new PrefixLayout({name: NAME, label: 'com.example.thed.image', root})
    const dry = await lifecycle.install(ctx, payload, {dryRun: true})
    const {result, journal} = await journaled(ctx, layout, (c) => lifecycle.install(c, payload))
    assert.equal(result.exitCode, ExitCode.ok, result.message)
    assert.deepEqual(shown(dry.plan!), shown(journal.steps))
    assert.deepEqual(journal.steps.filter((s) => LAUNCHD_KINDS.includes(s.kind)), [])
    assert.ok(journal.steps.some((s) => s.kind === 'write-plist'))
  })

  it('esdctl uninstall --dry-run --json includes the plan, each step with its kind', async function () {
    this.timeout(60_000)
    const {identity, trust} = await testIdentity()
    const root = makeRoot()
    env.track(root)
    const payload = await buildPayload({dir: `${root}-payload`, name: 'esdd', label: 'com.example.esdd', version: '1.0.0', identity})
    env.track(payload)
    const ctx: LifecycleContext = {...testContext({root, launchctlPath: '/nonexistent/launchctl', trust}), launchctl: new OfflineLaunchctl(), offline: true}
    assert.equal((await lifecycle.install(ctx, payload)).exitCode, ExitCode.ok)
    const r = await execa(process.execPath, [join(REPO_ROOT, 'bin', 'run.js'), 'uninstall', '--root', root, '--dry-run', '--json', 'esdd'], {reject: false, env: {NODE_OPTIONS: '', NODE_PATH: ''}})
    assert.equal(r.exitCode, 0, r.stdout + r.stderr)
    const out = JSON.parse(r.stdout) as {plan: Shown[]; finish: {kind: string; title: string}[]}
    assert.deepEqual(out.plan.map((s) => s.kind), ['move', 'remove-plist', 'links', 'move', 'registry'])
    assert.deepEqual(out.finish.map((s) => s.kind), ['remove-tree', 'remove-empty-dir'])
    const text = await execa(process.execPath, [join(REPO_ROOT, 'bin', 'run.js'), 'uninstall', '--root', root, '--dry-run', '--purge', 'esdd'], {reject: false, env: {NODE_OPTIONS: '', NODE_PATH: ''}})
    assert.equal(text.exitCode, 0, text.stdout + text.stderr)
    assert.match(text.stdout, /Then, once every step is done:\n {2}- Delete everything in \S+\/opt\/esdd \(etc\/ and var\/ included\)/)
    assert.deepEqual(out.plan.map((s) => s.id), ['prepare', 'remove-plist', 'remove-links', 'park', 'registry'])
  })
})
