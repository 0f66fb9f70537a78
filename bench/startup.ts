import {execFile} from 'node:child_process'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'
import {LaunchctlAdapter} from '../src/adapters/launchctl.js'
import {startFakeLaunchd} from '../test/doubles/fake-launchd/fake-launchd.js'
import {writeSampleDaemonPlist} from '../test/doubles/fake-launchd/daemon-plist.js'
import {median} from './harness.js'
import {writeInstalledFixture} from '../test/support/installed-fixture.js'

const run = promisify(execFile)
const REPEATS = 15
const VERSION_TARGET = 4
const STATUS_TARGET = 1.3
const RUN_JS = fileURLToPath(new URL('../../bin/run.js', import.meta.url))
const STATUS_ENTRY = fileURLToPath(new URL('./startup-status-entry.js', import.meta.url))

interface StartupCase {
  name: string
  argv: string[]
}

/** Wall time of whole processes, round-robin after a warm-up (which also fills the compile cache). */
async function timeProcesses(cases: StartupCase[], repeats: number): Promise<number[]> {
  // The parent's NODE_OPTIONS would change what is measured (and bin/run.js refuses it as root).
  const env = {...process.env}
  delete env.NODE_OPTIONS
  delete env.NODE_PATH
  const once = async (c: StartupCase) => {
    const start = process.hrtime.bigint()
    await run(process.execPath, c.argv, {env})
    return Number(process.hrtime.bigint() - start) / 1e6
  }
  for (const c of cases) await once(c)
  const ms = cases.map((): number[] => [])
  for (let r = 0; r < repeats; r++) for (const [i, c] of cases.entries()) ms[i]!.push(await once(c))
  return ms.map(median)
}

/**
 * `npm run bench` group: `esdctl --version` against `node -e 0`, and `esdctl status` (one daemon,
 * running under the fake launchd, under a temporary root) against `esdctl --version`. The status
 * case is what bin/run.js does for status, with the launchctl double handed in as the adapter.
 * Returns whether both targets are met.
 */
export async function startupBench(): Promise<boolean> {
  const launchd = await startFakeLaunchd()
  const root = await mkdtemp(join(tmpdir(), 'esdctl-bench-status-'))
  const emptyRoot = await mkdtemp(join(tmpdir(), 'esdctl-bench-empty-'))
  try {
    const label = 'com.example.benchd'
    await writeInstalledFixture({root, name: 'benchd', label})
    await new LaunchctlAdapter({executable: launchd.launchctlPath}).bootstrap(writeSampleDaemonPlist(launchd.stateDir, {label, keepAlive: true}))
    const cases: StartupCase[] = [
      {name: 'node -e 0', argv: ['-e', '0']},
      {name: 'esdctl --version (bin/run.js)', argv: [RUN_JS, '--version']},
      {name: 'esdctl status (bin/run.js path, launchctl double)', argv: [STATUS_ENTRY, launchd.launchctlPath, root]},
      {name: 'status through the oclif command, for reference', argv: [STATUS_ENTRY, launchd.launchctlPath, root, '--oclif']},
      {name: 'bin/run.js status, no daemons (no launchctl call)', argv: [RUN_JS, 'status', '--root', emptyRoot]},
    ]
    const times = await timeProcesses(cases, REPEATS)
    const [node, version, status] = times as [number, number, number]
    const versionRatio = version / node
    const statusRatio = status / version
    const lines = [
      `Start-up: wall time of a whole process, median of ${REPEATS} after a warm-up`,
      ...cases.map((c, i) => `  ${c.name.padEnd(52)} ${times[i]!.toFixed(1).padStart(7)} ms`),
      `  esdctl --version / node -e 0   = ${versionRatio.toFixed(2)}  target ≤ ${VERSION_TARGET}  ${versionRatio <= VERSION_TARGET ? 'MET' : 'NOT MET'}`,
      `  esdctl status / esdctl --version = ${statusRatio.toFixed(2)}  target ≤ ${STATUS_TARGET}  ${statusRatio <= STATUS_TARGET ? 'MET' : 'NOT MET'}`,
    ]
    console.log(lines.join('\n') + '\n')
    return versionRatio <= VERSION_TARGET && statusRatio <= STATUS_TARGET
  } finally {
    await launchd.stop()
    await rm(root, {recursive: true, force: true})
    await rm(emptyRoot, {recursive: true, force: true})
  }
}

// Run on its own: node dist/bench/startup.js
if (process.argv[1] === fileURLToPath(import.meta.url)) await startupBench()
