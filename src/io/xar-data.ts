import {createHash, type Hash} from 'node:crypto'
import {openRegularFile} from './regular-file.js'
import {pipeline} from 'node:stream'
import {createInflate} from 'node:zlib'
import {FormatError} from '../formats/format-error.js'
import {xarDigestName} from '../formats/xar.js'
import type {XarData} from '../formats/xar-toc.js'

/**
 * Output chunk of the decoders: zlib's 16 KiB default made a payload of a few MB hundreds of
 * thread-pool round trips, each passed on through the cpio reader, the hashes and the staging.
 */
export const DECODED_CHUNK_BYTES = 256 * 1024

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
 * Streams one xar member's data from `path`: the archived bytes at heap offset `data.offset`, hashed
 * as they are read, decoded (`application/x-gzip` is zlib; `application/octet-stream` is stored),
 * hashed again, and yielded chunk by chunk. Never buffers the member; stops with a FormatError once
 * more than `maxBytes` come out of the decoder, or when the region lies past `archiveEnd`.
 */
export async function* xarDataChunks(path: string, heapStart: number, archiveEnd: number, data: XarData, digests: XarDataDigests, maxBytes: number): AsyncGenerator<Buffer> {
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
  const raw = (await openRegularFile(path)).handle.createReadStream({start, end: start + data.length - 1, highWaterMark: 1024 * 1024})
  async function* archived(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      digests.archived?.hash.update(chunk)
      yield chunk
    }
  }
  // pipeline destroys the decoder with the source's error, so the loop below sees it.
  const decoded: AsyncIterable<Buffer> = decoder ? pipeline(archived(raw), decoder, () => {}) : archived(raw)
  try {
    for await (const chunk of decoded) {
      digests.extractedBytes += chunk.length
      if (digests.extractedBytes > maxBytes) throw new FormatError('xar.too-large', `${path}: a member inflates past ${maxBytes} bytes`)
      digests.extracted?.hash.update(chunk)
      yield chunk
    }
  } catch (e) {
    if (e instanceof FormatError) throw e
    throw new FormatError('xar.member-unreadable', `${path}: a member's data cannot be decoded (${(e as Error).message})`)
  } finally {
    raw.destroy()
  }
}
