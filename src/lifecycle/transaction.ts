import type {RootFs} from '../adapters/root-fs.js'
import type {LifecycleContext} from './context.js'
import {clearJournal, writeJournal, type Journal} from './journal.js'

/**
 * One step of a transaction. `undo` must be safe whether `do` ran fully, partly or not at all:
 * after a crash the journal only says the step was started. Each undo therefore looks at what is
 * on disk (or loaded in launchd) before it moves anything back.
 */
export interface Step {
  id: string
  title: string
  do(): Promise<void>
  undo(): Promise<void>
}

export interface Transaction<D> {
  journal: Journal<D>
  journalPath: string
  fs: RootFs
  steps: Step[]
  /** After the commit: make the new state final (drop staging, the retired slot). Idempotent. */
  finish(): Promise<void>
  /** After everything was undone: drop what the attempt left behind (staging). Idempotent. */
  abandon(): Promise<void>
  /** After the journal is gone: remove directories the attempt created, if now empty. */
  afterAbandon?(): Promise<void>
}

/** Raised by `runTransaction` when a step failed and every done step was undone; `cause` is the step's error. */
export class TransactionUndone extends Error {
  constructor(
    readonly failedStep: string,
    override readonly cause: unknown,
  ) {
    super(`step ${failedStep} failed: ${(cause as Error)?.message ?? String(cause)}`)
    this.name = 'TransactionUndone'
  }
}

function hook(ctx: LifecycleContext, point: string): void {
  ctx.faultHook?.(point)
}

async function save<D>(ctx: LifecycleContext, tx: Transaction<D>, point: string): Promise<void> {
  await writeJournal(tx.fs, tx.journalPath, tx.journal)
  hook(ctx, `journal:${point}`)
}

/**
 * Runs every step, journaling before and after each; once all are done the journal is marked
 * committed and `finish` runs. If a step throws, the done steps are undone in reverse and
 * TransactionUndone is thrown. If an undo itself fails the journal is left in place (phase
 * `undoing`) so the next run retries it, and that error is thrown.
 */
export async function runTransaction<D>(ctx: LifecycleContext, tx: Transaction<D>): Promise<void> {
  await save(ctx, tx, 'opened')
  for (const step of tx.steps) {
    tx.journal.steps.push({id: step.id, state: 'started'})
    await save(ctx, tx, `${step.id}:started`)
    ctx.progress.stepStarted(step.id, step.title)
    hook(ctx, `before-do:${step.id}`)
    try {
      await step.do()
    } catch (e) {
      ctx.progress.stepFinished(step.id, 'failed')
      await undoTransaction(ctx, tx)
      throw new TransactionUndone(step.id, e)
    }
    hook(ctx, `after-do:${step.id}`)
    tx.journal.steps.at(-1)!.state = 'done'
    await save(ctx, tx, `${step.id}:done`)
    ctx.progress.stepFinished(step.id, 'done')
  }
  await commitTransaction(ctx, tx)
}

export async function commitTransaction<D>(ctx: LifecycleContext, tx: Transaction<D>): Promise<void> {
  if (tx.journal.phase !== 'committed') {
    tx.journal.phase = 'committed'
    await save(ctx, tx, 'committed')
  }
  hook(ctx, 'before-finish')
  await tx.finish()
  hook(ctx, 'after-finish')
  await clearJournal(tx.fs, tx.journalPath)
  hook(ctx, 'journal:cleared')
}

/** Undoes, newest first, every step the journal says was started or done, then abandons the attempt. */
export async function undoTransaction<D>(ctx: LifecycleContext, tx: Transaction<D>): Promise<void> {
  tx.journal.phase = 'undoing'
  await save(ctx, tx, 'undoing')
  const byId = new Map(tx.steps.map((s) => [s.id, s]))
  for (const entry of [...tx.journal.steps].reverse()) {
    if (entry.state === 'undone') continue
    const step = byId.get(entry.id)
    if (step === undefined) throw new Error(`journal names step ${entry.id}, which ${tx.journal.action} does not have`)
    ctx.progress.stepStarted(`undo-${step.id}`, `Undo: ${step.title}`)
    hook(ctx, `before-undo:${step.id}`)
    await step.undo()
    hook(ctx, `after-undo:${step.id}`)
    entry.state = 'undone'
    await save(ctx, tx, `${step.id}:undone`)
    ctx.progress.stepFinished(`undo-${step.id}`, 'undone')
  }
  await tx.abandon()
  hook(ctx, 'after-abandon')
  await clearJournal(tx.fs, tx.journalPath)
  hook(ctx, 'journal:cleared')
  await tx.afterAbandon?.()
}
