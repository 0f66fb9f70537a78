import {randomBytes} from 'node:crypto'
import type {AuditEntry} from '../audit/audit-log.js'
import {ExitCode} from '../exit-codes.js'
import {exitStatusOf} from '../exit-status.js'
import {StepFailure} from './lifecycle-error.js'
import type {LifecycleContext, LifecycleResult} from './context.js'
import {finishSummary} from './cleanup-title.js'
import {planSummary, type Plan} from './plan.js'
import {runPlan, TransactionUndone} from './run-plan.js'
import type {Session} from './session.js'
import {EXECUTORS} from './steps/index.js'

/** Stands for the adopted legacy install where a version would be named. */
export const LEGACY = '(legacy)'

/** Sortable by time, unique by its random tail: names the journal's transaction and its scratch directory. */
export function newTransactionId(ctx: LifecycleContext): string {
  return `${new Date(ctx.clock.now()).toISOString().replace(/[-:.]/g, '')}-${randomBytes(4).toString('hex')}`
}

async function audit(ctx: LifecycleContext, session: Session, result: LifecycleResult, tx: string): Promise<void> {
  if ((await ctx.fs.lstat(session.layout.stateDir))?.isDirectory() !== true) return
  const entry: AuditEntry = {
    transaction: tx,
    action: result.action,
    name: result.name,
    label: result.label,
    who: ctx.identity.sudoUser(),
    uid: ctx.identity.euid(),
    fromVersion: result.fromVersion,
    toVersion: result.toVersion,
    outcome: result.rolledBack ? 'rolled back' : result.exitCode === ExitCode.ok ? (result.changed ? 'done' : 'no change') : 'failed',
    exitCode: result.exitCode,
    message: result.message,
    ...(result.recovered ? {recovered: result.recovered} : {}),
  }
  await ctx.audit.record(session.layout.auditLog, entry)
}

/**
 * What a first install's failure is: launchd's (it could not start the job, or the job did not stay
 * up) is 5; anything else keeps its own status (a step's refusal, or internal error 1 for a bug).
 */
function firstInstallCode(cause: unknown): ExitCode {
  if (cause instanceof StepFailure && cause.exitCode === ExitCode.rolledBack) return ExitCode.launchdFailed
  return exitStatusOf(cause).code
}

/** Turns the end of a failed plan into the result the command reports. */
function failureResult(base: LifecycleResult, error: unknown, previous: string | undefined): LifecycleResult {
  if (!(error instanceof TransactionUndone)) {
    return {...base, changed: true, exitCode: exitStatusOf(error).code, message: `${(error as Error).message}; undoing it failed too, so the journal is kept and the next esdctl run finishes the recovery`}
  }
  const why = error.cause instanceof Error ? error.cause.message : String(error.cause)
  const what = previous === LEGACY ? 'the legacy install' : `version ${previous}`
  const restored = previous !== undefined ? `${what} was restored and is running` : 'nothing was left installed'
  // Something was installed before and runs again: rolledBack. A first install leaves nothing: launchd's failure, or the step's own.
  const code = previous !== undefined ? ExitCode.rolledBack : firstInstallCode(error.cause)
  return {...base, changed: false, rolledBack: true, exitCode: code, message: `${base.action} of ${base.name} failed at step ${error.failedStep} (${why}); rolled back: ${restored}`}
}

/**
 * The one rule for what every verb's dry run reports (install, upgrade, rollback, uninstall, start,
 * stop, restart): `dryRun: true`, and `changed` = the real run would change the machine, as
 * Ansible's check mode, Puppet's noop and Chef's why-run read it. It would when the dry run found
 * steps to take and nothing to refuse; a no-op ("already installed", "already running", "not
 * installed"; an empty or absent plan) or a refusal (a failed verification, a downgrade) would not.
 * A dry run recovers nothing (session.ts refuses to plan over a pending journal or damaged
 * records), so there is no repair to count.
 */
export function dryRunOutcome(result: LifecycleResult): LifecycleResult {
  return {...result, dryRun: true, changed: result.exitCode === ExitCode.ok && (result.plan?.length ?? 0) > 0}
}

/** A dry run's result: the plan the real run would journal, step for step, and the cleanups that finish it. */
export function dryRunResult(base: LifecycleResult, plan: Plan, message: string): LifecycleResult {
  return {...base, message: `dry run: ${message}; nothing was changed`, plan: planSummary(plan), finish: finishSummary(plan)}
}

/**
 * The one way every mutating action ends: run the plan in the session, audit the outcome, and
 * turn a failure into the result (exit 6 when `previous` runs again, 5 when nothing was installed
 * before or undoing failed). `previous` names what a failure restores; `done` the success message.
 */
export async function runAndReport(ctx: LifecycleContext, session: Session, plan: Plan, base: LifecycleResult, previous: string | undefined, done: string): Promise<LifecycleResult> {
  let result: LifecycleResult
  try {
    await runPlan({env: {ctx, fs: session.fs, tool: session.tool, layout: session.layout}, journalPath: session.layout.journal, executors: EXECUTORS}, plan)
    result = {...base, changed: true, message: done}
  } catch (e) {
    result = failureResult(base, e, previous)
  }
  await audit(ctx, session, result, plan.transaction)
  return result
}
