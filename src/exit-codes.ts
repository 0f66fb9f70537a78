/**
 * esdctl's exit codes, one table for every command (README and man page list them).
 * 1 and 2 stay with oclif: an unexpected internal error and a command-line usage error.
 */
export const ExitCode = {
  ok: 0,
  internalError: 1,
  usage: 2,
  verificationFailed: 3,
  badInput: 4,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]
