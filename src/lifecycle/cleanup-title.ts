import {basename, dirname} from 'node:path'
import type {Cleanup, Plan} from './plan.js'

/** A transaction id as newTransactionId makes it (outcome.ts): the name of a run's scratch directory. */
const TRANSACTION_ID = /^\d{8}T\d{9}Z-[0-9a-f]{8}$/

/** A cleanup as the dry run and --json show it: its kind and what it does, in words. */
export interface PlannedCleanup {
  kind: Cleanup['kind']
  title: string
}

/**
 * What a cleanup does, in words, made from its data alone: the dry run and a journal's plan give
 * the same text, so the finish the dry run prints is the finish the real run journals.
 */
export function cleanupTitle(cleanup: Cleanup): string {
  switch (cleanup.kind) {
    case 'remove-tree':
      // A scratch directory is named by its transaction, which a dry run does not share with the real run.
      return TRANSACTION_ID.test(basename(cleanup.path)) ? `Delete this run's scratch directory in ${dirname(cleanup.path)}, with everything it set aside there` : `Delete ${cleanup.path}`
    case 'remove-empty-dir':
      return `Remove ${cleanup.path} if it is empty`
    case 'purge-prefix':
      return `Delete everything in ${cleanup.prefix} (etc/ and var/ included), then ${cleanup.keep} and ${cleanup.prefix} itself`
    case 'remove-created-dirs':
      return `Remove the directories this run created (${cleanup.dirs.join(', ')}), each only if empty`
  }
}

/** The cleanups that make the new state final once every step is done (plan.finish), as the dry run shows them. */
export function finishSummary(plan: Pick<Plan, 'finish'>): PlannedCleanup[] {
  return plan.finish.map((c) => ({kind: c.kind, title: cleanupTitle(c)}))
}
