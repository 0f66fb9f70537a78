/**
 * The reference reading of DER entitlements through asn1js (an independent ASN.1 decoder): what
 * `src/formats/entitlements.ts` did before it moved onto the bounded BER reader. Kept only for the
 * differential tests, which hold the production reader to the same values, errors and messages.
 */
import * as asn1js from 'asn1js'
import {decodeOneDerValue} from './asn1js-der.js'
import {FormatError} from '../../src/formats/format-error.js'
import {type PlistDict, type PlistValue, isDict} from '../../src/formats/property-list.js'
import {BlobMagic, readBlob} from '../../src/formats/superblob.js'
import {checkDerShape} from '../../src/formats/entitlements.js'

const TAG_CLASS_APPLICATION = 2
const TAG_CLASS_CONTEXT = 3
// Apple wraps the whole document in [APPLICATION 16] and marks every dictionary as [CONTEXT 16].
const DICT_TAG = 16
const DOCUMENT_VERSION = 1

/**
 * Parses the DER entitlements blob (0xfade7172, header included):
 * [APPLICATION 16] { INTEGER 1, [CONTEXT 16] { SEQUENCE { UTF8String key, value } … } }, where a value is a
 * BOOLEAN, INTEGER, UTF8String, SEQUENCE (array) or [CONTEXT 16] (nested dictionary).
 */
export function referenceParseDerEntitlementsBlob(input: Buffer): PlistDict {
  const blob = readBlob(input, BlobMagic.derEntitlements, 'DER entitlements blob', 'der-entitlements')
  const der = blob.subarray(8)
  checkDerShape(der)
  const root = decodeOneDerValue(new Uint8Array(der), 'der-entitlements.malformed', 'DER entitlements')
  if (!isTag(root, TAG_CLASS_APPLICATION, DICT_TAG) || !(root instanceof asn1js.Constructed)) {
    throw new FormatError('der-entitlements.malformed', 'DER entitlements do not start with [APPLICATION 16]')
  }
  const [version, dict, ...rest] = root.valueBlock.value
  if (!(version instanceof asn1js.Integer) || version.toBigInt() !== BigInt(DOCUMENT_VERSION) || dict === undefined || rest.length > 0) {
    throw new FormatError('der-entitlements.malformed', 'DER entitlements must hold exactly version INTEGER 1 and one dictionary')
  }
  const value = decodeValue(dict)
  if (!isDict(value)) throw new FormatError('der-entitlements.malformed', 'DER entitlements top level is not a dictionary')
  return value
}

function isTag(block: asn1js.AsnType, tagClass: number, tagNumber: number): boolean {
  return block.idBlock.tagClass === tagClass && block.idBlock.tagNumber === tagNumber
}

function decodeValue(block: asn1js.AsnType): PlistValue {
  if (block instanceof asn1js.Boolean) return block.getValue()
  if (block instanceof asn1js.Integer) {
    const n = block.toBigInt()
    if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new FormatError('der-entitlements.integer-range', `DER entitlement integer ${n} is outside the safe integer range`)
    }
    return Number(n)
  }
  if (block instanceof asn1js.Utf8String) return block.valueBlock.value
  if (block instanceof asn1js.Sequence) return block.valueBlock.value.map(decodeValue)
  if (block instanceof asn1js.Constructed && isTag(block, TAG_CLASS_CONTEXT, DICT_TAG)) return decodeDict(block)
  throw new FormatError('der-entitlements.unsupported-type', `DER entitlement value with tag class ${block.idBlock.tagClass} number ${block.idBlock.tagNumber} is not a boolean, integer, string, array or dictionary`)
}

function decodeDict(block: asn1js.Constructed): PlistDict {
  const dict: PlistDict = {}
  for (const entry of block.valueBlock.value) {
    const pair = entry instanceof asn1js.Sequence ? entry.valueBlock.value : []
    const [key, value] = pair
    if (pair.length !== 2 || !(key instanceof asn1js.Utf8String) || value === undefined) {
      throw new FormatError('der-entitlements.malformed', 'DER entitlements dictionary entry is not SEQUENCE { UTF8String, value }')
    }
    const name = key.valueBlock.value
    if (Object.hasOwn(dict, name)) throw new FormatError('der-entitlements.duplicate-key', `DER entitlements repeat the key "${name}"`)
    // defineProperty, not assignment, so a key named "__proto__" is data rather than a prototype change.
    Object.defineProperty(dict, name, {value: decodeValue(value), enumerable: true, writable: true, configurable: true})
  }
  return dict
}
