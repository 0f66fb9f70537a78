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
 * FormatError naming its tag.
 */
import * as asn1js from 'asn1js'
import {decodeOneDerValue} from './der.js'
import {FormatError} from './format-error.js'

export type DerPlistValue = string | number | boolean | Date | Buffer | DerPlistValue[] | DerPlistDict
export type DerPlistDict = {[key: string]: DerPlistValue}

export const MAX_DER_PLIST_DEPTH = 16

const CODE = 'der-plist.malformed'
const TAG_REAL = 9
const INT64_MIN = -(2n ** 63n)
const UINT64_MAX = 2n ** 64n - 1n

/** Character-string classes whose decoded `valueBlock.value` is the text. */
const STRING_TYPES = [
  asn1js.Utf8String, asn1js.PrintableString, asn1js.TeletexString, asn1js.VideotexString, asn1js.IA5String,
  asn1js.GraphicString, asn1js.VisibleString, asn1js.GeneralString, asn1js.UniversalString, asn1js.CharacterString,
  asn1js.BmpString,
] as const

/**
 * Decodes one DER plist value from `der` (exactly one element, nothing after it). `what` names the
 * source in error messages (`DER-Encoded-Profile`). Throws FormatError for anything else.
 */
export function decodeDerPlist(der: Uint8Array, what: string): DerPlistValue {
  return derPlistValue(decodeOneDerValue(der, CODE, what), what, 0)
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

/** Decodes an already-parsed asn1js element (the caller bounds its size). */
export function derPlistValue(block: asn1js.AsnType, what: string, depth: number): DerPlistValue {
  if (depth > MAX_DER_PLIST_DEPTH) throw new FormatError(CODE, `${what}: nested more than ${MAX_DER_PLIST_DEPTH} levels`)
  const id = block.idBlock
  // NumericString before the other strings: Apple's servers used it for numbers.
  if (block instanceof asn1js.NumericString) return numericString(block.valueBlock.value)
  if (block instanceof asn1js.UTCTime || block instanceof asn1js.GeneralizedTime) return date(block, what)
  if (STRING_TYPES.some(t => block instanceof t)) return (block as asn1js.Utf8String).valueBlock.value
  if (block instanceof asn1js.Boolean) return block.valueBlock.value
  if (block instanceof asn1js.Integer) return integer(block.toBigInt(), what)
  if (block instanceof asn1js.OctetString) {
    if (id.isConstructed) throw new FormatError(CODE, `${what}: constructed OCTET STRING (not DER)`)
    return Buffer.from(block.valueBlock.valueHexView)
  }
  if (block instanceof asn1js.BitString) {
    if (id.isConstructed || block.valueBlock.unusedBits !== 0) throw new FormatError(CODE, `${what}: BIT STRING that is not whole octets`)
    return Buffer.from(block.valueBlock.valueHexView)
  }
  if (block instanceof asn1js.Sequence) return block.valueBlock.value.map(b => derPlistValue(b, what, depth + 1))
  if (block instanceof asn1js.Set) return setValue(block.valueBlock.value, what, depth)
  if (id.tagClass === 1 && id.tagNumber === TAG_REAL && !id.isConstructed && block instanceof asn1js.Primitive) {
    return decodeReal(block.valueBlock.valueHexView, what)
  }
  if (block instanceof asn1js.Constructed && id.tagClass === 2 && id.tagNumber === 16) return entitlementsWrapper(block, what, depth)
  throw new FormatError(CODE, `${what}: unexpected DER element (class ${id.tagClass}, tag ${id.tagNumber})`)
}

/** Digits only is a number (how Apple wrote `Version` and `TimeToLive` for a while); anything else stays text. */
function numericString(text: string): string | number {
  if (!/^[0-9]{1,15}$/.test(text)) return text
  return Number(text)
}

function date(block: asn1js.UTCTime, what: string): Date {
  let d: Date
  try {
    d = block.toDate()
  } catch (e) {
    throw new FormatError(CODE, `${what}: unreadable time (${(e as Error).message})`)
  }
  // asn1js builds the date with Date.UTC, which reads years 0–99 as 1900–1999; GeneralizedTime means them literally.
  if (block instanceof asn1js.GeneralizedTime && block.year < 100) d.setUTCFullYear(block.year)
  if (Number.isNaN(d.getTime())) throw new FormatError(CODE, `${what}: unreadable time "${block.toString()}"`)
  return d
}

function integer(n: bigint, what: string): number {
  if (n < INT64_MIN || n > UINT64_MAX) throw new FormatError(CODE, `${what}: integer ${n} does not fit in 64 bits`)
  return Number(n)
}

/** A SET is a dictionary when every element is `SEQUENCE {string key, value}` (an empty SET is an empty dictionary). */
function setValue(elements: readonly asn1js.AsnType[], what: string, depth: number): DerPlistValue {
  if (elements.every(isKeyValuePair)) return dictionary(elements, what, depth)
  return elements.map(b => derPlistValue(b, what, depth + 1))
}

function isKeyValuePair(e: asn1js.AsnType): boolean {
  if (!(e instanceof asn1js.Sequence) || e.valueBlock.value.length !== 2) return false
  const key = e.valueBlock.value[0]!
  return STRING_TYPES.some(t => key instanceof t) || key instanceof asn1js.NumericString
}

function dictionary(entries: readonly asn1js.AsnType[], what: string, depth: number): DerPlistDict {
  const out: DerPlistDict = {}
  for (const entry of entries) {
    if (!isKeyValuePair(entry)) throw new FormatError(CODE, `${what}: dictionary entry is not SEQUENCE {string key, value}`)
    const [key, value] = (entry as asn1js.Sequence).valueBlock.value as [asn1js.Utf8String, asn1js.AsnType]
    // defineProperty, not assignment: a key named __proto__ must stay data.
    Object.defineProperty(out, key.valueBlock.value, {value: derPlistValue(value, what, depth + 1), enumerable: true, writable: true, configurable: true})
  }
  return out
}

function entitlementsWrapper(block: asn1js.Constructed, what: string, depth: number): DerPlistDict {
  const [version, dict] = block.valueBlock.value
  if (!(version instanceof asn1js.Integer) || !(dict instanceof asn1js.Constructed) || dict.idBlock.tagClass !== 3 || dict.idBlock.tagNumber !== 16) {
    throw new FormatError(CODE, `${what}: entitlements wrapper is not {version, [16] dictionary}`)
  }
  return dictionary(dict.valueBlock.value, what, depth)
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
