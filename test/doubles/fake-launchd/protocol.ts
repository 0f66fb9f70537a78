/**
 * The fake launchctl and the fake launchd exchange one JSON line each way over a unix socket:
 * the argv in, what launchctl would print and its exit status out.
 */
export interface LaunchctlRequest {
  argv: string[]
  /** The native client asks for a length-prefixed reply instead of JSON. */
  framed?: boolean
}

export interface LaunchctlReply {
  exitCode: number
  stdout: string
  stderr: string
}

export const SOCKET_NAME = 'launchd.sock'
export const CONFIG_NAME = 'config.json'
export const EVENTS_NAME = 'events.jsonl'
export const DISABLED_NAME = 'disabled.json'
export const LAUNCHCTL_NAME = 'launchctl'

/**
 * `modern`: the specific codes recent macOS returns (122 ownership, 119 disabled, 37 loaded).
 * `legacy`: older releases, where all of those are the catch-all 5.
 */
export type ErrorStyle = 'modern' | 'legacy'

export interface FakeLaunchdConfig {
  errorStyle: ErrorStyle
  /**
   * Program path → the argv prefix actually run (tests only). An installed plist names the real
   * Mach-O inside the bundle, which cannot run on Linux; the lifecycle tests map it to the sample
   * daemon while the plist keeps saying what launchd on a Mac would run. The job's own arguments
   * (ProgramArguments after argv[0]) are appended.
   */
  programs?: Record<string, string[]>
  /**
   * After a bootout has removed a service, bootstrap of the same label still answers
   * `Bootstrap failed: 5: Input/output error` for this long (about 5 s measured on macOS 26,
   * 05-launchctl-errors.txt block F). Default 0; tests that exercise the window set it.
   */
  eioWindowMs?: number
  /**
   * Programs (paths as the plist names them) the kernel refuses for their code signature: the
   * spawn fails with `last exit reason = OS_REASON_CODESIGNING`, `job state = spawn failed`, as
   * 04-launchctl-print-fragments-exit-reasons.txt shows. No process runs.
   */
  codeSigningKills?: string[]
}

export function reply(exitCode: number, stdout = '', stderr = ''): LaunchctlReply {
  return {exitCode, stdout, stderr}
}
