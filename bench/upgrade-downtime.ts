/**
 * The downtime window of an upgrade: from the old daemon's `bootout` returning to the new one's
 * `bootstrap` call, read from the fake launchd's timestamps, for a bundle of 256 MiB; and the whole
 * upgrade's wall time. The lifecycle copies and verifies everything before the old daemon stops,
 * so the window should not grow with the bundle. Target: median window under 50 ms.
 */
import {rm} from 'node:fs/promises'
import {join} from 'node:path'
import * as lifecycle from '../src/lifecycle/index.js'
import {startFakeLaunchd} from '../test/doubles/fake-launchd/fake-launchd.js'
import {buildPayload, makeRoot, sampleDaemonPrograms, testContext, testIdentity} from '../test/support/lifecycle-fixture.js'
import {median} from './harness.js'

const NAME = 'benchd'
const LABEL = 'com.example.benchd'
const CODE_SIZE = 256 * 2 ** 20
const UPGRADES = 5
const WINDOW_TARGET_MS = 50

export async function upgradeDowntimeBench(): Promise<boolean> {
  const {identity, trust} = await testIdentity()
  const launchd = await startFakeLaunchd({programs: sampleDaemonPrograms([NAME])})
  const root = makeRoot()
  const payloads: string[] = []
  try {
    const ctx = testContext({root, launchctlPath: launchd.launchctlPath, trust})
    for (const version of ['1.0.0', '1.0.1']) {
      payloads.push(await buildPayload({dir: `${root}-payload-${version}`, name: NAME, label: LABEL, version, identity, codeSize: CODE_SIZE, manifest: {ExitTimeOut: 5}}))
    }
    const first = await lifecycle.install(ctx, payloads[0]!)
    if (first.exitCode !== 0) throw new Error(`install failed: ${first.message}`)
    const windows: number[] = []
    const totals: number[] = []
    for (let i = 0; i < UPGRADES; i++) {
      const target = payloads[(i + 1) % 2]!
      const seen = launchd.events().length
      const started = performance.now()
      const r = await lifecycle.install(ctx, target, {allowDowngrade: true})
      totals.push(performance.now() - started)
      if (r.exitCode !== 0 || !r.changed) throw new Error(`upgrade ${i} failed: ${r.message}`)
      const events = launchd.events().slice(seen)
      const out = events.find((e) => e.event === 'bootout-returned')
      const back = out && events.find((e) => e.event === 'bootstrap-called' && e.t >= out.t)
      if (!out || !back) throw new Error(`upgrade ${i}: no bootout/bootstrap pair in the fake launchd's log`)
      windows.push(back.t - out.t)
    }
    const window = median(windows)
    const met = window < WINDOW_TARGET_MS
    console.log(
      [
        `Upgrade of a ${CODE_SIZE / 2 ** 20} MiB bundle (fake launchd, ${UPGRADES} upgrades, median)`,
        `  downtime window (bootout returned → bootstrap called)  ${window.toFixed(1).padStart(8)} ms  target < ${WINDOW_TARGET_MS} ms  ${met ? 'MET' : 'NOT MET'}   [${windows.map((w) => w.toFixed(1)).join(', ')}]`,
        `  whole upgrade (stage, verify, swap, bootstrap, health check) ${median(totals).toFixed(0).padStart(6)} ms`,
        '',
      ].join('\n'),
    )
    return met
  } finally {
    await launchd.stop()
    await rm(root, {recursive: true, force: true})
    for (const p of payloads) await rm(p, {recursive: true, force: true})
  }
}
