import assert from 'node:assert/strict'
import {cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync} from 'node:fs'
import {join} from 'node:path'
import * as lifecycle from '../../src/lifecycle/index.js'
import {recoverWithStart} from '../support/lifecycle-assertions.js'
import {PrefixLayout} from '../../src/layout/prefix-layout.js'
import type {LifecycleContext} from '../../src/lifecycle/context.js'
import type {TrustStore} from '../../src/trust/trust-store.js'
import {startFakeLaunchd, type FakeLaunchd} from '../doubles/fake-launchd/fake-launchd.js'
import {buildPayload, makeRoot, sampleDaemonPrograms, testContext, testIdentity} from '../support/lifecycle-fixture.js'
import {inspectInstalled, runRunner} from '../support/lifecycle-runs.js'
import type {RunnerConfig} from '../support/lifecycle-runner.js'
import type {TestIdentity} from '../support/test-pki.js'

const NAME = 'thed'
/** Kills run this many at a time, each in its own --root with its own label. */
const PARALLEL = 8

type Verb = 'install' | 'upgrade' | 'rollback' | 'uninstall'

interface Scenario {
  root: string
  label: string
  ctx: LifecycleContext
  layout: PrefixLayout
  /** install/upgrade: the payload; rollback/uninstall: the name. */
  target: string
}

describe('lifecycle crash safety: SIGKILL at every step boundary, then the next run recovers', function () {
  // One process per boundary, each verifying a bundle: on a shared 2-core machine a verb takes minutes,
  // and a timed-out verb would go on in the background and disturb the next one on the same launchds.
  this.timeout(900_000)
  /** One fake launchd per worker, so every scenario can use the same label and the same payloads. */
  const LABEL = 'com.example.thed.crash'
  let launchds: FakeLaunchd[] = []
  let identity: TestIdentity
  let trust: TrustStore
  const cleanup: string[] = []
  const payloads: {v1: string; v2: string} = {v1: '', v2: ''}
  /** An installed tree per starting state, copied for each scenario (the daemon is bootstrapped again in the copy). */
  const templates = new Map<Verb, string>()

  before(async () => {
    ;({identity, trust} = await testIdentity())
    launchds = await Promise.all(Array.from({length: PARALLEL}, () => startFakeLaunchd({programs: sampleDaemonPrograms([NAME])})))
    const base = makeRoot()
    cleanup.push(base)
    payloads.v1 = await buildPayload({dir: join(base, 'p1'), name: NAME, label: LABEL, version: '1.0.0', identity, etc: {'thed.conf': 'v=1\n'}})
    payloads.v2 = await buildPayload({dir: join(base, 'p2'), name: NAME, label: LABEL, version: '2.0.0', identity, etc: {'thed.conf': 'v=2\n', 'extra.conf': 'x\n'}})
    for (const verb of ['upgrade', 'rollback', 'uninstall'] as const) {
      const root = makeRoot()
      cleanup.push(root)
      const ctx = testContext({root, launchctlPath: launchds[0]!.launchctlPath, trust})
      const layout = new PrefixLayout({name: NAME, label: LABEL, root})
      assert.equal((await lifecycle.install(ctx, payloads.v1)).exitCode, 0)
      writeFileSync(join(layout.etc, 'thed.conf'), 'v=admin\n')
      mkdirSync(layout.var, {recursive: true})
      writeFileSync(join(layout.var, 'state.db'), 'precious')
      if (verb === 'rollback') assert.equal((await lifecycle.upgrade(ctx, payloads.v2)).exitCode, 0)
      await ctx.launchctl.bootout(LABEL, {waitMs: 10_000})
      templates.set(verb, root)
    }
  })
  after(async () => {
    await Promise.all(launchds.map((l) => l.stop()))
    for (const path of cleanup) rmSync(path, {recursive: true, force: true})
  })

  async function scenario(verb: Verb, launchd: FakeLaunchd): Promise<Scenario> {
    const root = makeRoot()
    cleanup.push(root)
    const template = templates.get(verb)
    if (template) cpSync(template, root, {recursive: true, preserveTimestamps: true, verbatimSymlinks: true})
    const ctx = testContext({root, launchctlPath: launchd.launchctlPath, trust})
    const layout = new PrefixLayout({name: NAME, label: LABEL, root})
    if (template) {
      await ctx.launchctl.enable(LABEL)
      await ctx.launchctl.bootstrap(layout.launchdPlist)
    }
    return {root, label: LABEL, ctx, layout, target: verb === 'install' ? payloads.v1 : verb === 'upgrade' ? payloads.v2 : NAME}
  }

  function runnerConfig(s: Scenario, verb: Verb, launchd: FakeLaunchd, extra: Partial<RunnerConfig>): Omit<RunnerConfig, 'anchors'> & {trust: TrustStore} {
    return {root: s.root, launchctlPath: launchd.launchctlPath, trust, verb, target: s.target, ...extra}
  }

  /** The next run: `start` recovers first; it then finds the daemon running (no change) or not installed. */
  const nextRun = (s: Scenario): Promise<void> => recoverWithStart(s.ctx, NAME)

  const expected: Record<Verb, {before: string | undefined; after: string | undefined}> = {
    install: {before: undefined, after: '1.0.0'},
    upgrade: {before: '1.0.0', after: '2.0.0'},
    rollback: {before: '2.0.0', after: '1.0.0'},
    uninstall: {before: '1.0.0', after: undefined},
  }

  async function killAndRecover(verb: Verb, k: number, launchd: FakeLaunchd): Promise<string> {
    const s = await scenario(verb, launchd)
    const run = await runRunner(runnerConfig(s, verb, launchd, {killAt: k}))
    assert.equal(run.signal, 'SIGKILL', `run ${verb} k=${k} was not killed: ${run.stderr} ${JSON.stringify(run.output)}`)
    await nextRun(s)
    const state = await inspectInstalled(s.ctx, s.layout)
    assert.deepEqual(state.problems, [], `${verb} killed at boundary ${k}`)
    const allowed = [expected[verb].before, expected[verb].after]
    assert.ok(allowed.includes(state.version), `${verb} killed at boundary ${k}: version ${state.version}, expected one of ${allowed.join(', ')}`)
    if (verb !== 'install') {
      assert.equal(readFileSync(join(s.layout.var, 'state.db'), 'utf8'), 'precious', `var/ intact after ${verb} k=${k}`)
      assert.equal(readFileSync(join(s.layout.etc, 'thed.conf'), 'utf8'), 'v=admin\n', `etc/ intact after ${verb} k=${k}`)
    }
    const staging = existsSync(s.layout.staging) ? readdirSync(s.layout.staging) : []
    assert.deepEqual(staging, [], `no staging left after ${verb} k=${k}`)
    // Free the label for the next scenario on this launchd.
    await s.ctx.launchctl.bootout(LABEL, {waitMs: 10_000})
    rmSync(s.root, {recursive: true, force: true})
    return state.version ?? 'gone'
  }

  for (const verb of ['install', 'upgrade', 'rollback', 'uninstall'] as const) {
    it(`${verb}: killed at each boundary k, the next run leaves exactly the old or the new version, running, etc/ and var/ intact`, async function () {
      const probe = await scenario(verb, launchds[0]!)
      const countFile = `${probe.root}-count`
      cleanup.push(countFile)
      const clean = await runRunner(runnerConfig(probe, verb, launchds[0]!, {countFile}))
      assert.equal(clean.exitCode, 0, `${verb} without a kill: ${clean.stderr} ${JSON.stringify(clean.output)}`)
      await probe.ctx.launchctl.bootout(LABEL, {waitMs: 10_000})
      const boundaries = Number(readFileSync(countFile, 'utf8'))
      assert.ok(boundaries > 10, `${verb} has ${boundaries} boundaries`)
      const outcomes = new Map<string, number>()
      const queue = Array.from({length: boundaries}, (_, i) => i + 1)
      await Promise.all(launchds.map(async (launchd) => {
        for (let k = queue.shift(); k !== undefined; k = queue.shift()) {
          const v = await killAndRecover(verb, k, launchd)
          outcomes.set(v, (outcomes.get(v) ?? 0) + 1)
        }
      }))
      // Early kills must be undone and late ones finished: both directions are exercised.
      assert.equal(outcomes.size, 2, `${verb}: outcomes ${JSON.stringify([...outcomes])}`)
    })
  }
})
