import type {StepKind} from '../plan.js'
import {awaitExit} from './await-exit.js'
import {bootout} from './bootout.js'
import {bootoutJobs} from './bootout-jobs.js'
import {bootstrap} from './bootstrap.js'
import {bootstrapJobs} from './bootstrap-jobs.js'
import {config} from './config.js'
import {enable} from './enable.js'
import {healthCheck} from './health-check.js'
import {links} from './links.js'
import {move} from './move.js'
import {registry} from './registry.js'
import {removePlist} from './remove-plist.js'
import type {StepExecutor} from './step-env.js'
import {swapPlist} from './swap-plist.js'
import {writePlist} from './write-plist.js'
import {writeRecords} from './write-records.js'

export type {StepEnv, StepExecutor} from './step-env.js'
export {runCleanup} from './cleanup.js'

/** The one executor of each step kind; a kind without one does not compile. */
export const EXECUTORS: {[K in StepKind]: StepExecutor<K>} = {
  move,
  enable,
  bootout,
  'await-exit': awaitExit,
  'bootout-jobs': bootoutJobs,
  bootstrap,
  'bootstrap-jobs': bootstrapJobs,
  'health-check': healthCheck,
  links,
  config,
  'write-plist': writePlist,
  'swap-plist': swapPlist,
  'remove-plist': removePlist,
  'write-records': writeRecords,
  registry,
}

export function executorFor<K extends StepKind>(kind: K): StepExecutor<K> {
  return EXECUTORS[kind] as StepExecutor<K>
}
