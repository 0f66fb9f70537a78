import assert from 'node:assert/strict'
import {chmodSync, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import * as plist from 'plist'
import {recoverWithStart} from '../support/lifecycle-assertions.js'
import {PrefixLayout} from '../../src/layout/prefix-layout.js'
import type {LifecycleContext} from '../../src/lifecycle/context.js'
import type {TrustStore} from '../../src/trust/trust-store.js'
import {SAMPLE_DAEMON} from '../doubles/fake-launchd/daemon-plist.js'
import {startFakeLaunchd, type FakeLaunchd} from '../doubles/fake-launchd/fake-launchd.js'
import {buildPayload, makeRoot, sampleDaemonPrograms, testContext, testIdentity} from '../support/lifecycle-fixture.js'
import {inspectInstalled, runRunner} from '../support/lifecycle-runs.js'

const NAME = 'thed'
const LABEL = 'com.example.thed.crash-adopt'
const HELPER = 'com.example.thed.crash-adopt-helper'
const LEGACY_PROGRAM = `/opt/${NAME}/bin/${NAME}`
const LEGACY_BYTES = '#!/bin/sh\n# the legacy thed 0.9\n'
/** Kills run this many at a time, each in its own --root on its own fake launchd. */
const PARALLEL = 6

/**
 * The crash matrix for adoption (install over the legacy layout, DESIGN.md §11): SIGKILL at every
 * boundary of the plan, then the next run recovers, and the machine is exactly one of two states:
 * the legacy install as it was (executable and plists byte for byte, both jobs running, no esdctl
 * records) or the bundled 1.0.0 running with the legacy kept in the rollback slot. etc/ and var/
 * are untouched either way.
 */
describe('lifecycle crash safety: adoption killed at every step boundary, then the next run recovers', function () {
  this.timeout(900_000)
  let launchds: FakeLaunchd[] = []
  let trust: TrustStore
  let payload = ''
  let template = ''
  const cleanup: string[] = []
  const plistBytes = new Map<string, string>()

  before(async () => {
    const made = await testIdentity()
    trust = made.trust
    launchds = await Promise.all(Array.from({length: PARALLEL}, () => startFakeLaunchd({programs: {...sampleDaemonPrograms([NAME]), [LEGACY_PROGRAM]: [process.execPath, SAMPLE_DAEMON]}})))
    const base = makeRoot()
    cleanup.push(base)
    payload = await buildPayload({dir: join(base, 'p1'), name: NAME, label: LABEL, version: '1.0.0', identity: made.identity, etc: {'thed.conf': 'default=1\n'}, manifest: {replaces: [HELPER]}})
    template = makeRoot()
    cleanup.push(template)
    const layout = new PrefixLayout({name: NAME, label: LABEL, root: template})
    mkdirSync(join(template, 'opt'), {mode: 0o755})
    for (const dir of [layout.prefix, layout.bin, layout.etc, layout.var]) mkdirSync(dir, {recursive: true, mode: 0o755})
    writeFileSync(join(layout.bin, NAME), LEGACY_BYTES)
    chmodSync(join(layout.bin, NAME), 0o755)
    writeFileSync(join(layout.etc, 'thed.conf'), 'customer=settings\n')
    writeFileSync(join(layout.var, 'state.db'), 'precious')
    for (const l of [LABEL, HELPER]) {
      const bytes = plist.build({Label: l, Program: LEGACY_PROGRAM, RunAtLoad: true, KeepAlive: true})
      plistBytes.set(l, bytes)
      writeFileSync(join(template, 'Library', 'LaunchDaemons', `${l}.plist`), bytes)
      chmodSync(join(template, 'Library', 'LaunchDaemons', `${l}.plist`), 0o644)
    }
  })
  after(async () => {
    await Promise.all(launchds.map((l) => l.stop()))
    for (const path of cleanup) rmSync(path, {recursive: true, force: true})
  })

  async function scenario(launchd: FakeLaunchd): Promise<{root: string; ctx: LifecycleContext; layout: PrefixLayout}> {
    const root = makeRoot()
    cleanup.push(root)
    cpSync(template, root, {recursive: true, preserveTimestamps: true, verbatimSymlinks: true})
    const ctx = testContext({root, launchctlPath: launchd.launchctlPath, trust})
    for (const l of [LABEL, HELPER]) {
      await ctx.launchctl.enable(l)
      await ctx.launchctl.bootstrap(join(root, 'Library', 'LaunchDaemons', `${l}.plist`))
    }
    return {root, ctx, layout: new PrefixLayout({name: NAME, label: LABEL, root})}
  }

  async function freeLabels(ctx: LifecycleContext): Promise<void> {
    for (const l of [LABEL, HELPER]) await ctx.launchctl.bootout(l, {waitMs: 10_000}).catch(() => undefined)
  }

  /** 'legacy' when the machine is exactly as before the adoption, '1.0.0' when adopted; anything else fails. */
  async function stateOf(ctx: LifecycleContext, layout: PrefixLayout, root: string, k: number): Promise<string> {
    assert.equal(readFileSync(join(layout.var, 'state.db'), 'utf8'), 'precious', `var/ intact at k=${k}`)
    assert.equal(readFileSync(join(layout.etc, 'thed.conf'), 'utf8'), 'customer=settings\n', `etc/ intact at k=${k}`)
    assert.ok(!existsSync(layout.journal), `journal cleared at k=${k}`)
    assert.deepEqual(existsSync(layout.staging) ? readdirSync(layout.staging) : [], [], `no staging left at k=${k}`)
    const running = async (l: string): Promise<boolean> => (await ctx.launchctl.print(l))?.state === 'running'
    if (existsSync(layout.receipt)) {
      const state = await inspectInstalled(ctx, layout)
      assert.deepEqual(state.problems, [], `adopted, k=${k}`)
      assert.equal(readFileSync(join(layout.rollbackSlot, 'legacy', 'bin', NAME), 'utf8'), LEGACY_BYTES, `legacy kept in the slot at k=${k}`)
      assert.ok(!(await running(HELPER)), `the replaced job stays stopped at k=${k}`)
      return state.version ?? 'none'
    }
    assert.ok(lstatSync(join(layout.bin, NAME)).isFile(), `legacy executable back at k=${k}`)
    assert.equal(readFileSync(join(layout.bin, NAME), 'utf8'), LEGACY_BYTES)
    for (const l of [LABEL, HELPER]) {
      assert.equal(readFileSync(join(root, 'Library', 'LaunchDaemons', `${l}.plist`), 'utf8'), plistBytes.get(l), `${l} plist byte for byte at k=${k}`)
      assert.ok(await running(l), `${l} runs again at k=${k}`)
    }
    assert.ok(!existsSync(layout.app), `no bundle left at k=${k}`)
    assert.ok(!existsSync(layout.rollbackSlot), `no rollback slot left at k=${k}`)
    return 'legacy'
  }

  async function killAndRecover(k: number, launchd: FakeLaunchd): Promise<string> {
    const s = await scenario(launchd)
    const run = await runRunner({root: s.root, launchctlPath: launchd.launchctlPath, trust, verb: 'install', target: payload, killAt: k})
    assert.equal(run.signal, 'SIGKILL', `adoption k=${k} was not killed: ${run.stderr} ${JSON.stringify(run.output)}`)
    // The next run (`start`) recovers first, then finds the daemon running or not installed.
    await recoverWithStart(s.ctx, NAME)
    const outcome = await stateOf(s.ctx, s.layout, s.root, k)
    await freeLabels(s.ctx)
    rmSync(s.root, {recursive: true, force: true})
    return outcome
  }

  it('adoption: killed at each boundary k, the next run leaves the legacy install as it was or the bundle running', async () => {
    const probe = await scenario(launchds[0]!)
    const countFile = `${probe.root}-count`
    cleanup.push(countFile)
    const clean = await runRunner({root: probe.root, launchctlPath: launchds[0]!.launchctlPath, trust, verb: 'install', target: payload, countFile})
    assert.equal(clean.exitCode, 0, `adoption without a kill: ${clean.stderr} ${JSON.stringify(clean.output)}`)
    assert.match(String(clean.output?.['message']), /installed over the legacy/)
    await freeLabels(probe.ctx)
    const boundaries = Number(readFileSync(countFile, 'utf8'))
    assert.ok(boundaries > 10, `adoption has ${boundaries} boundaries`)
    const outcomes = new Map<string, number>()
    const queue = Array.from({length: boundaries}, (_, i) => i + 1)
    await Promise.all(launchds.map(async (launchd) => {
      for (let k = queue.shift(); k !== undefined; k = queue.shift()) {
        const v = await killAndRecover(k, launchd)
        outcomes.set(v, (outcomes.get(v) ?? 0) + 1)
      }
    }))
    // Early kills must be undone (legacy back) and late ones finished (adopted): both directions are exercised.
    assert.deepEqual([...outcomes.keys()].sort(), ['1.0.0', 'legacy'], JSON.stringify([...outcomes]))
  })
})
