import * as asn1js from 'asn1js'
import {MAX_DER_DEPTH} from './entitlements.js'
import {FormatError} from './format-error.js'
import {isDict, type PlistDict, type PlistValue} from './property-list.js'

// asn1js writes the DER here; verification reads it with the bounded reader and never loads asn1js.
const TAG_CLASS_APPLICATION = 2
const TAG_CLASS_CONTEXT = 3
const DICT_TAG = 16
const DOCUMENT_VERSION = 1

/**
 * Encodes entitlements the way Apple's signer does (the payload of a 0xfade7172 blob, without its header).
 * Dictionary keys are sorted by their UTF-8 bytes. Only booleans, integers, strings, arrays and
 * dictionaries can be expressed; anything else is a FormatError, as is nesting the parser would refuse.
 */
export function encodeDerEntitlements(dict: PlistDict): Buffer {
  const document = new asn1js.Constructed({
    idBlock: {tagClass: TAG_CLASS_APPLICATION, tagNumber: DICT_TAG},
    value: [new asn1js.Integer({value: DOCUMENT_VERSION}), encodeDict(dict, 2, '')],
  })
  return Buffer.from(document.toBER(false))
}

// `depth` is the DER nesting level of the element being built (the document is 1), as checkDerShape counts it.
function encodeDict(dict: PlistDict, depth: number, path: string): asn1js.Constructed {
  const keys = Object.keys(dict).sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')))
  checkEncodeDepth(keys.length > 0 ? depth + 1 : depth, path)
  return new asn1js.Constructed({
    idBlock: {tagClass: TAG_CLASS_CONTEXT, tagNumber: DICT_TAG},
    value: keys.map(key => new asn1js.Sequence({value: [new asn1js.Utf8String({value: key}), encodeValue(dict[key]!, depth + 2, path ? `${path}.${key}` : key)]})),
  })
}

function checkEncodeDepth(depth: number, path: string): void {
  if (depth > MAX_DER_DEPTH) throw new FormatError('der-entitlements.too-deep', `entitlement "${path}" nests deeper than ${MAX_DER_DEPTH} DER levels`)
}

function encodeValue(value: PlistValue, depth: number, path: string): asn1js.AsnType {
  if (typeof value === 'boolean') return new asn1js.Boolean({value})
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new FormatError('der-entitlements.unsupported-value', `entitlement "${path}" is the non-integer number ${value}`)
    return asn1js.Integer.fromBigInt(BigInt(value))
  }
  if (typeof value === 'string') return new asn1js.Utf8String({value})
  if (Array.isArray(value)) {
    checkEncodeDepth(depth, path)
    return new asn1js.Sequence({value: value.map(v => encodeValue(v, depth + 1, path))})
  }
  if (isDict(value)) return encodeDict(value, depth, path)
  throw new FormatError('der-entitlements.unsupported-value', `entitlement "${path}" holds a ${value instanceof Date ? 'date' : 'data or other'} value, which DER entitlements cannot express`)
}
