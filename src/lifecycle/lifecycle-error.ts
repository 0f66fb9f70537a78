import {ExitCode} from '../exit-codes.js'

/** A refusal before anything changed: not root, locked, unsafe path, bad manifest. `details` name each offender. */
export class LifecycleError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    readonly details?: string[],
  ) {
    super(message)
    this.name = 'LifecycleError'
  }
}

export function isLifecycleError(e: unknown): e is LifecycleError {
  return e instanceof LifecycleError
}

/** A step that could not do its work; the transaction undoes what was done. */
export class StepFailure extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    readonly findings?: import('../verify/finding.js').Finding[],
  ) {
    super(message)
    this.name = 'StepFailure'
  }
}

/** Raised by `runPlan` (run-plan.ts) when a step failed and every started step was undone; `cause` is the step's error. */
export class TransactionUndone extends Error {
  constructor(
    readonly failedStep: string,
    override readonly cause: unknown,
  ) {
    super(`step ${failedStep} failed: ${(cause as Error)?.message ?? String(cause)}`)
    this.name = 'TransactionUndone'
  }
}

export {ExitCode}
