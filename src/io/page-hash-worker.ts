/**
 * Worker thread for parallel page hashing. Kept to node: built-ins and the few small page modules
 * so that starting one costs little. Workers claim units of pages from a shared counter (so a
 * slower thread simply claims fewer) and write slots straight into the shared output.
 */
import {parentPort} from 'node:worker_threads'
import {pieceSize, type CodePages} from './code-pages.js'
import {hashPageRangeSync} from './sync-page-range.js'
import {UnitClaims} from './unit-claims.js'

export interface PageHashWorkerData {
  readonly pages: CodePages
  readonly pagesPerUnit: number
  readonly readBytes: number
  /** Backs a UnitClaims shared by every thread of the job. */
  readonly claims: SharedArrayBuffer
  readonly slots: SharedArrayBuffer
}

export type PageHashWorkerReport = {ok: true} | {ok: false; name: string; code: string | undefined; message: string}

function hashClaimedUnits(data: PageHashWorkerData): void {
  const {pages, pagesPerUnit} = data
  const claims = new UnitClaims(data.claims)
  const slots = new Uint8Array(data.slots)
  const piece = Buffer.allocUnsafe(pieceSize(pages.pageSize, data.readBytes))
  const units = Math.ceil(pages.pageCount / pagesPerUnit)
  claims.markWorkerStarted()
  for (let unit = claims.claim(); unit < units; unit = claims.claim()) {
    const firstPage = unit * pagesPerUnit
    hashPageRangeSync(pages, firstPage, Math.min(firstPage + pagesPerUnit, pages.pageCount), slots, piece)
  }
}

function report(error: unknown): PageHashWorkerReport {
  if (error === undefined) return {ok: true}
  const e = error instanceof Error ? error : new Error(String(error))
  const code = (e as {code?: unknown}).code
  return {ok: false, name: e.name, code: typeof code === 'string' ? code : undefined, message: e.message}
}

if (parentPort) {
  const port = parentPort
  // A worker serves one job after another until its pool terminates it.
  port.on('message', (job: PageHashWorkerData) => {
    let failure: unknown
    try {
      hashClaimedUnits(job)
    } catch (error) {
      failure = error ?? new Error('page hash worker failed')
    }
    port.postMessage(report(failure))
  })
}
