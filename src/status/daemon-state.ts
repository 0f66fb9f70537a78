import type {ServiceInfo} from '../adapters/launchctl-print.js'
import {exitReason} from '../adapters/launchd-exit-reasons.js'

/**
 * What an admin needs to know about a daemon's launchd job, in one word. `not installed` is for a
 * NAME asked about that esdctl has no record of; `unknown` when launchctl could not be asked.
 * `stopping` is launchd's `SIGTERMed` (draining after a bootout), `starting` its `xpcproxy`.
 * `staged` is a daemon installed into a system image under `--root`: launchd is not asked, since
 * the launchd that will load it is the image's own, at its first boot.
 */
export type KnownDaemonState = 'running' | 'stopped' | 'stopping' | 'starting' | 'not loaded' | 'disabled' | 'crash-looping' | 'not installed' | 'staged' | 'unknown'

/**
 * A state word launchd printed that esdctl does not know yet is shown verbatim, never mapped away.
 * (`string & {}` keeps the known words visible to the type checker and editors.)
 */
export type DaemonState = KnownDaemonState | (string & {})

export interface LastExit {
  /** launchd's `last exit reason` (`OS_REASON_CODESIGNING`, …), when the kernel ended it. */
  reason?: string
  /** macOS killed it for its code signature. */
  codeSigning?: boolean
  /** Exit status, when the process exited rather than being killed. */
  code?: number
  /** Darwin signal name, when it was killed. */
  signal?: string
  /** launchd's fact, e.g. `killed by SIGKILL`. */
  text: string
  /** What it usually means and where to look next. */
  meaning: string
}

/**
 * One `launchctl print` answer plus the disabled bit decide the state. A job launchd has scheduled
 * for respawn is crash-looping: KeepAlive brings it back, it dies again, and launchd throttles it.
 */
export function daemonState(info: ServiceInfo | undefined, disabled: boolean): DaemonState {
  if (info === undefined) return disabled ? 'disabled' : 'not loaded'
  switch (info.state) {
    case 'running': return 'running'
    case 'spawn-scheduled': return 'crash-looping'
    case 'stopping': return 'stopping'
    case 'spawning': return 'starting'
    case 'exited':
    case 'waiting': return 'stopped'
    default: return info.stateText ?? 'unknown'
  }
}

/** SIGKILL at launch is how AMFI refuses code; the other signals are ordinary crashes or stops. */
const SIGNAL_MEANING: Readonly<Record<string, string>> = {
  SIGKILL: 'macOS killed it; for an Endpoint Security daemon this is almost always code signing (AMFI refused a restricted entitlement the provisioning profile does not authorise), otherwise launchd after ExitTimeOut or memory pressure: run `esdctl doctor`',
  SIGTERM: 'it was asked to stop (bootout, `esdctl stop` or a restart) and exited on SIGTERM',
  SIGABRT: 'it crashed (abort); the crash report is in /Library/Logs/DiagnosticReports',
  SIGSEGV: 'it crashed (invalid memory access); the crash report is in /Library/Logs/DiagnosticReports',
  SIGBUS: 'it crashed (bus error); the crash report is in /Library/Logs/DiagnosticReports',
  SIGILL: 'it crashed (illegal instruction, e.g. a slice built for another CPU); the crash report is in /Library/Logs/DiagnosticReports',
  SIGTRAP: 'it crashed (trap, e.g. a Swift runtime failure); the crash report is in /Library/Logs/DiagnosticReports',
}

/** sysexits EX_CONFIG: what launchd records when it could not exec the program at all. */
const EX_CONFIG = 78

export function lastExitOf(info: ServiceInfo | undefined): LastExit | undefined {
  if (info === undefined || info.lastExitReason === undefined) return undefined
  const text = info.lastExitReason
  if (info.exitReason !== undefined) {
    const reason = exitReason(info.exitReason)
    const spawnFailed = info.jobState === 'spawn failed' ? '; launchd could not get it past launch (job state = spawn failed)' : ''
    return {
      reason: info.exitReason,
      ...(reason?.codeSigning ? {codeSigning: true} : {}),
      text,
      meaning: `${reason?.words ?? `launchd recorded ${info.exitReason}`}${spawnFailed}: ${reason?.next ?? 'run `esdctl doctor`'}`,
    }
  }
  const signal = info.lastSignal
  if (signal !== undefined) return {signal, text, meaning: SIGNAL_MEANING[signal] ?? `it was killed by ${signal}`}
  const code = info.lastExitCode
  if (code === undefined) return undefined
  if (code === 0) return {code, text, meaning: 'it exited normally'}
  if (code === EX_CONFIG) return {code, text, meaning: 'launchd could not start the program (missing or not executable Program, or a bad plist value): run `esdctl doctor`'}
  return {code, text, meaning: 'the daemon reported an error: read its output with `esdctl logs`'}
}
