import {ExitCode} from '../exit-codes.js'
import type {Finding} from '../verify/finding.js'

/**
 * Why `bundle` or `payload` refused. `file` and `field` say exactly which input was wrong (a flag,
 * a profile key, a manifest pointer); the message repeats both so a log line alone is enough.
 */
export class BuildRefusal extends Error {
  constructor(
    readonly code: string,
    readonly file: string,
    readonly field: string,
    problem: string,
    readonly fix: string,
    readonly exitCode: ExitCode = ExitCode.badInput,
    /** Verifier findings, when the refusal is that the result did not verify. */
    readonly findings: Finding[] = [],
  ) {
    super(`${file}: ${field}: ${problem}`)
    this.name = 'BuildRefusal'
  }
}

export function isBuildRefusal(e: unknown): e is BuildRefusal {
  return e instanceof BuildRefusal
}
