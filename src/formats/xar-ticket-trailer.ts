import {FormatError} from './format-error.js'
import {MAX_TICKET_BYTES} from './notarization-ticket.js'

/**
 * Where `stapler` appends a notarization ticket to a flat package (the `apple-codesign` crate's
 * stapling.rs, checked against the real packages in shared/fixtures): a 16-byte little-endian
 * trailer `t8lr`, u16 version, u16 type (1 terminator, 2 ticket), u32 length, u32 unused; the file
 * ends with a type-2 trailer whose length is that of the ticket right before it, and a type-1
 * trailer (length 0) marks the end of the xar before the ticket.
 */
export const TRAILER_MAGIC = Buffer.from('t8lr', 'latin1')
export const TRAILER_BYTES = 16

export interface StapledRegion {
  /** Byte offset of the ticket in the file. */
  offset: number
  length: number
  /** Where the archive's own bytes end (the terminator trailer's offset, or the ticket's). */
  archiveEnd: number
}

/**
 * Reads the last 16 bytes of a file (`tail`) of `fileSize` bytes; undefined when no ticket trailer
 * is there. Throws FormatError when a trailer claims a ticket that cannot fit.
 */
export function parseTicketTrailer(tail: Buffer, fileSize: number, what: string): StapledRegion | undefined {
  if (tail.length !== TRAILER_BYTES || !tail.subarray(0, 4).equals(TRAILER_MAGIC) || tail.readUInt16LE(6) !== 2) return undefined
  const length = tail.readUInt32LE(8)
  const offset = fileSize - TRAILER_BYTES - length
  if (length === 0 || length > MAX_TICKET_BYTES || offset < 0) throw new FormatError('xar.ticket-trailer', `${what}: the stapled-ticket trailer claims ${length} bytes, which do not fit`)
  return {offset, length, archiveEnd: offset >= TRAILER_BYTES ? offset - TRAILER_BYTES : offset}
}

/** True when `bytes` (16) is the terminator trailer that separates the archive from its ticket. */
export function isTerminatorTrailer(bytes: Buffer): boolean {
  return bytes.length === TRAILER_BYTES && bytes.subarray(0, 4).equals(TRAILER_MAGIC) && bytes.readUInt16LE(6) === 1
}
