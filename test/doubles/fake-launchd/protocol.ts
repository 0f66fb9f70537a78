/**
 * The fake launchctl and the fake launchd exchange one JSON line each way over a unix socket:
 * the argv in, what launchctl would print and its exit status out.
 */
export interface LaunchctlRequest {
  argv: string[]
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
}

export function reply(exitCode: number, stdout = '', stderr = ''): LaunchctlReply {
  return {exitCode, stdout, stderr}
}
