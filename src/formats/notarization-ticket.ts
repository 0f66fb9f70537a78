import {berChildren, berRaw, isUniversal, readBer} from './ber.js'
import {BoundedBytes} from './bounded-bytes.js'
import {FormatError, isFormatError} from './format-error.js'
import {hashAlgorithmOf, type HashAlgorithm} from './hash-type.js'

/**
 * A stapled notarization ticket, as `stapler` writes it into `Contents/CodeResources` of a bundle or
 * appends it to a flat package.
 *
 * Public facts (the `apple-codesign` crate, indygreg/apple-platform-rs, `stapling.rs`): a bundle's
 * ticket is the file `Contents/CodeResources`; a xar's ticket is appended after the archive inside a
 * `t8lr` trailer (see `xar-ticket-trailer.ts`). The crate treats the ticket itself as opaque bytes.
 *
 * The layout below was established by reading the three real tickets in `shared/fixtures` and is
 * checked by the tests against them; fields we could not pin down are not interpreted:
 * - header, little-endian: magic `s8ch`, u32 version (1), u32 length of the certificate section,
 *   u32 length of the content section;
 * - certificate section: one DER SEQUENCE of X.509 certificates, leaf ("Software Ticket Signing") first;
 * - content section: magic `g8tk`, u16 version (2), u16 hash length (20),
 *   u32 entry count, u32 (not interpreted), u32 issue time (seconds since 1970), u32 (not interpreted), then `count` entries
 *   of one hash-type byte (the CodeDirectory hash types: 1 SHA-1, 2 SHA-256) and the 20-byte hash;
 * - signature: a DER ECDSA signature (SHA-256) over every byte before it, zero-padded to the end.
 */
export interface NotarizationTicket {
  version: number
  /** DER certificates, leaf first, exactly as shipped in the ticket. */
  certificates: Buffer[]
  /** When Apple says it issued the ticket. */
  issuedAt: Date
  /** The hashes the ticket vouches for: truncated cdhashes of code, or a package's TOC checksum. */
  entries: TicketEntry[]
  /** The bytes the signature covers (header, certificates, content). */
  signedBytes: Buffer
  /** The DER-encoded ECDSA signature, without its padding. */
  signature: Buffer
}

export interface TicketEntry {
  /** The CodeDirectory hash-type number (1 SHA-1, 2 SHA-256, …). */
  hashType: number
  algorithm?: HashAlgorithm
  /** Lower-case hex of the 20-byte hash. */
  hash: string
}

export const TICKET_MAGIC = Buffer.from('s8ch', 'latin1')
const CONTENT_MAGIC = Buffer.from('g8tk', 'latin1')
const HEADER_BYTES = 16
const CONTENT_HEADER_BYTES = 24
/** Real tickets are under 2 KB; a generous bound keeps a hostile one from costing anything. */
export const MAX_TICKET_BYTES = 256 * 1024
const MAX_ENTRIES = 10_000

export function looksLikeTicket(head: Buffer): boolean {
  return head.length >= 4 && head.subarray(0, 4).equals(TICKET_MAGIC)
}

/**
 * Parses a stapled ticket. Throws FormatError (naming `what` and the field) for anything that does
 * not fit the layout above; checks no signature (that is `trust/notarization-ticket.ts`).
 */
export function parseNotarizationTicket(bytes: Buffer, what: string): NotarizationTicket {
  if (bytes.length > MAX_TICKET_BYTES) throw new FormatError('ticket.too-large', `${what}: ${bytes.length} bytes is far larger than any notarization ticket (limit ${MAX_TICKET_BYTES})`)
  const b = new BoundedBytes(bytes, what)
  if (!looksLikeTicket(b.slice(0, 4, 'magic'))) throw new FormatError('ticket.bad-magic', `${what}: does not start with the ticket magic "s8ch"`)
  const version = b.u32le(4, 'version')
  const certLength = b.u32le(8, 'certificate section length')
  const contentLength = b.u32le(12, 'content section length')
  const certSection = b.slice(HEADER_BYTES, certLength, 'certificate section')
  const contentStart = HEADER_BYTES + certLength
  const content = new BoundedBytes(b.slice(contentStart, contentLength, 'content section'), `${what} (content section)`)
  const signatureField = b.slice(contentStart + contentLength, bytes.length - contentStart - contentLength, 'signature')

  if (!content.slice(0, 4, 'magic').equals(CONTENT_MAGIC)) throw new FormatError('ticket.bad-magic', `${what}: the content section does not start with "g8tk"`)
  content.check(6, 2, 'hash length')
  const hashLength = content.buf.readUInt16LE(6)
  if (hashLength !== 20) throw new FormatError('ticket.hash-length', `${what}: hash length ${hashLength}, expected 20`)
  const count = content.u32le(8, 'entry count')
  if (count > MAX_ENTRIES) throw new FormatError('ticket.too-many', `${what}: ${count} entries exceeds the limit of ${MAX_ENTRIES}`)
  const issuedAt = new Date(content.u32le(16, 'issue time') * 1000)
  const entries: TicketEntry[] = []
  for (let i = 0, at = CONTENT_HEADER_BYTES; i < count; i++, at += 1 + hashLength) {
    const hashType = content.u8(at, `entry ${i} hash type`)
    const algorithm = hashAlgorithmOf(hashType)
    entries.push({hashType, ...(algorithm ? {algorithm} : {}), hash: content.slice(at + 1, hashLength, `entry ${i} hash`).toString('hex')})
  }
  if (CONTENT_HEADER_BYTES + count * (1 + hashLength) !== contentLength) {
    throw new FormatError('ticket.length', `${what}: the content section is ${contentLength} bytes but ${count} entries need ${CONTENT_HEADER_BYTES + count * (1 + hashLength)}`)
  }
  return {
    version,
    certificates: derSequenceItems(certSection, `${what} (certificates)`),
    issuedAt,
    entries,
    signedBytes: b.slice(0, contentStart + contentLength, 'signed bytes'),
    signature: derPrefix(signatureField, `${what} (signature)`),
  }
}

function derSequenceItems(der: Buffer, what: string): Buffer[] {
  const seq = unlessMalformed(() => readBer(der, 0, der.length, 'ticket.certificates', what))
  const items = seq?.end === der.length && isUniversal(seq, 16) ? unlessMalformed(() => berChildren(seq, 'ticket.certificates', what)) : undefined
  if (!items) throw new FormatError('ticket.certificates', `${what}: not one DER SEQUENCE of certificates`)
  return items.map(c => Buffer.from(berRaw(c)))
}

/** The DER value at the start of `field`; only zero padding may follow it. */
function derPrefix(field: Buffer, what: string): Buffer {
  const seq = unlessMalformed(() => readBer(field, 0, field.length, 'ticket.signature', what))
  if (!seq || !isUniversal(seq, 16)) throw new FormatError('ticket.signature', `${what}: not a DER signature`)
  if (!field.subarray(seq.end).every(x => x === 0)) throw new FormatError('ticket.signature', `${what}: non-zero bytes follow the signature`)
  return field.subarray(0, seq.end)
}

/** What `read` returns, or undefined when it finds the bytes malformed (the callers say how, in the ticket's terms). */
function unlessMalformed<T>(read: () => T): T | undefined {
  try {
    return read()
  } catch (e) {
    if (isFormatError(e)) return undefined
    throw e
  }
}
