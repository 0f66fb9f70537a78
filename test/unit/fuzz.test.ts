import assert from 'node:assert/strict'
import {join} from 'node:path'
import {execa} from 'execa'
import {REPO_ROOT} from '../support/real-artifacts.js'

interface FuzzSummary {
  count: number
  casesPerTarget: Record<string, number>
  exit1s: number
  hangs: number
  peakRssMiB: number
  crashes: {index: number; target: string; what: string}[]
}

/**
 * CI's slice of `npm run fuzz`: a few hundred cases of every target (verify's inputs, manifests,
 * XML and binary plists) must give no exit 1 and no hang. The long runs (≥ 100 000 cases) are
 * done by hand: `npm run fuzz -- --seed S --count N`.
 */
describe('fuzz: a short slice of npm run fuzz', function () {
  this.timeout(300_000)

  it('400 cases of seed 20261130: no exit-1s, no hangs, every target reached, peak RSS under 500 MiB', async () => {
    const run = await execa(process.execPath, [join(REPO_ROOT, 'dist', 'fuzz', 'run.js'), '--seed', '20261130', '--count', '400', '--json'], {reject: false, cwd: REPO_ROOT})
    const summary = JSON.parse(run.stdout) as FuzzSummary
    assert.equal(summary.exit1s, 0, JSON.stringify(summary.crashes, null, 2))
    assert.equal(summary.hangs, 0)
    assert.equal(run.exitCode, 0)
    for (const target of ['manifest', 'plist:binary', 'plist:xml', 'verify:macho']) assert.ok((summary.casesPerTarget[target] ?? 0) > 20, `${target}: ${JSON.stringify(summary.casesPerTarget)}`)
    assert.equal(Object.values(summary.casesPerTarget).reduce((a, b) => a + b, 0), 400)
    assert.ok(summary.peakRssMiB < 500, `peak RSS ${summary.peakRssMiB} MiB`)
  })

  it('the watchdog reports a case that does not answer in time, and the run goes on', async () => {
    // Each case blocks its worker for 1.5 s (--stall-ms), far past --hang-ms 100 and the watchdog's 250 ms tick.
    const run = await execa(process.execPath, [join(REPO_ROOT, 'dist', 'fuzz', 'run.js'), '--seed', '1', '--count', '2', '--hang-ms', '100', '--stall-ms', '1500', '--json'], {reject: false, cwd: REPO_ROOT})
    const summary = JSON.parse(run.stdout) as FuzzSummary & {hangCases: unknown[]}
    assert.equal(run.exitCode, 1)
    assert.ok(summary.hangs >= 1, JSON.stringify(summary))
  })
})
