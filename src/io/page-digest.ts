import {FormatError} from '../formats/format-error.js'
import {hashSizeOf, nodeDigestName} from '../formats/hash-type.js'

/**
 * How one code page is digested: the Node digest to run and how many leading bytes of its output
 * form the slot. Resolved once on the calling thread so workers receive plain data and import
 * nothing beyond node:crypto.
 */
export interface PageDigest {
  readonly digestName: string
  readonly slotSize: number
}

export function pageDigestOf(hashType: number): PageDigest {
  const digestName = nodeDigestName(hashType)
  const slotSize = hashSizeOf(hashType)
  if (digestName === undefined || slotSize === undefined) {
    throw new FormatError('pages.hash-type', `CodeDirectory hash type ${hashType} is not one of 1 (SHA-1), 2 (SHA-256), 3 (SHA-256/20), 4 (SHA-384)`)
  }
  return {digestName, slotSize}
}
