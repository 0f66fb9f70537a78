import {asn1Text, TAG_UTF8_STRING} from './asn1-text.js'
import {content, isUniversalTag, readDerTree, signedInteger, type DerNode} from './der-tree.js'
import {FormatError} from './format-error.js'
import {parsePropertyListDict, type PlistDict, type PlistValue, isDict} from './property-list.js'
import {BlobMagic, readBlob} from './superblob.js'

/** Parses the XML entitlements blob (0xfade7171, header included). */
export function parseEntitlementsBlob(input: Buffer): PlistDict {
  const blob = readBlob(input, BlobMagic.entitlements, 'entitlements blob', 'entitlements')
  return parsePropertyListDict(blob.subarray(8), 'entitlements blob')
}

/** Deeper than any real entitlement value; bounds recursion in the walk below. */
export const MAX_DER_DEPTH = 32

// Tag classes as X.690 numbers them (0 universal); messages count them from 1, as they always have.
const TAG_CLASS_APPLICATION = 1
const TAG_CLASS_CONTEXT = 2
// Apple wraps the whole document in [APPLICATION 16] and marks every dictionary as [CONTEXT 16].
const DICT_TAG = 16
const DOCUMENT_VERSION = 1

/**
 * Parses the DER entitlements blob (0xfade7172, header included):
 * [APPLICATION 16] { INTEGER 1, [CONTEXT 16] { SEQUENCE { UTF8String key, value } … } }, where a value is a
 * BOOLEAN, INTEGER, UTF8String, SEQUENCE (array) or [CONTEXT 16] (nested dictionary).
 */
export function parseDerEntitlementsBlob(input: Buffer): PlistDict {
  const blob = readBlob(input, BlobMagic.derEntitlements, 'DER entitlements blob', 'der-entitlements')
  const der = blob.subarray(8)
  checkDerShape(der)
  const root = readDerTree(new Uint8Array(der.buffer, der.byteOffset, der.byteLength), 'der-entitlements.malformed', 'DER entitlements')
  if (!isTag(root, TAG_CLASS_APPLICATION, DICT_TAG) || !root.el.constructed) {
    throw new FormatError('der-entitlements.malformed', 'DER entitlements do not start with [APPLICATION 16]')
  }
  const [version, dict, ...rest] = root.children
  if (!isInteger(version) || signedInteger(content(version!.el)) !== BigInt(DOCUMENT_VERSION) || dict === undefined || rest.length > 0) {
    throw new FormatError('der-entitlements.malformed', 'DER entitlements must hold exactly version INTEGER 1 and one dictionary')
  }
  const value = decodeValue(dict)
  if (!isDict(value)) throw new FormatError('der-entitlements.malformed', 'DER entitlements top level is not a dictionary')
  return value
}

function isTag(node: DerNode, tagClass: number, tagNumber: number): boolean {
  return node.el.tagClass === tagClass && node.el.tagNumber === tagNumber
}

/** INTEGER or ENUMERATED (the same value types). */
function isInteger(node: DerNode | undefined): boolean {
  return isUniversalTag(node?.el, 2) || isUniversalTag(node?.el, 10)
}

/** UTF8String, and the time-of-day types that are UTF8String underneath (tags 14, 31–34). */
function isUtf8Text(node: DerNode | undefined): boolean {
  return node !== undefined && node.el.tagClass === 0 && [TAG_UTF8_STRING, 14, 31, 32, 33, 34].includes(node.el.tagNumber)
}

function decodeValue(node: DerNode): PlistValue {
  if (isUniversalTag(node.el, 1)) return content(node.el).some(b => b !== 0)
  if (isInteger(node)) {
    const n = signedInteger(content(node.el))
    if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new FormatError('der-entitlements.integer-range', `DER entitlement integer ${n} is outside the safe integer range`)
    }
    return Number(n)
  }
  if (isUtf8Text(node)) return asn1Text(node.el.tagNumber, content(node.el))
  if (isUniversalTag(node.el, 16)) return node.children.map(decodeValue)
  if (node.el.constructed && isTag(node, TAG_CLASS_CONTEXT, DICT_TAG)) return decodeDict(node)
  throw new FormatError('der-entitlements.unsupported-type', `DER entitlement value with tag class ${node.el.tagClass + 1} number ${node.el.tagNumber} is not a boolean, integer, string, array or dictionary`)
}

function decodeDict(node: DerNode): PlistDict {
  const dict: PlistDict = {}
  for (const entry of node.children) {
    const pair = isUniversalTag(entry.el, 16) ? entry.children : []
    const [key, value] = pair
    if (pair.length !== 2 || !isUtf8Text(key) || value === undefined) {
      throw new FormatError('der-entitlements.malformed', 'DER entitlements dictionary entry is not SEQUENCE { UTF8String, value }')
    }
    const name = asn1Text(key!.el.tagNumber, content(key!.el))
    if (Object.hasOwn(dict, name)) throw new FormatError('der-entitlements.duplicate-key', `DER entitlements repeat the key "${name}"`)
    // defineProperty, not assignment, so a key named "__proto__" is data rather than a prototype change.
    Object.defineProperty(dict, name, {value: decodeValue(value), enumerable: true, writable: true, configurable: true})
  }
  return dict
}

/**
 * Walks the TLV structure without recursion before the tree is read: rejects indefinite lengths (not DER),
 * lengths that overrun their parent, and nesting deeper than MAX_DER_DEPTH (which would otherwise
 * drive the recursive walk).
 */
export function checkDerShape(der: Buffer): void {
  const ends: number[] = [der.length]
  let at = 0
  for (;;) {
    while (ends.length > 1 && at === ends[ends.length - 1]) ends.pop()
    if (at >= der.length) return
    const parentEnd = ends[ends.length - 1]!
    if (at + 2 > parentEnd) throw new FormatError('der-entitlements.malformed', `DER element at ${at} is truncated`)
    const tag = der[at]!
    let cursor = at + 1
    if ((tag & 0x1f) === 0x1f) {
      // High tag numbers: base-128 continuation bytes; four is far more than entitlements use.
      let n = 0
      while (cursor < parentEnd && (der[cursor]! & 0x80) !== 0 && n < 4) cursor++, n++
      if (n >= 4 || cursor >= parentEnd) throw new FormatError('der-entitlements.malformed', `DER tag at ${at} is malformed`)
      cursor++
    }
    if (cursor >= parentEnd) throw new FormatError('der-entitlements.malformed', `DER element at ${at} is truncated`)
    const first = der[cursor++]!
    let length = first
    if (first === 0x80) throw new FormatError('der-entitlements.malformed', `DER element at ${at} uses an indefinite length`)
    if (first > 0x80) {
      const count = first & 0x7f
      if (count > 4 || cursor + count > parentEnd) throw new FormatError('der-entitlements.malformed', `DER length at ${at} is malformed`)
      length = 0
      for (let i = 0; i < count; i++) length = length * 256 + der[cursor++]!
    }
    const end = cursor + length
    if (end > parentEnd) throw new FormatError('der-entitlements.malformed', `DER element at ${at} (${length} bytes) overruns its container`)
    if ((tag & 0x20) !== 0) {
      if (ends.length > MAX_DER_DEPTH) throw new FormatError('der-entitlements.too-deep', `DER entitlements nest deeper than ${MAX_DER_DEPTH} levels`)
      ends.push(end)
      at = cursor
    } else {
      at = end
    }
  }
}
