import {type BerElement, berChildren, berContent, berRaw, isUniversal, oidText} from './ber.js'
import {FormatError} from './format-error.js'

/** One AttributeTypeAndValue of a Name: its type OID, the value's universal tag and contents. */
export interface NameAttribute {
  type: string
  tag: number
  value: Uint8Array
}

/** An X.501 Name (RFC 5280 §4.1.2.4): its exact DER and its attributes in order, the RDN sets flattened. */
export interface X501Name {
  der: Buffer
  attributes: NameAttribute[]
}

/** Directory string types (X.680 §41): compared as text, case and repeated spaces aside. */
const STRING_TAGS = new Set([12, 18, 19, 20, 21, 22, 25, 26, 27, 28, 29, 30])
/** UTCTime and GeneralizedTime are also characters, though not compared as directory strings. */
const TEXT_TAGS = new Set([...STRING_TAGS, 23, 24])

/** Reads a Name element; throws FormatError(`code`) when it is not SEQUENCE OF SET OF {OID, value}. */
export function readName(el: BerElement, code: string, what: string): X501Name {
  const attributes: NameAttribute[] = []
  for (const rdn of berChildren(el, code, what)) {
    for (const atv of berChildren(rdn, code, what)) {
      const [type, value] = berChildren(atv, code, what)
      if (!isUniversal(type, 6) || value === undefined) throw new FormatError(code, `${what}: a name attribute is not {OID, value}`)
      attributes.push({type: oidText(type, code, what), tag: value.tagClass === 0 && !value.constructed ? value.tagNumber : -1, value: value.constructed ? berRaw(value) : berContent(value)})
    }
  }
  return {der: Buffer.from(berRaw(el)), attributes}
}

/** The characters of a text value (UTF-8, BMP = UTF-16BE, Universal = UTF-32BE, the rest one byte per character); undefined for other types. */
export function attributeString(a: NameAttribute): string | undefined {
  if (!TEXT_TAGS.has(a.tag)) return undefined
  const v = Buffer.from(a.value)
  if (a.tag === 12) return v.toString('utf8')
  if (a.tag === 30) return String.fromCharCode(...Array.from({length: v.length >> 1}, (_, i) => v.readUInt16BE(i * 2)))
  if (a.tag === 28) return String.fromCodePoint(...Array.from({length: v.length >> 2}, (_, i) => Math.min(v.readUInt32BE(i * 4), 0x10ffff)))
  return v.toString('latin1')
}

/** Trimmed, runs of spaces as one, lower case: how names are matched when building chains. */
function prepared(text: string): string {
  return text.trim().replace(/ {2,}/g, ' ').toLowerCase()
}

/** Printable ASCII: no character the root collation ignores or folds, so collation equality is string equality. */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/

/**
 * Collation equality (localeCompare, the root collation) without the collator where it cannot
 * differ: its first use sets up ICU collation, tens of milliseconds of every verify's start-up,
 * while the names in real chains are printable ASCII, equal only when identical.
 */
export function textsMatch(a: string, b: string): boolean {
  if (a === b) return true
  if (PRINTABLE_ASCII.test(a) && PRINTABLE_ASCII.test(b)) return false
  return a.localeCompare(b) === 0
}

/**
 * Whether two names are the same for chain building (RFC 5280 §7.1, simplified as pkijs does it):
 * the same attribute types in the same order, directory strings equal after trimming, collapsing
 * spaces and lower-casing, other values byte for byte.
 */
export function namesEqual(a: X501Name, b: X501Name): boolean {
  if (a.der.equals(b.der)) return true
  if (a.attributes.length !== b.attributes.length) return false
  return a.attributes.every((x, i) => {
    const y = b.attributes[i]!
    if (x.type !== y.type) return false
    const xs = STRING_TAGS.has(x.tag)
    if (xs !== STRING_TAGS.has(y.tag)) return false
    if (xs) return textsMatch(prepared(attributeString(x)!), prepared(attributeString(y)!))
    return x.tag === y.tag && Buffer.from(x.value).equals(Buffer.from(y.value))
  })
}
