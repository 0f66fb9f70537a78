/**
 * Apple's DER form of a property list, as found in a provisioning profile's `DER-Encoded-Profile`
 * and in DER entitlements. The shapes come from Apple's open-source `der_plist` (Security) and
 * CoreEntitlements, and from real profiles: a dictionary is a SET of `SEQUENCE {key, value}` (or a
 * `[CONTEXT 16]` inside the entitlements' `[APPLICATION 16] {version, dict}` wrapper), an array a
 * SEQUENCE. Apple's servers have not always written the same primitive types: profiles issued
 * between mid-2021 and early 2022 store `Version` and `TimeToLive` as NumericString. So every
 * primitive form X.680 offers for a plist kind is read:
 *
 * - strings: UTF8String, NumericString (digits only → a number, see below), PrintableString,
 *   TeletexString, VideotexString, IA5String, GraphicString, VisibleString, GeneralString,
 *   UniversalString, CharacterString, BMPString;
 * - numbers: INTEGER and ENUMERATED (64-bit range), REAL (binary, decimal and special values);
 * - booleans: BOOLEAN;
 * - dates: UTCTime and GeneralizedTime;
 * - data: OCTET STRING and BIT STRING (whole octets);
 * - collections: SEQUENCE (array), SET (dictionary when every element is a key/value pair,
 *   otherwise an unordered collection read as an array).
 *
 * Everything is bounded: nesting depth, REAL exponent and mantissa lengths; any other element is a
 * FormatError naming its tag. Read with the bounded BER reader (`ber.ts`), as CMS and certificates
 * are; `asn1-text.ts` and `asn1-time.ts` give each string and time type's decoding.
 */
import {generalizedTimeDate, utcTimeDate} from './asn1-time.js'
import {asn1Text, isTextTag, TAG_GENERALIZED_TIME, TAG_NUMERIC_STRING, TAG_UTC_TIME} from './asn1-text.js'
import type {BerElement} from './ber.js'
import {content, contentText, isUniversalTag, readDerTree, signedInteger, type DerNode} from './der-tree.js'
import {FormatError} from './format-error.js'

export type DerPlistValue = string | number | boolean | Date | Buffer | DerPlistValue[] | DerPlistDict
export type DerPlistDict = {[key: string]: DerPlistValue}

export const MAX_DER_PLIST_DEPTH = 16

const CODE = 'der-plist.malformed'
const UNIVERSAL = 0
const APPLICATION = 1
const CONTEXT = 2
const TAG_BOOLEAN = 1
const TAG_INTEGER = 2
const TAG_BIT_STRING = 3
const TAG_OCTET_STRING = 4
const TAG_REAL = 9
const TAG_ENUMERATED = 10
const TAG_SEQUENCE = 16
const TAG_SET = 17
const TAG_DICTIONARY = 16
const INT64_MIN = -(2n ** 63n)
const UINT64_MAX = 2n ** 64n - 1n

/**
 * Decodes one DER plist value from `der` (exactly one element, nothing after it). `what` names the
 * source in error messages (`DER-Encoded-Profile`). Throws FormatError for anything else.
 */
export function decodeDerPlist(der: Uint8Array, what: string): DerPlistValue {
  return derPlistValue(readDerTree(der, CODE, what), what, 0)
}

/** Like decodeDerPlist, but the top level must be a dictionary. */
export function decodeDerPlistDict(der: Uint8Array, what: string): DerPlistDict {
  const value = decodeDerPlist(der, what)
  if (!isDerDict(value)) throw new FormatError(CODE, `${what}: content is not a dictionary`)
  return value
}

function isDerDict(v: DerPlistValue): v is DerPlistDict {
  return typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date) && !Buffer.isBuffer(v)
}

function derPlistValue(node: DerNode, what: string, depth: number): DerPlistValue {
  if (depth > MAX_DER_PLIST_DEPTH) throw new FormatError(CODE, `${what}: nested more than ${MAX_DER_PLIST_DEPTH} levels`)
  const el = node.el
  if (el.tagClass === UNIVERSAL) {
    switch (el.tagNumber) {
      // NumericString apart from the other strings: Apple's servers used it for numbers.
      case TAG_NUMERIC_STRING: return numericString(contentText(el))
      case TAG_UTC_TIME: return utcTimeDate(contentText(el))
      case TAG_GENERALIZED_TIME: return generalizedTimeDate(contentText(el))
      case TAG_BOOLEAN: return content(el).some(b => b !== 0)
      case TAG_INTEGER:
      case TAG_ENUMERATED: return integer(signedInteger(content(el)), what)
      case TAG_OCTET_STRING:
        if (el.constructed) throw new FormatError(CODE, `${what}: constructed OCTET STRING (not DER)`)
        return Buffer.from(content(el))
      case TAG_BIT_STRING:
        if (el.constructed || (el.contentEnd > el.contentStart && el.bytes[el.contentStart] !== 0)) throw new FormatError(CODE, `${what}: BIT STRING that is not whole octets`)
        return Buffer.from(content(el).subarray(1))
      case TAG_SEQUENCE: return node.children.map(c => derPlistValue(c, what, depth + 1))
      case TAG_SET: return setValue(node.children, what, depth)
      case TAG_REAL:
        if (!el.constructed) return decodeReal(content(el), what)
        break
      default:
        if (isTextTag(el.tagNumber)) return asn1Text(el.tagNumber, content(el))
    }
  }
  if (el.constructed && el.tagClass === APPLICATION && el.tagNumber === TAG_DICTIONARY) return entitlementsWrapper(node, what, depth)
  // Classes counted from 1 (universal) in this message since the first release.
  throw new FormatError(CODE, `${what}: unexpected DER element (class ${el.tagClass + 1}, tag ${el.tagNumber})`)
}

/** Digits only is a number (how Apple wrote `Version` and `TimeToLive` for a while); anything else stays text. */
function numericString(text: string): string | number {
  if (!/^[0-9]{1,15}$/.test(text)) return text
  return Number(text)
}

function integer(n: bigint, what: string): number {
  if (n < INT64_MIN || n > UINT64_MAX) throw new FormatError(CODE, `${what}: integer ${n} does not fit in 64 bits`)
  return Number(n)
}

/** A SET is a dictionary when every element is `SEQUENCE {string key, value}` (an empty SET is an empty dictionary). */
function setValue(elements: readonly DerNode[], what: string, depth: number): DerPlistValue {
  if (elements.every(isKeyValuePair)) return dictionary(elements, what, depth)
  return elements.map(b => derPlistValue(b, what, depth + 1))
}

function isKeyValuePair(n: DerNode): boolean {
  const key = n.children[0]?.el
  return isUniversalTag(n.el, TAG_SEQUENCE) && n.children.length === 2 && key!.tagClass === UNIVERSAL && isTextTag(key!.tagNumber)
}

/** A key's text; a time element used as a key has always read as the empty string. */
function keyText(el: BerElement): string {
  if (el.tagNumber === TAG_UTC_TIME || el.tagNumber === TAG_GENERALIZED_TIME) return ''
  return el.tagNumber === TAG_NUMERIC_STRING ? contentText(el) : asn1Text(el.tagNumber, content(el))
}

function dictionary(entries: readonly DerNode[], what: string, depth: number): DerPlistDict {
  const out: DerPlistDict = {}
  for (const entry of entries) {
    if (!isKeyValuePair(entry)) throw new FormatError(CODE, `${what}: dictionary entry is not SEQUENCE {string key, value}`)
    const [key, value] = entry.children as [DerNode, DerNode]
    // defineProperty, not assignment: a key named __proto__ must stay data.
    Object.defineProperty(out, keyText(key.el), {value: derPlistValue(value, what, depth + 1), enumerable: true, writable: true, configurable: true})
  }
  return out
}

function entitlementsWrapper(node: DerNode, what: string, depth: number): DerPlistDict {
  const [version, dict] = node.children
  const isInteger = isUniversalTag(version?.el, TAG_INTEGER) || isUniversalTag(version?.el, TAG_ENUMERATED)
  if (!isInteger || dict === undefined || !dict.el.constructed || dict.el.tagClass !== CONTEXT || dict.el.tagNumber !== TAG_DICTIONARY) {
    throw new FormatError(CODE, `${what}: entitlements wrapper is not {version, [16] dictionary}`)
  }
  return dictionary(dict.children, what, depth)
}

const MAX_REAL_EXPONENT_OCTETS = 4
const MAX_REAL_MANTISSA_OCTETS = 16

/**
 * ASN.1 REAL (X.690 §8.5): empty is +0; first octet 1x…: binary (sign, base 2/8/16, scale factor,
 * exponent length); 00…: decimal text (ISO 6093 NR1–NR3); 01…: special (±∞, NaN, −0).
 */
export function decodeReal(bytes: Uint8Array, what: string): number {
  if (bytes.length === 0) return 0
  const first = bytes[0]!
  if ((first & 0x80) !== 0) return binaryReal(bytes, what)
  if ((first & 0xc0) === 0x40) {
    const special: Record<number, number> = {0x40: Infinity, 0x41: -Infinity, 0x42: Number.NaN, 0x43: -0}
    if (bytes.length === 1 && first in special) return special[first]!
    throw new FormatError(CODE, `${what}: unknown special REAL 0x${first.toString(16)}`)
  }
  const form = first & 0x3f
  const text = Buffer.from(bytes.subarray(1)).toString('latin1').trim().replace(',', '.')
  if (form < 1 || form > 3 || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) {
    throw new FormatError(CODE, `${what}: unreadable decimal REAL "${text}"`)
  }
  return Number(text)
}

function binaryReal(bytes: Uint8Array, what: string): number {
  const first = bytes[0]!
  const sign = (first & 0x40) !== 0 ? -1 : 1
  const baseBits = (first >> 4) & 0x3
  if (baseBits === 3) throw new FormatError(CODE, `${what}: REAL with a reserved base`)
  const log2Base = [1, 3, 4][baseBits]!
  const scale = (first >> 2) & 0x3
  let pos = 1
  let expLen = (first & 0x3) + 1
  if (expLen === 4) {
    expLen = bytes[pos++] ?? 0
  }
  if (expLen === 0 || expLen > MAX_REAL_EXPONENT_OCTETS || pos + expLen > bytes.length) {
    throw new FormatError(CODE, `${what}: REAL exponent of ${expLen} octets is out of bounds`)
  }
  let exponent = 0n
  for (let i = 0; i < expLen; i++) exponent = (exponent << 8n) | BigInt(bytes[pos + i]!)
  if ((bytes[pos]! & 0x80) !== 0) exponent -= 1n << BigInt(8 * expLen)
  pos += expLen
  const mantissaBytes = bytes.subarray(pos)
  if (mantissaBytes.length > MAX_REAL_MANTISSA_OCTETS) throw new FormatError(CODE, `${what}: REAL mantissa of ${mantissaBytes.length} octets is out of bounds`)
  let mantissa = 0n
  for (const b of mantissaBytes) mantissa = (mantissa << 8n) | BigInt(b)
  return sign * Number(mantissa) * 2 ** (Number(exponent) * log2Base + scale)
}
