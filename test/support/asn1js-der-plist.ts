/**
 * The reference reading of Apple's DER plists, through asn1js (an independent ASN.1 decoder): what
 * `src/formats/der-plist.ts` did before it moved onto the bounded BER reader. Kept only for the
 * differential tests, which hold the production reader to the same values, errors and messages.
 */
import * as asn1js from 'asn1js'
import {decodeOneDerValue} from './asn1js-der.js'
import {decodeReal, MAX_DER_PLIST_DEPTH, type DerPlistDict, type DerPlistValue} from '../../src/formats/der-plist.js'
import {FormatError} from '../../src/formats/format-error.js'

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
export function referenceDecodeDerPlist(der: Uint8Array, what: string): DerPlistValue {
  return derPlistValue(decodeOneDerValue(der, CODE, what), what, 0)
}

/** Like decodeDerPlist, but the top level must be a dictionary. */
export function referenceDecodeDerPlistDict(der: Uint8Array, what: string): DerPlistDict {
  const value = referenceDecodeDerPlist(der, what)
  if (!isDerDict(value)) throw new FormatError(CODE, `${what}: content is not a dictionary`)
  return value
}

function isDerDict(v: DerPlistValue): v is DerPlistDict {
  return typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date) && !Buffer.isBuffer(v)
}

/** Decodes an already-parsed asn1js element (the caller bounds its size). */
function derPlistValue(block: asn1js.AsnType, what: string, depth: number): DerPlistValue {
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
