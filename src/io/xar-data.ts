import {createHash, type Hash} from 'node:crypto'
import {pipeline} from 'node:stream'
import {createInflate} from 'node:zlib'
import {FormatError} from '../formats/format-error.js'
import {xarDigestName} from '../formats/xar.js'
import type {XarData} from '../formats/xar-toc.js'
import type {RandomAccessFile} from './random-access-file.js'

/**
 * Output chunk of the decoders: zlib's 16 KiB default made a payload of a few MB hundreds of
 * thread-pool round trips, each passed on through the cpio reader, the hashes and the staging.
 */
export const DECODED_CHUNK_BYTES = 256 * 1024

/** Archived bytes read from the package per positional read: a few reads for a member of a few MB. */
export const ARCHIVED_CHUNK_BYTES = 1024 * 1024

/** The digests of one xar member's bytes, filled in as its chunks go by. */
export interface XarDataDigests {
  archived?: {expected: string; hash: Hash}
  extracted?: {expected: string; hash: Hash}
  /** Decoded bytes seen so far. */
  extractedBytes: number
}

/** A digest for a TOC `<…-checksum style=…>`; undefined when the style is unknown (the caller reports it). */
export function digestFor(style: string | undefined): Hash | undefined {
  const name = style ? xarDigestName(style) : undefined
  return name ? createHash(name) : undefined
}

/**
 * Streams one xar member's data from the package `file` already open (never its path again: the
 * bytes read are those of the file whose TOC was judged, even if another file has since been put
 * at that path): the archived bytes at heap offset `data.offset`, read positionally
 * `ARCHIVED_CHUNK_BYTES` at a time and hashed as they are read, decoded (`application/x-gzip` is
 * zlib; `application/octet-stream` is stored), hashed again, and yielded chunk by chunk. Never
 * buffers the member and never closes `file` (its owner does). Throws a FormatError once more than
 * `maxBytes` come out of the decoder (`xar.too-large`), when the region lies past `archiveEnd`
 * (`xar.truncated`), when the file shrinks under the read or the bytes cannot be decoded
 * (`xar.member-unreadable`).
 */
export async function* xarDataChunks(file: RandomAccessFile, heapStart: number, archiveEnd: number, data: XarData, digests: XarDataDigests, maxBytes: number): AsyncGenerator<Buffer> {
  const path = file.path
  const start = heapStart + data.offset
  if (data.length > 0 && start + data.length > archiveEnd) {
    throw new FormatError('xar.truncated', `${path}: a member's data (heap offset ${data.offset}, ${data.length} bytes) lies past the end of the archive`)
  }
  let decoder
  switch (data.encoding) {
    case 'application/octet-stream':
      break
    case 'application/x-gzip':
      decoder = createInflate({chunkSize: DECODED_CHUNK_BYTES})
      break
    default:
      throw new FormatError('xar.encoding', `${path}: a member is encoded as ${data.encoding}, which esdctl does not read`)
  }
  if (data.length === 0) return
  async function* archived(): AsyncGenerator<Buffer> {
    for (let at = start; at < start + data.length; at += ARCHIVED_CHUNK_BYTES) {
      const chunk = await file.read(at, Math.min(ARCHIVED_CHUNK_BYTES, start + data.length - at), 'a member\'s data')
      digests.archived?.hash.update(chunk)
      yield chunk
    }
  }
  const source = archived()
  // pipeline destroys the decoder with the source's error, so the loop below sees it.
  const decoded: AsyncIterable<Buffer> = decoder ? pipeline(source, decoder, () => {}) : source
  try {
    for await (const chunk of decoded) {
      digests.extractedBytes += chunk.length
      if (digests.extractedBytes > maxBytes) throw new FormatError('xar.too-large', `${path}: a member inflates past ${maxBytes} bytes`)
      digests.extracted?.hash.update(chunk)
      yield chunk
    }
  } catch (e) {
    if (e instanceof FormatError && e.code.startsWith('xar.')) throw e
    throw new FormatError('xar.member-unreadable', `${path}: a member's data cannot be ${e instanceof FormatError ? 'read' : 'decoded'} (${(e as Error).message})`)
  } finally {
    // Ends the reads of this member (and the decoder with them); the shared file stays open.
    decoder?.destroy()
    await source.return(undefined)
  }
}
