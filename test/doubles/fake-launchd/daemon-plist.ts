import {chmodSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import * as plist from 'plist'
import {waitFor} from '../wait-for.js'

/** The compiled sample daemon; run with `node` as the job's Program. */
export const SAMPLE_DAEMON = fileURLToPath(new URL('../sample-daemon.js', import.meta.url))

export interface SampleDaemonJob {
  label: string
  /** Arguments for the sample daemon, e.g. `['--exit-after', '100', '--exit-code', '3']`. */
  daemonArgs?: string[]
  keepAlive?: boolean | {SuccessfulExit?: boolean; Crashed?: boolean}
  runAtLoad?: boolean
  throttleInterval?: number
  exitTimeOut?: number
}

/**
 * Writes a launchd plist running the sample daemon into `dir` as root-owned 0644 (the tests run
 * as root), the way esdctl will install one; returns its path. The daemon's stdout goes to
 * `<dir>/<label>.out`.
 */
export function writeSampleDaemonPlist(dir: string, job: SampleDaemonJob): string {
  const dict: Record<string, plist.PlistValue> = {
    Label: job.label,
    Program: process.execPath,
    ProgramArguments: ['node', SAMPLE_DAEMON, ...(job.daemonArgs ?? [])],
    RunAtLoad: job.runAtLoad ?? true,
  }
  if (job.keepAlive !== undefined) dict.KeepAlive = job.keepAlive
  if (job.throttleInterval !== undefined) dict.ThrottleInterval = job.throttleInterval
  if (job.exitTimeOut !== undefined) dict.ExitTimeOut = job.exitTimeOut
  dict.StandardOutPath = sampleDaemonOutput(dir, job.label)
  const path = join(dir, `${job.label}.plist`)
  writeFileSync(path, plist.build(dict))
  chmodSync(path, 0o644)
  return path
}

function sampleDaemonOutput(dir: string, label: string): string {
  return join(dir, `${label}.out`)
}

/**
 * Node needs a few tens of ms before the daemon's SIGTERM handler exists; a test that signals
 * the daemon waits for its `started <pid>` line first, or the default action would kill it.
 */
export async function waitUntilDaemonStarted(dir: string, label: string, pid: number): Promise<void> {
  await waitFor(`sample daemon ${pid} to start`, async () => {
    let text = ''
    try {
      text = readFileSync(sampleDaemonOutput(dir, label), 'utf8')
    } catch {
      return undefined
    }
    return text.includes(`started ${pid}\n`) ? true : undefined
  })
}
