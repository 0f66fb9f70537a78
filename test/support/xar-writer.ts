import {createHash, KeyObject, sign} from 'node:crypto'
import {deflateSync, inflateSync} from 'node:zlib'
import type {TestIdentity} from './test-pki.js'

/** A xar split into the parts tests rewrite: the TOC's XML, the heap, and whatever follows the heap's end (a stapled ticket). */
export interface XarParts {
  tocXml: string
  heap: Buffer
  /** The bytes after `archiveEnd` (terminator trailer, ticket, ticket trailer); empty when none. */
  stapled: Buffer
}

/** Splits a real package; `archiveEnd` is where its stapled ticket region starts (the file's size without one). */
export function splitXar(bytes: Buffer): XarParts {
  const headerSize = bytes.readUInt16BE(4)
  const compressed = Number(bytes.readBigUInt64BE(8))
  const heapStart = headerSize + compressed
  let end = bytes.length
  if (bytes.subarray(-16, -12).toString('latin1') === 't8lr') end = bytes.length - 16 - bytes.readUInt32LE(bytes.length - 8) - 16
  return {
    tocXml: inflateSync(bytes.subarray(headerSize, heapStart)).toString('utf8'),
    heap: Buffer.from(bytes.subarray(heapStart, end)),
    stapled: Buffer.from(bytes.subarray(end)),
  }
}

/** A 28-byte header (version 1, SHA-1 checksums), the zlib TOC and the heap, then `stapled`. */
export function assembleXar(parts: XarParts): Buffer {
  const toc = deflateSync(Buffer.from(parts.tocXml, 'utf8'))
  const header = Buffer.alloc(28)
  header.write('xar!', 0, 'latin1')
  header.writeUInt16BE(28, 4)
  header.writeUInt16BE(1, 6)
  header.writeBigUInt64BE(BigInt(toc.length), 8)
  header.writeBigUInt64BE(BigInt(Buffer.byteLength(parts.tocXml)), 16)
  header.writeUInt32BE(1, 24)
  return Buffer.concat([header, toc, parts.heap, parts.stapled])
}

/**
 * Re-signs a package the way productsign does, with a test identity: KeyInfo names the identity's
 * chain, the `<x-signature>` is dropped, the SHA-1 TOC checksum goes to heap offset 0 and the RSA
 * signature (PKCS #1 v1.5 over the compressed TOC, i.e. a DigestInfo of the checksum) to offset 20.
 * `keepCms` leaves the original `<x-signature>` in place (it then signs a checksum that changed).
 */
export function resignXar(parts: XarParts, identity: TestIdentity, opts: {keepCms?: boolean} = {}): Buffer {
  const certs = [identity.certDer, ...identity.chainDer].map(d => `<X509Certificate>${d.toString('base64')}</X509Certificate>`).join('')
  const tocXml = (opts.keepCms ? parts.tocXml : parts.tocXml.replace(/<x-signature[\s\S]*?<\/x-signature>\s*/, ''))
    .replace(/(<signature style="RSA">[\s\S]*?<X509Data>)[\s\S]*?(<\/X509Data>)/, `$1${certs}$2`)
  const compressed = deflateSync(Buffer.from(tocXml, 'utf8'))
  const heap = Buffer.from(parts.heap)
  createHash('sha1').update(compressed).digest().copy(heap, 0)
  sign('sha1', compressed, KeyObject.from(identity.privateKey)).copy(heap, 20)
  return assembleXar({tocXml, heap, stapled: Buffer.alloc(0)})
}
