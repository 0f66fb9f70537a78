/**
 * The fuzz worker thread: runs cases [from, to) of one seed and reports each, so the main thread
 * can tell a hang (no report for too long) and terminate it.
 */
import {parentPort, workerData} from 'node:worker_threads'
import {PageHashPool} from '../src/io/page-hash-pool.js'
import {Rng} from './rng.js'
import {chooseTarget, makeTargets, UnexpectedOutcome} from './targets.js'

export interface WorkerJob {
  seed: number
  from: number
  to: number
  /** Scratch directory, made and removed by the main thread (a terminated worker cleans nothing). */
  dir: string
  /** Milliseconds each case blocks the worker's thread before running (0: none); tests the watchdog. */
  stallMs: number
}

export type WorkerMessage =
  | {type: 'ready'; targets: string[]; notes: string[]}
  | {type: 'start'; index: number; target: string}
  | {type: 'done'; index: number; target: string; ms: number; crash?: string}
  | {type: 'finished'}

const job = workerData as WorkerJob
const post = (m: WorkerMessage): void => parentPort!.postMessage(m)
const dir = job.dir
try {
  const {targets, notes} = await makeTargets(dir)
  post({type: 'ready', targets: targets.map((t) => t.name), notes})
  for (let index = job.from; index < job.to; index++) {
    const rng = new Rng(job.seed, index)
    const target = chooseTarget(rng, targets)
    post({type: 'start', index, target: target.name})
    const started = performance.now()
    if (job.stallMs > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, job.stallMs)
    let crash: string | undefined
    try {
      await target.run(rng)
    } catch (e) {
      crash = e instanceof UnexpectedOutcome ? e.message : `the fuzz harness itself failed: ${(e as Error)?.stack ?? String(e)}`
    }
    post({type: 'done', index, target: target.name, ms: performance.now() - started, ...(crash ? {crash} : {})})
  }
  post({type: 'finished'})
} finally {
  PageHashPool.releaseShared()
}
