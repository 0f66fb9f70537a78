import {BoundedBytes} from './bounded-bytes.js'
import {FormatError} from './format-error.js'
import {digest, fullDigest, hashRankOf, hashSizeOf} from './hash-type.js'
import {BlobMagic, readBlob} from './superblob.js'

export interface CodeDirectory {
  /** The whole blob, header included, cut to its declared length. */
  blob: Buffer
  version: number
  /** Bytes of fixed header this version defines; hash slots and strings must not start inside it. */
  headerSize: number
  flags: number
  flagNames: string[]
  hashOffset: number
  identOffset: number
  identifier: string
  teamId?: string
  nSpecialSlots: number
  nCodeSlots: number
  /** Bytes of the slice covered by code slots: codeLimit64 when the version has it and it is non-zero. */
  codeLimit: number
  hashSize: number
  hashType: number
  platform: number
  pageSizeLog2: number
  /** 0 means one page covers the whole codeLimit. */
  pageSize: number
  scatterOffset?: number
  execSegBase?: bigint
  execSegLimit?: bigint
  execSegFlags?: bigint
  runtime?: number
  preEncryptOffset?: number
}

/** Versions Apple's verifier accepts: from the first public format up to (not including) its compatibility limit. */
export const EARLIEST_VERSION = 0x20001
export const COMPATIBILITY_LIMIT = 0x30000

// Each version appends fields to the one before; the header ends where the newest field it knows ends.
const HEADER_SIZES: ReadonlyArray<readonly [minVersion: number, size: number]> = [
  [0x20600, 0x6c], // linkage hash type/application type/offset/size
  [0x20500, 0x60], // runtime, preEncryptOffset
  [0x20400, 0x58], // execSegBase, execSegLimit, execSegFlags
  [0x20300, 0x40], // spare3, codeLimit64
  [0x20200, 0x34], // teamOffset
  [0x20100, 0x30], // scatterOffset
  [0, 0x2c],
]

export function codeDirectoryHeaderSize(version: number): number {
  for (const [minVersion, size] of HEADER_SIZES) if (version >= minVersion) return size
  return 0x2c
}

const FLAG_NAMES: ReadonlyArray<readonly [bit: number, name: string]> = [
  [0x1, 'host'],
  [0x2, 'adhoc'],
  [0x100, 'hard'],
  [0x200, 'kill'],
  [0x400, 'force-expiration'],
  [0x800, 'restrict'],
  [0x1000, 'enforcement'],
  [0x2000, 'library-validation'],
  [0x10000, 'runtime'],
  [0x20000, 'linker-signed'],
]

/** Names of the set flags; bits without a name are listed as hex so nothing set goes unmentioned. */
export function codeDirectoryFlagNames(flags: number): string[] {
  const names: string[] = []
  let rest = flags >>> 0
  for (const [bit, name] of FLAG_NAMES) {
    if (rest & bit) {
      names.push(name)
      rest = (rest & ~bit) >>> 0
    }
  }
  for (let bit = 1; rest !== 0 && bit <= 0x80000000; bit = bit * 2) {
    if (rest & bit) {
      names.push(`0x${bit.toString(16)}`)
      rest = (rest & ~bit) >>> 0
    }
  }
  return names
}

const MIN_PAGE_SIZE_LOG2 = 9
const MAX_PAGE_SIZE_LOG2 = 24
const MAX_STRING = 4096

/**
 * Parses and validates a CodeDirectory blob: magic, length, version-dependent header size, hash type and
 * size, identifier and team strings, the hash slot array inside the blob, page size, and that the code
 * slot count matches codeLimit.
 */
export function parseCodeDirectory(input: Buffer): CodeDirectory {
  const blob = readBlob(input, BlobMagic.codeDirectory, 'CodeDirectory', 'cd')
  const bytes = new BoundedBytes(blob, 'CodeDirectory')
  if (blob.length < 0x2c) throw new FormatError('cd.truncated', `CodeDirectory of ${blob.length} bytes is shorter than the 44-byte base header`)
  const version = bytes.u32be(0x08, 'version')
  if (version < EARLIEST_VERSION || version >= COMPATIBILITY_LIMIT) {
    throw new FormatError('cd.unsupported-version', `CodeDirectory version 0x${version.toString(16)} is outside the supported range [0x${EARLIEST_VERSION.toString(16)}, 0x${COMPATIBILITY_LIMIT.toString(16)})`)
  }
  const headerSize = codeDirectoryHeaderSize(version)
  if (blob.length < headerSize) {
    throw new FormatError('cd.truncated', `CodeDirectory version 0x${version.toString(16)} needs a ${headerSize}-byte header but the blob has ${blob.length} bytes`)
  }
  const flags = bytes.u32be(0x0c, 'flags')
  const hashOffset = bytes.u32be(0x10, 'hashOffset')
  const identOffset = bytes.u32be(0x14, 'identOffset')
  const nSpecialSlots = bytes.u32be(0x18, 'nSpecialSlots')
  const nCodeSlots = bytes.u32be(0x1c, 'nCodeSlots')
  const codeLimit32 = bytes.u32be(0x20, 'codeLimit')
  const hashSize = bytes.u8(0x24, 'hashSize')
  const hashType = bytes.u8(0x25, 'hashType')
  const platform = bytes.u8(0x26, 'platform')
  const pageSizeLog2 = bytes.u8(0x27, 'pageSize')

  const expectedHashSize = hashSizeOf(hashType)
  if (expectedHashSize === undefined) throw new FormatError('cd.unknown-hash-type', `CodeDirectory hash type ${hashType} is unknown`)
  if (hashSize !== expectedHashSize) {
    throw new FormatError('cd.hash-size', `CodeDirectory hash size ${hashSize} does not match hash type ${hashType} (${expectedHashSize} bytes)`)
  }
  if (pageSizeLog2 !== 0 && (pageSizeLog2 < MIN_PAGE_SIZE_LOG2 || pageSizeLog2 > MAX_PAGE_SIZE_LOG2)) {
    throw new FormatError('cd.page-size', `CodeDirectory page size 2^${pageSizeLog2} is outside 2^${MIN_PAGE_SIZE_LOG2}..2^${MAX_PAGE_SIZE_LOG2}`)
  }
  const pageSize = pageSizeLog2 === 0 ? 0 : 2 ** pageSizeLog2

  let codeLimit = codeLimit32
  if (version >= 0x20300) {
    const codeLimit64 = bytes.u64be(0x38, 'codeLimit64')
    if (codeLimit64 !== 0n) {
      if (codeLimit64 > BigInt(Number.MAX_SAFE_INTEGER)) throw new FormatError('cd.code-limit', `CodeDirectory codeLimit64 ${codeLimit64} is not a usable file size`)
      codeLimit = Number(codeLimit64)
    }
  }

  const identifier = readString(bytes, identOffset, headerSize, 'identifier')
  const cd: CodeDirectory = {
    blob, version, headerSize, flags, flagNames: codeDirectoryFlagNames(flags), hashOffset, identOffset, identifier,
    nSpecialSlots, nCodeSlots, codeLimit, hashSize, hashType, platform, pageSizeLog2, pageSize,
  }

  if (version >= 0x20100) {
    const scatterOffset = bytes.u32be(0x2c, 'scatterOffset')
    if (scatterOffset !== 0) {
      if (scatterOffset < headerSize || scatterOffset >= blob.length) {
        throw new FormatError('cd.scatter-out-of-range', `CodeDirectory scatter vector at ${scatterOffset} lies outside [${headerSize}, ${blob.length})`)
      }
      cd.scatterOffset = scatterOffset
    }
  }
  if (version >= 0x20200) {
    const teamOffset = bytes.u32be(0x30, 'teamOffset')
    if (teamOffset !== 0) cd.teamId = readString(bytes, teamOffset, headerSize, 'team identifier')
  }
  if (version >= 0x20400) {
    cd.execSegBase = bytes.u64be(0x40, 'execSegBase')
    cd.execSegLimit = bytes.u64be(0x48, 'execSegLimit')
    cd.execSegFlags = bytes.u64be(0x50, 'execSegFlags')
  }
  if (version >= 0x20500) {
    cd.runtime = bytes.u32be(0x58, 'runtime')
    cd.preEncryptOffset = bytes.u32be(0x5c, 'preEncryptOffset')
  }

  checkSlotRange(cd)
  checkSlotCount(cd)
  return cd
}

function readString(bytes: BoundedBytes, offset: number, headerSize: number, field: string): string {
  if (offset < headerSize || offset >= bytes.length) {
    throw new FormatError('cd.string-out-of-range', `CodeDirectory ${field} offset ${offset} lies outside [${headerSize}, ${bytes.length})`)
  }
  try {
    return bytes.cString(offset, field, MAX_STRING)
  } catch (e) {
    if (e instanceof FormatError) throw new FormatError('cd.string-unterminated', `CodeDirectory ${field} at ${offset} is not NUL-terminated inside the blob`)
    throw e
  }
}

// Special slots sit just below hashOffset, code slots from it upward; all of them must be inside the blob, after the header.
function checkSlotRange(cd: CodeDirectory): void {
  const start = cd.hashOffset - cd.nSpecialSlots * cd.hashSize
  const end = cd.hashOffset + cd.nCodeSlots * cd.hashSize
  if (start < cd.headerSize || end > cd.blob.length) {
    throw new FormatError('cd.hash-offset-out-of-range', `CodeDirectory hash slots [${start}, ${end}) (hashOffset ${cd.hashOffset}, ${cd.nSpecialSlots} special, ${cd.nCodeSlots} code) lie outside [${cd.headerSize}, ${cd.blob.length})`)
  }
}

// With a scatter vector the pages are listed by the vector, not derived from codeLimit, so the count can't be checked this way.
function checkSlotCount(cd: CodeDirectory): void {
  if (cd.scatterOffset !== undefined) return
  const expected = cd.codeLimit === 0 ? 0 : cd.pageSize === 0 ? 1 : Math.ceil(cd.codeLimit / cd.pageSize)
  if (cd.nCodeSlots !== expected) {
    throw new FormatError('cd.slot-count', `CodeDirectory has ${cd.nCodeSlots} code slots but codeLimit ${cd.codeLimit} with page size ${cd.pageSize || 'unpaged'} needs ${expected}`)
  }
}

/** Special slot `slot` (1 = Info.plist, 2 = requirements, …); undefined when beyond nSpecialSlots or all zero (absent). */
export function specialSlotHash(cd: CodeDirectory, slot: number): Buffer | undefined {
  if (!Number.isInteger(slot) || slot < 1 || slot > cd.nSpecialSlots) return undefined
  const start = cd.hashOffset - slot * cd.hashSize
  const hash = cd.blob.subarray(start, start + cd.hashSize)
  return hash.every(b => b === 0) ? undefined : hash
}

/** The nCodeSlots × hashSize bytes of code slot hashes (a view into the blob). */
export function codeSlotHashes(cd: CodeDirectory): Buffer {
  return cd.blob.subarray(cd.hashOffset, cd.hashOffset + cd.nCodeSlots * cd.hashSize)
}

/** Code slot `index` (a view); undefined past the last slot. */
export function codeSlotHash(cd: CodeDirectory, index: number): Buffer | undefined {
  if (!Number.isInteger(index) || index < 0 || index >= cd.nCodeSlots) return undefined
  const start = cd.hashOffset + index * cd.hashSize
  return cd.blob.subarray(start, start + cd.hashSize)
}

/** The cdhash: the blob hashed with its own hash type, truncated to 20 bytes. */
export function cdhash(cd: CodeDirectory): Buffer {
  return digest(cd.hashType, cd.blob).subarray(0, 20)
}

/**
 * Of a signature's CodeDirectories (slot order), the one macOS identifies the code by: the strongest
 * hash type (hashRankOf), the earliest among equals. Its cdhash is codesign's `CDHash=` (the
 * SHA-256 one for a signature that also carries SHA-1), the one notarization tickets list and a
 * parent's seal records. Undefined for an empty list.
 */
export function strongestCodeDirectory<T extends {cd: CodeDirectory}>(entries: readonly T[]): T | undefined {
  let best: T | undefined
  for (const entry of entries) if (best === undefined || hashRankOf(entry.cd.hashType) > hashRankOf(best.cd.hashType)) best = entry
  return best
}

/** The blob's untruncated digest (what Apple's CMS attribute 1.2.840.113635.100.9.2 carries). */
export function cdhashFull(cd: CodeDirectory): Buffer {
  return fullDigest(cd.hashType, cd.blob)
}
