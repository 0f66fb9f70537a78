import {KeyObject, sign} from 'node:crypto'
import * as asn1js from 'asn1js'
import type {TestIdentity} from './test-pki.js'

/**
 * Builds a stapled-ticket file in the layout `src/formats/notarization-ticket.ts` documents, signed
 * with a test identity (ECDSA P-256, SHA-256), so tests can staple tickets that are well formed but
 * not Apple's, or that list other hashes.
 */
export function writeTicket(opts: {identity: TestIdentity; entries: Array<{hashType: number; hash: string}>; issuedAt: Date}): Buffer {
  const certs = Buffer.from(new asn1js.Sequence({value: [opts.identity.certDer, ...opts.identity.chainDer].map(der => asn1js.fromBER(der).result)}).toBER(false))
  const content = Buffer.alloc(24 + opts.entries.length * 21)
  content.write('g8tk', 0, 'latin1')
  content.writeUInt16LE(2, 4)
  content.writeUInt16LE(20, 6)
  content.writeUInt32LE(opts.entries.length, 8)
  content.writeUInt32LE(Math.floor(opts.issuedAt.getTime() / 1000), 16)
  opts.entries.forEach((e, i) => {
    content[24 + i * 21] = e.hashType
    Buffer.from(e.hash, 'hex').copy(content, 25 + i * 21)
  })
  const header = Buffer.alloc(16)
  header.write('s8ch', 0, 'latin1')
  header.writeUInt32LE(1, 4)
  header.writeUInt32LE(certs.length, 8)
  header.writeUInt32LE(content.length, 12)
  const signed = Buffer.concat([header, certs, content])
  const signature = sign('sha256', signed, KeyObject.from(opts.identity.privateKey))
  return Buffer.concat([signed, signature, Buffer.alloc(72 - signature.length)])
}
