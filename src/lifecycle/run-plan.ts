import type {LifecycleContext} from './context.js'
import {TransactionUndone} from './lifecycle-error.js'

export {TransactionUndone}
import {clearJournal, JOURNAL_SCHEMA_VERSION, writeJournal, type Journal, type JournalStep} from './journal.js'
import type {Cleanup, Plan, PlanStep, StepKind} from './plan.js'
import {EXECUTORS, runCleanup, type StepEnv, type StepExecutor} from './steps/index.js'

/** Where a plan runs: the executors' environment, the journal's path, and (tests) the executors themselves. */
export interface PlanRun {
  env: StepEnv
  journalPath: string
  executors?: {[K in StepKind]?: StepExecutor<K>}
}

function hook(ctx: LifecycleContext, point: string): void {
  ctx.faultHook?.(point)
}

async function save(run: PlanRun, journal: Journal, point: string): Promise<void> {
  await writeJournal(run.env.fs, run.journalPath, journal)
  hook(run.env.ctx, `journal:${point}`)
}

function executor(run: PlanRun, step: PlanStep): StepExecutor<StepKind> {
  const found = (run.executors?.[step.kind] ?? EXECUTORS[step.kind]) as StepExecutor<StepKind> | undefined
  if (found === undefined) throw new Error(`no executor for step kind ${step.kind}`)
  return found
}

async function cleanups(run: PlanRun, list: readonly Cleanup[]): Promise<void> {
  for (const cleanup of list) await runCleanup(run.env, cleanup)
}

/** The journal a plan starts as: every step pending, phase forward. */
export function journalOf(plan: Plan): Journal {
  return {...plan, schemaVersion: JOURNAL_SCHEMA_VERSION, phase: 'forward', steps: plan.steps.map((s): JournalStep => ({...s, state: 'pending'}))}
}

/**
 * Runs a plan: journals it whole, then each step as started before its executor's `do` and as done
 * after; once all are done the journal is marked committed and the finish cleanups run. If a step
 * throws, the started steps are undone in reverse and TransactionUndone is thrown. If an undo
 * itself fails the journal stays (phase `undoing`) for the next run, and that error is thrown.
 */
export async function runPlan(run: PlanRun, plan: Plan): Promise<void> {
  const journal = journalOf(plan)
  const {ctx} = run.env
  await save(run, journal, 'opened')
  for (const step of journal.steps) {
    step.state = 'started'
    await save(run, journal, `${step.id}:started`)
    ctx.progress.stepStarted(step.id, step.title)
    hook(ctx, `before-do:${step.id}`)
    try {
      await executor(run, step).do(run.env, step)
    } catch (e) {
      ctx.progress.stepFinished(step.id, 'failed')
      await undoJournal(run, journal)
      throw new TransactionUndone(step.id, e)
    }
    hook(ctx, `after-do:${step.id}`)
    step.state = 'done'
    await save(run, journal, `${step.id}:done`)
    ctx.progress.stepFinished(step.id, 'done')
  }
  await commitJournal(run, journal)
}

/** Marks the journal committed (if not yet), runs the finish cleanups and clears it. */
export async function commitJournal(run: PlanRun, journal: Journal): Promise<void> {
  const {ctx} = run.env
  if (journal.phase !== 'committed') {
    journal.phase = 'committed'
    await save(run, journal, 'committed')
  }
  hook(ctx, 'before-finish')
  await cleanups(run, journal.finish)
  hook(ctx, 'after-finish')
  await clearJournal(run.env.fs, run.journalPath)
  hook(ctx, 'journal:cleared')
}

/** Undoes, newest first, every step the journal says was started or done, then abandons the attempt. */
export async function undoJournal(run: PlanRun, journal: Journal): Promise<void> {
  const {ctx} = run.env
  journal.phase = 'undoing'
  await save(run, journal, 'undoing')
  for (const step of [...journal.steps].reverse()) {
    if (step.state !== 'started' && step.state !== 'done') continue
    ctx.progress.stepStarted(`undo-${step.id}`, `Undo: ${step.title}`)
    hook(ctx, `before-undo:${step.id}`)
    await executor(run, step).undo(run.env, step)
    hook(ctx, `after-undo:${step.id}`)
    step.state = 'undone'
    await save(run, journal, `${step.id}:undone`)
    ctx.progress.stepFinished(`undo-${step.id}`, 'undone')
  }
  await cleanups(run, journal.abandon)
  hook(ctx, 'after-abandon')
  await clearJournal(run.env.fs, run.journalPath)
  hook(ctx, 'journal:cleared')
  await cleanups(run, journal.afterAbandon)
}
