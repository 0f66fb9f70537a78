import assert from 'node:assert/strict'
import {cpSync, existsSync, readdirSync, readFileSync, readlinkSync, rmSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {OfflineLaunchctl} from '../../src/adapters/offline-launchctl.js'
import type {LifecycleContext} from '../../src/lifecycle/context.js'
import * as lifecycle from '../../src/lifecycle/index.js'
import {openSession} from '../../src/lifecycle/session.js'
import {PrefixLayout} from '../../src/layout/prefix-layout.js'
import type {TrustStore} from '../../src/trust/trust-store.js'
import {makeRoot, snapshotTree, testContext} from '../support/lifecycle-fixture.js'
import {OSQUERY, OSQUERY_V1_LINKS, OSQUERY_V2_LINKS, osqueryPayload} from '../support/lifecycle-osquery.js'
import {runRunner} from '../support/lifecycle-runs.js'
import {createTestPki} from '../support/test-pki.js'

type Verb = 'install' | 'upgrade' | 'rollback' | 'uninstall'
/** Kills run this many at a time, each in its own image. */
const PARALLEL = 4

/**
 * Crash safety for links outside the prefix: an osquery-shaped daemon whose versions maintain
 * different links in /usr/local/bin and keep the bundle in different places (5.12.1 at the default
 * osquery.app, 5.13.0 at lib/osquery.app), staged offline (upgrade drops /usr/local/bin/osqueryctl
 * and re-points the rest at lib/; rollback restores 5.12.1's links, pointing at osquery.app again;
 * uninstall removes every link). Killed at every step boundary, the next run's recovery leaves
 * exactly the links, bundle and record of the old state or of the new one, and no link dangles.
 */
describe('lifecycle crash safety with links in /usr/local/bin (osquery layout, offline image)', function () {
  // One process per boundary, each verifying a bundle: minutes on a shared 2-core machine.
  this.timeout(900_000)
  const cleanup: string[] = []
  let trust: TrustStore
  const payloads = {v1: '', v2: ''}
  /** The state before and after each verb, as snapshots of the image. */
  const states = new Map<Verb, {template?: string; before: Snapshot; after: Snapshot}>()

  type Snapshot = {usr: Record<string, string>; bin: Record<string, string>; version: string | undefined; dangling: string[]}

  function offlineCtx(root: string): LifecycleContext {
    return {...testContext({root, launchctlPath: '/nonexistent/launchctl', trust}), launchctl: new OfflineLaunchctl(), offline: true}
  }

  function layoutAt(root: string): PrefixLayout {
    return new PrefixLayout({name: OSQUERY.name, label: OSQUERY.bundleId, root})
  }

  function snapshot(root: string): Snapshot {
    const layout = layoutAt(root)
    // /usr/local/bin, once esdctl created it for a link, is a standard place that stays (only links count here).
    const usr = Object.fromEntries(Object.entries(existsSync(join(root, 'usr')) ? snapshotTree(join(root, 'usr')) : {}).filter(([, v]) => !v.startsWith('dir ')))
    const bin = existsSync(layout.bin) ? snapshotTree(layout.bin) : {}
    const version = existsSync(layout.receipt) ? (JSON.parse(readFileSync(layout.receipt, 'utf8')) as {version: string}).version : undefined
    // Links whose target is missing, resolved as the booted image would (absolute texts under root).
    const isLink = ([, v]: [string, string]): boolean => v.startsWith('link ')
    const links = [...Object.entries(bin).filter(isLink).map(([k]) => join(layout.bin, k)), ...Object.entries(usr).filter(isLink).map(([k]) => join(root, 'usr', k))]
    const dangling = links.filter((path) => {
      const text = readlinkSync(path)
      return !existsSync(text.startsWith('/') ? join(root, text) : join(dirname(path), text))
    })
    return {usr, bin, version, dangling}
  }

  function copyOf(template: string | undefined): string {
    const root = makeRoot()
    cleanup.push(root)
    if (template) cpSync(template, root, {recursive: true, verbatimSymlinks: true})
    return root
  }

  async function run(verb: Verb, root: string): Promise<void> {
    const ctx = offlineCtx(root)
    const r = verb === 'install' ? await lifecycle.install(ctx, payloads.v1) : verb === 'upgrade' ? await lifecycle.upgrade(ctx, payloads.v2) : verb === 'rollback' ? await lifecycle.rollback(ctx, OSQUERY.name) : await lifecycle.uninstall(ctx, OSQUERY.name)
    assert.equal(r.exitCode, 0, r.message)
  }

  before(async () => {
    const pki = await createTestPki()
    const identity = await pki.developerId(OSQUERY.teamId)
    trust = pki.trust
    const base = makeRoot()
    cleanup.push(base)
    payloads.v1 = await osqueryPayload(join(base, 'v1'), '5.12.1', OSQUERY_V1_LINKS, identity, trust, null)
    payloads.v2 = await osqueryPayload(join(base, 'v2'), '5.13.0', OSQUERY_V2_LINKS, identity, trust, OSQUERY.bundle)
    let template: string | undefined
    for (const verb of ['install', 'upgrade', 'rollback', 'uninstall'] as const) {
      const root = copyOf(template)
      const before = snapshot(root)
      await run(verb, root)
      const after = snapshot(root)
      assert.deepEqual(after.dangling, [], `${verb} leaves no link dangling`)
      states.set(verb, {...(template ? {template} : {}), before, after})
      template = root
    }
    // The layouts differ where the links point: rollback had to re-point bin/osqueryd, not just keep it.
    assert.notDeepEqual(states.get('upgrade')!.after.bin, states.get('rollback')!.after.bin)
  })
  after(() => {
    for (const path of cleanup) rmSync(path, {recursive: true, force: true})
  })

  // install runs the same links step as upgrade (written, removed, put back); rollback plans its
  // links from the restored version's record, across the bundle's move. The general crash matrix
  // (lifecycle-crash.test.ts) covers every verb's other steps.
  for (const verb of ['upgrade', 'rollback', 'uninstall'] as const) {
    it(`${verb}: killed at each boundary, recovery leaves exactly the old or the new links and version`, async function () {
      const state = states.get(verb)!
      assert.notDeepEqual(state.before, state.after, `${verb} changes something`)
      const probe = copyOf(state.template)
      const countFile = `${probe}-count`
      cleanup.push(countFile)
      const target = verb === 'upgrade' ? payloads.v2 : OSQUERY.name
      const clean = await runRunner({root: probe, launchctlPath: '/nonexistent/launchctl', offline: true, trust, verb, target, countFile})
      assert.equal(clean.exitCode, 0, `${verb} without a kill: ${clean.stderr} ${JSON.stringify(clean.output)}`)
      const boundaries = Number(readFileSync(countFile, 'utf8'))
      assert.ok(boundaries > 10, `${verb} has ${boundaries} boundaries`)
      const outcomes = new Set<string>()
      const queue = Array.from({length: boundaries}, (_, i) => i + 1)
      await Promise.all(Array.from({length: PARALLEL}, async () => {
      for (let k = queue.shift(); k !== undefined; k = queue.shift()) {
        const root = copyOf(state.template)
        const killed = await runRunner({root, launchctlPath: '/nonexistent/launchctl', offline: true, trust, verb, target, killAt: k})
        assert.equal(killed.signal, 'SIGKILL', `${verb} k=${k} was not killed: ${killed.stderr}`)
        const layout = layoutAt(root)
        const session = await openSession(offlineCtx(root), 'recover', layout, {links: [...layoutAt(root).with({bundle: OSQUERY.bundle, links: []}).links]})
        await session.release()
        const now = snapshot(root)
        const which = JSON.stringify(now) === JSON.stringify(state.before) ? 'before' : JSON.stringify(now) === JSON.stringify(state.after) ? 'after' : undefined
        assert.ok(which !== undefined, `${verb} killed at boundary ${k}: ${JSON.stringify(now)} is neither ${JSON.stringify(state.before)} nor ${JSON.stringify(state.after)}`)
        outcomes.add(which)
        assert.ok(!existsSync(layout.journal), `${verb} k=${k}: journal cleared`)
        assert.deepEqual(existsSync(layout.staging) ? readdirSync(layout.staging) : [], [], `${verb} k=${k}: no staging left`)
        rmSync(root, {recursive: true, force: true})
      }
      }))
      assert.equal(outcomes.size, 2, `${verb}: outcomes ${[...outcomes].join(', ')}`)
    })
  }
})
