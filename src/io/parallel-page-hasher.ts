import type {Worker} from 'node:worker_threads'
import {FormatError} from '../formats/format-error.js'
import {pieceSize, type CodePages} from './code-pages.js'
import type {PageHashWorkerData, PageHashWorkerReport} from './page-hash-worker.js'
import {hashPageRangeSync} from './sync-page-range.js'
import {UnitClaims} from './unit-claims.js'
import {PageHashPool} from './page-hash-pool.js'

export interface ParallelTuning {
  /** Bytes of pages a thread claims at a time: large enough that claiming is free, small enough to balance the tail. */
  unitBytes: number
  /**
   * What the calling thread does besides waiting: nothing, hash units until every worker has
   * begun (hides the tens of milliseconds a worker takes to start), or keep hashing to the end.
   * Measured with `npm run bench` on 2 cores, 1 GiB, 4 KiB pages: 'throughout' with 2 workers
   * ran at 1.62–1.65× the single-core limit where 'until-workers-start' ran at 1.05–1.23×.
   */
  callerHashes: 'never' | 'until-workers-start' | 'throughout'
}

export const DEFAULT_TUNING: ParallelTuning = {unitBytes: 8 << 20, callerHashes: 'throughout'}
/** Read size inside a worker (synchronous reads: the worker has nothing else to do while it waits). */
export const WORKER_READ_BYTES = 1 << 20

/**
 * Hashes the pages on `workerCount` worker threads writing slots into one shared buffer, the
 * calling thread claiming units too (see ParallelTuning.callerHashes). Any thread failing, or the
 * signal firing, stops them all and rejects.
 */
export async function hashPagesInWorkers(
  pages: CodePages,
  workerCount: number,
  signal?: AbortSignal,
  tuning: ParallelTuning = DEFAULT_TUNING,
  pool?: PageHashPool,
): Promise<Buffer> {
  signal?.throwIfAborted()
  const pagesPerUnit = Math.max(1, Math.floor(tuning.unitBytes / pages.pageSize))
  const units = Math.ceil(pages.pageCount / pagesPerUnit)
  const claims = new UnitClaims()
  const data: PageHashWorkerData = {
    pages,
    pagesPerUnit,
    readBytes: WORKER_READ_BYTES,
    claims: claims.buffer,
    slots: new SharedArrayBuffer(pages.pageCount * pages.slotSize),
  }
  const slots = new Uint8Array(data.slots)
  const own = pool?.acquire() ? undefined : PageHashPool.start(Math.max(1, Math.min(workerCount, units)))
  const active = own ?? pool!
  if (own) own.acquire()
  const workers = active.workers
  const results = workers.map(finished)
  for (const w of workers) w.postMessage(data)

  const stop = new AbortController()
  const callerSignal = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal
  const hashWhileWorkersStart = async () => {
    if (tuning.callerHashes === 'never') return
    const piece = Buffer.allocUnsafe(pieceSize(pages.pageSize, WORKER_READ_BYTES))
    while (tuning.callerHashes === 'throughout' || claims.startedWorkers() < workers.length) {
      // Between units the event loop runs: worker failures and the abort signal get through.
      await new Promise(resolve => setImmediate(resolve))
      callerSignal.throwIfAborted()
      const unit = claims.claim()
      if (unit >= units) return
      const firstPage = unit * pagesPerUnit
      hashPageRangeSync(pages, firstPage, Math.min(firstPage + pagesPerUnit, pages.pageCount), slots, piece)
    }
  }
  const onCaller = hashWhileWorkersStart()

  let onAbort: (() => void) | undefined
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal?.reason)
    signal?.addEventListener('abort', onAbort, {once: true})
  })
  try {
    await Promise.race([Promise.all([onCaller, ...results.map(r => r.done)]), aborted])
  } catch (error) {
    // Every thread must have stopped reading before the caller may close the descriptor.
    stop.abort()
    await Promise.all([onCaller.catch(() => undefined), active.close()])
    throw error
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort)
    for (const r of results) r.detach()
    active.idle()
    // After a failure the active pool was closed and awaited above; here every worker has reported.
    own?.release()
  }
  const result = Buffer.allocUnsafe(slots.length)
  result.set(slots)
  return result
}

/** One job's outcome on one worker; `detach` drops the listeners so a pooled worker can take the next job. */
function finished(worker: Worker): {done: Promise<void>; detach: () => void} {
  let detach = () => {}
  const done = new Promise<void>((resolve, reject) => {
    const onMessage = (message: PageHashWorkerReport) => (message.ok ? resolve() : reject(rebuild(message)))
    const onExit = (code: number) => reject(new Error(`page hash worker exited with code ${code} before reporting`))
    worker.once('message', onMessage)
    worker.once('error', reject)
    worker.once('exit', onExit)
    detach = () => {
      worker.off('message', onMessage)
      worker.off('error', reject)
      worker.off('exit', onExit)
    }
  })
  return {done, detach}
}

function rebuild(report: Extract<PageHashWorkerReport, {ok: false}>): Error {
  if (report.name === 'FormatError' && report.code) return new FormatError(report.code, report.message)
  const error = new Error(report.message) as Error & {code?: string}
  error.name = report.name
  if (report.code) error.code = report.code
  return error
}
