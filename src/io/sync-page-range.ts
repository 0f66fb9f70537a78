import {bytesOfPages, shortReadError, type CodePages} from './code-pages.js'
import {PageDigestStream} from './page-digest-stream.js'
import {readAtSync} from './positional-read.js'

/**
 * Hashes pages `[firstPage, endPage)` with blocking reads into `piece`. Used where a thread has
 * nothing else to do meanwhile (a worker, or the caller between units of a parallel job): a
 * blocking read costs no extra thread, which on a 2-core machine is worth more than overlap.
 */
export function hashPageRangeSync(pages: CodePages, firstPage: number, endPage: number, slots: Uint8Array, piece: Buffer): void {
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
