import {inflateSync} from 'node:zlib'
import {BoundedBytes} from './bounded-bytes.js'
import {FormatError} from './format-error.js'
import {parseXarToc, type XarToc} from './xar-toc.js'

/**
 * The fixed header of a xar archive (a flat installer package), all big-endian (DESIGN §10, and the
 * xar format's own xar.h): magic `xar!`, header size (u16), version (u16), compressed TOC length
 * (u64), uncompressed TOC length (u64), checksum algorithm (u32: 0 none, 1 SHA-1, 2 MD5, 3 named —
 * the name, NUL-terminated, follows the fixed 28 bytes inside the header size).
 */
export interface XarHeader {
  headerSize: number
  version: number
  tocCompressedLength: number
  tocLength: number
  /** node:crypto's digest name, or 'none'. */
  checksumAlgorithm: string
  /** Where the heap starts: header size + compressed TOC length. */
  heapStart: number
}

export const XAR_MAGIC = Buffer.from('xar!', 'latin1')
const FIXED_HEADER_BYTES = 28
/** The header plus a named checksum algorithm; real headers are 28 bytes. */
export const MAX_HEADER_BYTES = 4096
/** Real TOCs are tens of kilobytes; a product archive with thousands of files stays far below these. */
export const MAX_TOC_COMPRESSED_BYTES = 16 * 1024 * 1024
export const MAX_TOC_BYTES = 64 * 1024 * 1024

const NAMED_ALGORITHMS: Readonly<Record<string, string>> = {sha1: 'sha1', md5: 'md5', sha224: 'sha224', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512'}

export function looksLikeXar(head: Buffer): boolean {
  return head.length >= 4 && head.subarray(0, 4).equals(XAR_MAGIC)
}

/** `xar` checksum styles as they appear in the TOC (`sha1`, `sha256`, `md5`, …) to node:crypto names; undefined for unknown ones. */
export function xarDigestName(style: string): string | undefined {
  return NAMED_ALGORITHMS[style.toLowerCase()]
}

/**
 * Parses the header from the file's first bytes (`head`, at least 28 bytes, up to MAX_HEADER_BYTES).
 * Throws FormatError naming `what` and the field for a bad magic, sizes past the limits above or
 * past `fileSize`, or an unknown checksum algorithm.
 */
export function parseXarHeader(head: Buffer, fileSize: number, what: string): XarHeader {
  const b = new BoundedBytes(head, `${what} (xar header)`)
  if (!looksLikeXar(b.slice(0, 4, 'magic'))) throw new FormatError('xar.bad-magic', `${what}: does not start with "xar!"`)
  b.check(0, FIXED_HEADER_BYTES, 'fixed header')
  const headerSize = b.buf.readUInt16BE(4)
  const version = b.buf.readUInt16BE(6)
  const tocCompressed = b.u64be(8, 'compressed TOC length')
  const tocLength = b.u64be(16, 'TOC length')
  const algorithm = b.u32be(24, 'checksum algorithm')
  if (headerSize < FIXED_HEADER_BYTES || headerSize > MAX_HEADER_BYTES) throw new FormatError('xar.header-size', `${what}: header size ${headerSize} is outside ${FIXED_HEADER_BYTES}..${MAX_HEADER_BYTES}`)
  if (tocCompressed === 0n || tocCompressed > BigInt(MAX_TOC_COMPRESSED_BYTES)) throw new FormatError('xar.toc-size', `${what}: compressed TOC length ${tocCompressed} is outside 1..${MAX_TOC_COMPRESSED_BYTES}`)
  if (tocLength === 0n || tocLength > BigInt(MAX_TOC_BYTES)) throw new FormatError('xar.toc-size', `${what}: TOC length ${tocLength} is outside 1..${MAX_TOC_BYTES}`)
  const heapStart = headerSize + Number(tocCompressed)
  if (heapStart > fileSize) throw new FormatError('xar.truncated', `${what}: the TOC ends at byte ${heapStart} but the file has ${fileSize}`)
  let checksumAlgorithm: string
  switch (algorithm) {
    case 0: checksumAlgorithm = 'none'; break
    case 1: checksumAlgorithm = 'sha1'; break
    case 2: checksumAlgorithm = 'md5'; break
    case 3: {
      const name = b.cString(FIXED_HEADER_BYTES, 'checksum algorithm name', headerSize - FIXED_HEADER_BYTES)
      const known = xarDigestName(name)
      if (!known) throw new FormatError('xar.checksum-algorithm', `${what}: unknown checksum algorithm "${name}"`)
      checksumAlgorithm = known
      break
    }
    default:
      throw new FormatError('xar.checksum-algorithm', `${what}: unknown checksum algorithm number ${algorithm}`)
  }
  return {headerSize, version, tocCompressedLength: Number(tocCompressed), tocLength: Number(tocLength), checksumAlgorithm, heapStart}
}

/**
 * Inflates the zlib-compressed TOC and parses it. The output is capped at the header's TOC length
 * (itself capped), so a compression bomb cannot allocate more than that.
 */
export function readXarToc(header: XarHeader, compressed: Buffer, what: string): XarToc {
  let xml: Buffer
  try {
    xml = inflateSync(compressed, {maxOutputLength: header.tocLength})
  } catch (e) {
    throw new FormatError('xar.toc-inflate', `${what}: the TOC does not inflate to ${header.tocLength} bytes (${(e as Error).message})`)
  }
  if (xml.length !== header.tocLength) throw new FormatError('xar.toc-size', `${what}: the TOC inflates to ${xml.length} bytes, not the ${header.tocLength} the header says`)
  return parseXarToc(xml.toString('utf8'), what)
}
