import {bytesOfPages, pieceSize, shortReadError, type CodePages} from './code-pages.js'
import {PageDigestStream} from './page-digest-stream.js'
import {readAt} from './positional-read.js'

/**
 * Read size on the calling thread. Measured on the bench (256 MiB, page cache warm): 1–2 MiB
 * double-buffered reads keep hashing at the in-memory rate; 128–256 KiB pay per-read overhead
 * and 4–8 MiB pieces fall out of the CPU cache between the copy and the digest.
 */
export const SEQUENTIAL_READ_BYTES = 1 << 20

/** Hashes every page on this thread. */
export async function hashPagesSequentially(pages: CodePages, signal?: AbortSignal): Promise<Buffer> {
  const out = Buffer.alloc(pages.pageCount * pages.slotSize)
  await hashPageRange(pages, 0, pages.pageCount, out, new ReadBuffers(pages.pageSize), signal)
  return out
}

/** Two reused read buffers, sized to hold whole pages. */
export class ReadBuffers {
  readonly pieceBytes: number
  readonly pair: readonly [Buffer, Buffer]
  constructor(pageSize: number) {
    this.pieceBytes = pieceSize(pageSize, SEQUENTIAL_READ_BYTES)
    this.pair = [Buffer.allocUnsafe(this.pieceBytes), Buffer.allocUnsafe(this.pieceBytes)]
  }
}

/**
 * Hashes pages `[firstPage, endPage)` into their slots in `out`. The next piece is read (on
 * libuv's pool) while the current one is digested, so the copy out of the page cache overlaps
 * the hashing instead of adding to it.
 */
export async function hashPageRange(
  pages: CodePages,
  firstPage: number,
  endPage: number,
  out: Uint8Array,
  buffers: ReadBuffers,
  signal?: AbortSignal,
): Promise<void> {
  const stream = new PageDigestStream(pages, firstPage, endPage, out)
  const {start, end} = bytesOfPages(pages, firstPage, endPage)
  const {pieceBytes, pair} = buffers

  const readPiece = (index: number, at: number): Promise<Buffer> => {
    const buffer = pair[index % 2]!
    const length = Math.min(pieceBytes, end - at)
    return readAt(pages.fd, buffer, length, pages.sliceOffset + at).then((got) => {
      if (got < length) throw shortReadError(pages, pages.sliceOffset + at + got)
      return buffer.subarray(0, length)
    })
  }

  let next: Promise<Buffer> | undefined = start < end ? readPiece(0, start) : undefined
  try {
    for (let at = start, index = 0; at < end; at += pieceBytes, index++) {
      signal?.throwIfAborted()
      const piece: Buffer = await next!
      next = at + pieceBytes < end ? readPiece(index + 1, at + pieceBytes) : undefined
      stream.push(piece)
    }
    stream.finish()
  } finally {
    // Never leave a read running into a buffer (or on a descriptor) the caller is about to drop.
    await next?.catch(() => undefined)
  }
}
