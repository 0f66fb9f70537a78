/**
 * esdctl's exit codes, one table for every command (README and man page list them).
 * 1 and 2 stay with oclif: an unexpected internal error and a command-line usage error.
 * A run that changed nothing because the wanted state was already there exits 0 (`changed: false`
 * in --json): fleet tools treat non-zero as failure.
 */
export const ExitCode = {
  ok: 0,
  internalError: 1,
  usage: 2,
  /** The verifier found at least one error; nothing on disk changed. */
  verificationFailed: 3,
  /** The input (path, payload, manifest, record) is unreadable or invalid; nothing changed. */
  badInput: 4,
  /** launchctl refused or timed out and the previous state could not be kept running. */
  launchdFailed: 5,
  /** The new version failed its health check; the previous one was restored and runs. */
  rolledBack: 6,
  /** Another esdctl run holds the lock. */
  locked: 7,
  /** A mutating command was run without root. */
  notRoot: 8,
  /** The filesystem or process environment is unsafe for a root tool (writable parent, planted link, NODE_OPTIONS). */
  unsafeEnvironment: 9,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]
