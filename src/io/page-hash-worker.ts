/**
 * Worker thread for parallel page hashing. Kept to node: built-ins and the few small page modules
 * so that starting one costs little. Workers claim units of pages from a shared counter (so a
 * slower thread simply claims fewer) and write slots straight into the shared output.
 */
import {parentPort, workerData} from 'node:worker_threads'
import {bytesOfPages, pieceSize, shortReadError, type CodePages} from './code-pages.js'
import {PageDigestStream} from './page-digest-stream.js'
import {readAtSync} from './positional-read.js'
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
    const endPage = Math.min(firstPage + pagesPerUnit, pages.pageCount)
    const stream = new PageDigestStream(pages, firstPage, endPage, slots)
    const {start, end} = bytesOfPages(pages, firstPage, endPage)
    for (let at = start; at < end; at += piece.length) {
      const length = Math.min(piece.length, end - at)
      const got = readAtSync(pages.fd, piece, length, pages.sliceOffset + at)
      if (got < length) throw shortReadError(pages, pages.sliceOffset + at + got)
      stream.push(piece.subarray(0, length))
    }
    stream.finish()
  }
}

function report(error: unknown): PageHashWorkerReport {
  if (error === undefined) return {ok: true}
  const e = error instanceof Error ? error : new Error(String(error))
  const code = (e as {code?: unknown}).code
  return {ok: false, name: e.name, code: typeof code === 'string' ? code : undefined, message: e.message}
}

if (parentPort) {
  let failure: unknown
  try {
    hashClaimedUnits(workerData as PageHashWorkerData)
  } catch (error) {
    failure = error ?? new Error('page hash worker failed')
  }
  parentPort.postMessage(report(failure))
}
