import {fstatSync} from 'node:fs'
import {FormatError} from '../formats/format-error.js'

/**
 * The code pages of one slice, resolved for hashing: an open file, where the slice starts, how
 * many of its bytes are covered and how each page is digested. Plain data, so it can be handed
 * to a worker thread as is (the descriptor is process-wide, so workers read the very file the
 * caller opened and checked).
 */
export interface CodePages {
  readonly path: string
  readonly fd: number
  readonly sliceOffset: number
  readonly codeLimit: number
  /** Bytes per page, never 0: a CodeDirectory page size of 0 is resolved to one page over everything. */
  readonly pageSize: number
  readonly pageCount: number
  readonly digestName: string
  readonly slotSize: number
}

/** Slice-relative byte range `[start, end)` covered by pages `[firstPage, endPage)`. */
export function bytesOfPages(pages: CodePages, firstPage: number, endPage: number): {start: number; end: number} {
  return {
    start: Math.min(firstPage * pages.pageSize, pages.codeLimit),
    end: Math.min(endPage * pages.pageSize, pages.codeLimit),
  }
}

export function shortReadError(pages: CodePages, readEnd: number): FormatError {
  // A thread reading a later unit meets the end at its own offset; the file's size is what the
  // message must name, so that every thread (and the sequential path) reports the same error.
  const fileEnd = Math.min(readEnd, sizeOf(pages.fd) ?? readEnd)
  const start = pages.sliceOffset
  const end = pages.sliceOffset + pages.codeLimit
  return new FormatError(
    'pages.short-read',
    `${pages.path}: the code pages of the slice at offset ${start} need file bytes [${start}, ${end}) ` +
      `(codeLimit ${pages.codeLimit}), but the file ends at offset ${fileEnd}`,
  )
}

/** Read size for a buffer of about `readBytes`: whole pages when a page fits, so each is digested in one shot. */
export function pieceSize(pageSize: number, readBytes: number): number {
  if (pageSize >= readBytes) return readBytes
  return Math.floor(readBytes / pageSize) * pageSize
}

function sizeOf(fd: number): number | undefined {
  try {
    return fstatSync(fd).size
  } catch {
    return undefined
  }
}
