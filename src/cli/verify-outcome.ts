import {ExitCode} from '../exit-codes.js'
import type {VerifyReport} from '../verify/report.js'
import {verifyPath} from '../verify/verify-path.js'

export interface VerifyOutcome {
  report: VerifyReport
  exitCode: ExitCode
  /** The verdict fails only because of --warnings-as-errors (macOS itself would accept the input). */
  failedByWarnings: boolean
}

/**
 * `esdctl verify PATH` once its command line is read: the report, with `ok` following the exit code
 * (0 no error finding; 3 an error finding, or a warning under --warnings-as-errors; 4 unreadable,
 * empty or of an unknown kind). Shared by the oclif command and bin/run.js's oclif-free path.
 */
export async function verifyOutcome(path: string, warningsAsErrors: boolean): Promise<VerifyOutcome> {
  const report = await verifyPath(path)
  const exitCode = exitCodeFor(report, warningsAsErrors)
  const failedByWarnings = report.ok && exitCode === ExitCode.verificationFailed
  if (failedByWarnings) report.ok = false
  return {report, exitCode, failedByWarnings}
}

/** Findings that say esdctl was given nothing it could judge (unreadable, empty, of no kind it verifies): exit 4, not a verdict. */
const BAD_INPUT = new Set(['input.unreadable', 'input.empty', 'input.unknown-kind'])

export function exitCodeFor(report: VerifyReport, warningsAsErrors: boolean): ExitCode {
  if (report.findings.some(f => BAD_INPUT.has(f.id))) return ExitCode.badInput
  if (!report.ok) return ExitCode.verificationFailed
  if (warningsAsErrors && report.findings.some(f => f.severity === 'warning')) return ExitCode.verificationFailed
  return ExitCode.ok
}
