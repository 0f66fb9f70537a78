import {BoundedBytes} from './bounded-bytes.js'
import {FormatError} from './format-error.js'

/** Magic numbers that open each code-signing blob (big-endian). */
export const BlobMagic = {
  requirement: 0xfade0c00,
  requirementSet: 0xfade0c01,
  codeDirectory: 0xfade0c02,
  embeddedSignature: 0xfade0cc0,
  entitlements: 0xfade7171,
  derEntitlements: 0xfade7172,
  launchConstraint: 0xfade8181,
  blobWrapper: 0xfade0b01,
} as const

/** Index slot types in the embedded signature SuperBlob. */
export const SlotType = {
  codeDirectory: 0,
  infoPlist: 1,
  requirements: 2,
  resourceDir: 3,
  application: 4,
  entitlements: 5,
  repSpecific: 6,
  derEntitlements: 7,
  launchConstraintSelf: 8,
  launchConstraintParent: 9,
  launchConstraintResponsible: 10,
  libraryConstraint: 11,
  alternateCodeDirectory0: 0x1000,
  signature: 0x10000,
} as const

/** Apple's signer writes at most five alternate CodeDirectories (0x1000–0x1004). */
export const MAX_ALTERNATE_CODE_DIRECTORIES = 5

export interface BlobIndexEntry {
  slot: number
  /** Offset of the blob from the start of the SuperBlob. */
  offset: number
  magic: number
  length: number
  /** The whole blob including its 8-byte header (a view into the input). */
  blob: Buffer
}

export interface EmbeddedSignature {
  length: number
  entries: BlobIndexEntry[]
}

const SUPERBLOB_HEADER = 12
const INDEX_ENTRY = 8
const BLOB_HEADER = 8

/**
 * Reads the `{magic, length}` header every code-signing blob starts with and returns the blob cut to
 * its declared length. `codePrefix` names the structure in the FormatError code (`cd.bad-magic`).
 */
export function readBlob(buf: Buffer, expectedMagic: number, what: string, codePrefix: string): Buffer {
  const bytes = new BoundedBytes(buf, what)
  if (bytes.length < BLOB_HEADER) throw new FormatError(`${codePrefix}.truncated`, `${what}: ${bytes.length} bytes cannot hold a blob header`)
  const magic = bytes.u32be(0, 'magic')
  if (magic !== expectedMagic) {
    throw new FormatError(`${codePrefix}.bad-magic`, `${what}: magic 0x${hex32(magic)} is not 0x${hex32(expectedMagic)}`)
  }
  const length = bytes.u32be(4, 'length')
  if (length < BLOB_HEADER || length > bytes.length) {
    throw new FormatError(`${codePrefix}.bad-length`, `${what}: declared length ${length} is outside [${BLOB_HEADER}, ${bytes.length}]`)
  }
  return buf.subarray(0, length)
}

export function hex32(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0')
}

/**
 * Parses the embedded signature SuperBlob. `buf` is the LC_CODE_SIGNATURE data, which may run past the
 * SuperBlob (zero padding). Every indexed blob must lie inside the SuperBlob after the index, no two
 * blobs may overlap, and no slot may appear twice.
 */
export function parseEmbeddedSignature(buf: Buffer): EmbeddedSignature {
  if (buf.length < SUPERBLOB_HEADER) throw new FormatError('superblob.truncated', `signature data of ${buf.length} bytes cannot hold a SuperBlob header`)
  const superBlob = new BoundedBytes(readBlob(buf, BlobMagic.embeddedSignature, 'embedded signature', 'superblob'), 'embedded signature')
  const length = superBlob.length
  if (length < SUPERBLOB_HEADER) throw new FormatError('superblob.bad-length', `embedded signature length ${length} is shorter than its header`)
  const count = superBlob.u32be(8, 'count')
  // Bounding the count by what can fit keeps a forged huge count from driving a long loop or allocation.
  if (count > Math.floor((length - SUPERBLOB_HEADER) / INDEX_ENTRY)) {
    throw new FormatError('superblob.bad-count', `embedded signature claims ${count} blobs; its ${length} bytes hold at most ${Math.floor((length - SUPERBLOB_HEADER) / INDEX_ENTRY)} index entries`)
  }
  const indexEnd = SUPERBLOB_HEADER + count * INDEX_ENTRY
  const entries: BlobIndexEntry[] = []
  const seenSlots = new Set<number>()
  for (let i = 0; i < count; i++) {
    const slot = superBlob.u32be(SUPERBLOB_HEADER + i * INDEX_ENTRY, `index ${i} type`)
    const offset = superBlob.u32be(SUPERBLOB_HEADER + i * INDEX_ENTRY + 4, `index ${i} offset`)
    if (seenSlots.has(slot)) throw new FormatError('superblob.duplicate-slot', `embedded signature lists slot 0x${slot.toString(16)} twice`)
    seenSlots.add(slot)
    if (offset < indexEnd) throw new FormatError('superblob.overlap', `blob for slot 0x${slot.toString(16)} at ${offset} overlaps the index (which ends at ${indexEnd})`)
    if (offset + BLOB_HEADER > length) throw new FormatError('superblob.blob-out-of-range', `blob for slot 0x${slot.toString(16)} at ${offset} does not fit in the ${length}-byte SuperBlob`)
    const magic = superBlob.u32be(offset, `slot 0x${slot.toString(16)} magic`)
    const blobLength = superBlob.u32be(offset + 4, `slot 0x${slot.toString(16)} length`)
    if (blobLength < BLOB_HEADER || offset + blobLength > length) {
      throw new FormatError('superblob.blob-out-of-range', `blob for slot 0x${slot.toString(16)} at ${offset} claims ${blobLength} bytes, past the end of the ${length}-byte SuperBlob`)
    }
    entries.push({slot, offset, magic, length: blobLength, blob: superBlob.slice(offset, blobLength, `slot 0x${slot.toString(16)}`)})
  }
  rejectOverlappingBlobs(entries)
  return {length, entries}
}

function rejectOverlappingBlobs(entries: readonly BlobIndexEntry[]): void {
  const sorted = [...entries].sort((a, b) => a.offset - b.offset)
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!
    const cur = sorted[i]!
    if (prev.offset + prev.length > cur.offset) {
      throw new FormatError('superblob.overlap', `blobs for slots 0x${prev.slot.toString(16)} and 0x${cur.slot.toString(16)} overlap at ${cur.offset}`)
    }
  }
}

/** The entry for a slot, if the signature has one. */
export function entryForSlot(signature: EmbeddedSignature, slot: number): BlobIndexEntry | undefined {
  return signature.entries.find(e => e.slot === slot)
}

/** Every CodeDirectory entry: slot 0 first, then the alternates in slot order. */
export function codeDirectoryEntries(signature: EmbeddedSignature): BlobIndexEntry[] {
  return signature.entries
    .filter(e => e.slot === SlotType.codeDirectory || (e.slot >= SlotType.alternateCodeDirectory0 && e.slot < SlotType.alternateCodeDirectory0 + MAX_ALTERNATE_CODE_DIRECTORIES))
    .sort((a, b) => a.slot - b.slot)
}

/** The blob without its 8-byte header: the DER of the CMS wrapper (0xfade0b01), for instance. */
export function blobPayload(entry: BlobIndexEntry): Buffer {
  return entry.blob.subarray(BLOB_HEADER)
}
