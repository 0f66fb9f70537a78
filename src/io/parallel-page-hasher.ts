import {Worker} from 'node:worker_threads'
import {FormatError} from '../formats/format-error.js'
import type {CodePages} from './code-pages.js'
import type {PageHashWorkerData, PageHashWorkerReport} from './page-hash-worker.js'
import {hashPageRange, ReadBuffers} from './sequential-page-hasher.js'
import {UnitClaims} from './unit-claims.js'

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

const WORKER_URL = new URL('./page-hash-worker.js', import.meta.url)

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
  const workers = Array.from({length: Math.max(1, Math.min(workerCount, units))}, () => new Worker(WORKER_URL, {workerData: data}))

  const stop = new AbortController()
  const callerSignal = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal
  const hashWhileWorkersStart = async () => {
    if (tuning.callerHashes === 'never') return
    const buffers = new ReadBuffers(pages.pageSize)
    while (tuning.callerHashes === 'throughout' || claims.startedWorkers() < workers.length) {
      const unit = claims.claim()
      if (unit >= units) return
      const firstPage = unit * pagesPerUnit
      await hashPageRange(pages, firstPage, Math.min(firstPage + pagesPerUnit, pages.pageCount), slots, buffers, callerSignal)
    }
  }
  const onCaller = hashWhileWorkersStart()

  let onAbort: (() => void) | undefined
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal?.reason)
    signal?.addEventListener('abort', onAbort, {once: true})
  })
  try {
    await Promise.race([Promise.all([onCaller, ...workers.map(finished)]), aborted])
  } catch (error) {
    // Every thread must have stopped reading before the caller may close the descriptor.
    stop.abort()
    await Promise.all([onCaller.catch(() => undefined), ...workers.map((w) => w.terminate())])
    throw error
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort)
  }
  const result = Buffer.allocUnsafe(slots.length)
  result.set(slots)
  return result
}

function finished(worker: Worker): Promise<void> {
  return new Promise((resolve, reject) => {
    let reported = false
    worker.once('message', (message: PageHashWorkerReport) => {
      reported = true
      if (message.ok) resolve()
      else reject(rebuild(message))
    })
    worker.once('error', reject)
    worker.once('exit', (code) => {
      if (!reported) reject(new Error(`page hash worker exited with code ${code} before reporting`))
    })
  })
}

function rebuild(report: Extract<PageHashWorkerReport, {ok: false}>): Error {
  if (report.name === 'FormatError' && report.code) return new FormatError(report.code, report.message)
  const error = new Error(report.message) as Error & {code?: string}
  error.name = report.name
  if (report.code) error.code = report.code
  return error
}
