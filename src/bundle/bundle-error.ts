import {ExitCode} from '../exit-codes.js'
import type {Finding} from '../verify/finding.js'

/**
 * Why `bundle` or `payload` refused. `file` and `field` say exactly which input was wrong (a flag,
 * a profile key, a manifest pointer); the message repeats them so a log line alone is enough
 * (`<file>: <field>: <problem>`, or `<file>: <problem>` when the field is the whole file or the flag itself).
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
    // The field only when it adds something: not for a whole file, nor again for the flag that is the file.
    super(`${field === '(file)' || field === file || `--${field}` === file ? file : `${file}: ${field}`}: ${problem}`)
    this.name = 'BuildRefusal'
  }
}

export function isBuildRefusal(e: unknown): e is BuildRefusal {
  return e instanceof BuildRefusal
}
