import {createHash} from 'node:crypto'
import {FormatError} from './format-error.js'

/** The digest algorithms a CodeDirectory can name in its `hashType` byte. */
export type HashAlgorithm = 'sha1' | 'sha256' | 'sha256-truncated' | 'sha384'

interface HashTypeInfo {
  algorithm: HashAlgorithm
  /** Bytes stored per slot in the CodeDirectory. */
  size: number
  /** Name node:crypto knows the underlying digest by. */
  nodeName: string
  /** Preference among a signature's CodeDirectories, higher is stronger (xnu's and Security.framework's hashPriorities). */
  rank: number
}

// Type 3 stores the first 20 bytes of a SHA-256 so it fits where SHA-1 slots used to.
const HASH_TYPES: ReadonlyMap<number, HashTypeInfo> = new Map([
  [1, {algorithm: 'sha1', size: 20, nodeName: 'sha1', rank: 1}],
  [2, {algorithm: 'sha256', size: 32, nodeName: 'sha256', rank: 3}],
  [3, {algorithm: 'sha256-truncated', size: 20, nodeName: 'sha256', rank: 2}],
  [4, {algorithm: 'sha384', size: 48, nodeName: 'sha384', rank: 4}],
])

export function hashAlgorithmOf(hashType: number): HashAlgorithm | undefined {
  return HASH_TYPES.get(hashType)?.algorithm
}

export function hashSizeOf(hashType: number): number | undefined {
  return HASH_TYPES.get(hashType)?.size
}

/**
 * How strongly macOS prefers a CodeDirectory of this hash type: SHA-384 (4) over SHA-256 (3) over
 * SHA-256 truncated (2) over SHA-1 (1); 0 for a type it does not know. The kernel and codesign
 * identify code by the cdhash of the strongest CodeDirectory (xnu `hashPriorities`, Security
 * framework `CodeDirectory::hashPriorities`).
 */
export function hashRankOf(hashType: number): number {
  return HASH_TYPES.get(hashType)?.rank ?? 0
}

export function nodeDigestName(hashType: number): string | undefined {
  return HASH_TYPES.get(hashType)?.nodeName
}

function infoOf(hashType: number): HashTypeInfo {
  const info = HASH_TYPES.get(hashType)
  if (info === undefined) throw new FormatError('hash.unknown-type', `hash type ${hashType} is not one of 1 (SHA-1), 2 (SHA-256), 3 (SHA-256/20), 4 (SHA-384)`)
  return info
}

/** The untruncated digest for a hash type: what Apple's CMS attribute 1.2.840.113635.100.9.2 carries. */
export function fullDigest(hashType: number, data: Buffer | Buffer[]): Buffer {
  const hash = createHash(infoOf(hashType).nodeName)
  for (const part of Array.isArray(data) ? data : [data]) hash.update(part)
  return hash.digest()
}

/** Digest of `data` (one buffer or the concatenation of several) as stored in a slot of that hash type. */
export function digest(hashType: number, data: Buffer | Buffer[]): Buffer {
  return fullDigest(hashType, data).subarray(0, infoOf(hashType).size)
}
