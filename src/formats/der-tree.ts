import {generalizedTimeDate, TimeTextError} from './asn1-time.js'
import {isTextTag, TAG_GENERALIZED_TIME, textLengthProblem} from './asn1-text.js'
import {readBer, type BerElement} from './ber.js'
import {FormatError} from './format-error.js'

/** An element and, when its contents are elements, those elements (X.690 §8.1.1). */
export interface DerNode {
  el: BerElement
  children: DerNode[]
}

/** Structure nested deeper than this is refused while reading, before any value is decoded. */
const MAX_STRUCTURE_DEPTH = 100
const UNIVERSAL = 0
/** Universal types whose contents are one value even when their constructed bit is set: BOOLEAN, INTEGER, NULL, OID, ENUMERATED, RELATIVE-OID. */
const ONE_VALUE_TAGS = new Set([1, 2, 5, 6, 10, 13])
/** Universal types X.690 only allows primitive: BOOLEAN, INTEGER, NULL, OID, REAL, RELATIVE-OID, the time types. */
const PRIMITIVE_ONLY_TAGS = new Set([1, 2, 5, 6, 9, 13, 14, 23, 24, 31, 32, 33, 34])

/**
 * Reads the whole element tree of `der`, which must be exactly one element, and checks it as a
 * structure before any caller judges a value, so a damaged document is refused as damaged: lengths
 * within their parents (via `ber.ts`), the reserved universal tags (0 constructed, 15, 37 and up),
 * the constructed form of a type that is primitive only, a
 * BIT STRING's unused-bit count, an unterminated OBJECT IDENTIFIER, the segments of a constructed BIT or OCTET STRING, BMPString and UniversalString lengths, GeneralizedTime texts.
 * SEQUENCE and SET contents are read as elements whatever their constructed bit says. Throws
 * FormatError(`code`) naming `what`; nothing is copied.
 */
export function readDerTree(der: Uint8Array, code: string, what: string): DerNode {
  const root = readNode(der, 0, der.length, code, what, 0)
  if (root.el.end !== der.length) throw new FormatError(code, `${what}: not a single DER value (trailing bytes)`)
  return root
}

function readNode(bytes: Uint8Array, offset: number, limit: number, code: string, what: string, depth: number): DerNode {
  const refuse = (why: string): never => {
    throw new FormatError(code, `${what}: not a single DER value (${why})`)
  }
  if (depth > MAX_STRUCTURE_DEPTH) refuse(`nested more than ${MAX_STRUCTURE_DEPTH} levels`)
  const el = bytes[offset] === 0 && offset < limit ? endOfContents(bytes, offset, limit, code, what) : readBer(bytes, offset, limit, code, what)
  const node: DerNode = {el, children: []}
  if (el.tagClass === UNIVERSAL) {
    const problem = reservedTagProblem(el) ?? textLengthProblem(el.tagNumber, el.contentEnd - el.contentStart) ?? bitStringProblem(el) ?? identifierProblem(el)
    if (problem) refuse(problem)
    if (el.tagNumber === TAG_GENERALIZED_TIME) {
      try {
        generalizedTimeDate(contentText(el))
      } catch (e) {
        if (!(e instanceof TimeTextError)) throw e
        throw new FormatError(code, `${what}: not DER (${e.message})`)
      }
    }
  }
  if (hasChildren(el)) {
    for (let p = el.contentStart; p < el.contentEnd;) {
      const child = readNode(bytes, p, el.contentEnd, code, what, depth + 1)
      node.children.push(child)
      p = child.el.end
    }
    const problem = segmentsProblem(node)
    if (problem) refuse(problem)
  }
  return node
}

/**
 * A constructed BIT STRING or OCTET STRING is its segments, each of the same type (X.690 §8.6.4,
 * §8.7.3), and only the last BIT STRING segment may leave bits unused (§8.6.4.1).
 */
function segmentsProblem(node: DerNode): string | undefined {
  const {el} = node
  if (el.tagClass !== UNIVERSAL || (el.tagNumber !== 3 && el.tagNumber !== 4)) return undefined
  const type = el.tagNumber === 3 ? 'BIT STRING' : 'OCTET STRING'
  let unusedBefore = 0
  for (const child of node.children) {
    const c = child.el
    if (c.tagClass === UNIVERSAL && c.tagNumber === 0 && !c.constructed) return `EndOfContent is unexpected, ${type} may consists of ${type}s only`
    if (c.tagClass !== UNIVERSAL || c.tagNumber !== el.tagNumber) return `${type} may consists of ${type}s only`
    if (el.tagNumber === 3) {
      const unused = unusedBitsOf(child)
      if (unusedBefore > 0 && unused > 0) return 'Using of "unused bits" inside constructive BIT STRING allowed for least one only'
      unusedBefore = unused
    }
  }
  return undefined
}

/** A BIT STRING's unused-bit count: its first contents octet, or its last segment's count when constructed. */
function unusedBitsOf(node: DerNode): number {
  if (!node.el.constructed) return node.el.contentEnd > node.el.contentStart ? node.el.bytes[node.el.contentStart]! : 0
  const last = node.children.at(-1)
  return last ? unusedBitsOf(last) : 0
}

/**
 * A primitive [UNIVERSAL 0] (end-of-contents, X.690 §8.1.5) ends after its length octets whatever
 * length they state, as every reading of these documents so far has taken it; a stray one is then
 * refused as an unexpected element, or as trailing bytes.
 */
function endOfContents(bytes: Uint8Array, offset: number, limit: number, code: string, what: string): BerElement {
  let p = offset + 1
  if (p >= limit) throw new FormatError(code, `${what}: not BER at byte ${p}: truncated length`)
  const lengthByte = bytes[p++]!
  if (lengthByte === 0x80) throw new FormatError(code, `${what}: not a single DER value (Indefinite length form used for primitive encoding form)`)
  if (lengthByte > 0x80) p += lengthByte & 0x7f
  if (p > limit) throw new FormatError(code, `${what}: not BER at byte ${offset + 2}: truncated length`)
  return {bytes, tagClass: 0, constructed: false, tagNumber: 0, start: offset, contentStart: p, contentEnd: p, end: p}
}

function hasChildren(el: BerElement): boolean {
  if (el.tagClass !== UNIVERSAL) return el.constructed
  if (el.tagNumber === 16 || el.tagNumber === 17) return true
  return el.constructed && el.tagNumber !== 0 && !ONE_VALUE_TAGS.has(el.tagNumber) && !isTextTag(el.tagNumber)
}

function reservedTagProblem(el: BerElement): string | undefined {
  if (el.tagNumber === 0 && el.constructed && el.contentEnd > el.contentStart) return 'Type [UNIVERSAL 0] is reserved'
  if (el.tagNumber === 15) return '[UNIVERSAL 15] is reserved by ASN.1 standard'
  if (el.tagNumber >= 37) return 'UNIVERSAL 37 and upper tags are reserved by ASN.1 standard'
  if (el.constructed && PRIMITIVE_ONLY_TAGS.has(el.tagNumber)) return 'Constructed encoding used for primitive type'
  return undefined
}

function bitStringProblem(el: BerElement): string | undefined {
  if (el.tagNumber !== 3 || el.constructed || el.contentEnd === el.contentStart) return undefined
  return el.bytes[el.contentStart]! > 7 ? 'Unused bits for BitString must be in range 0-7' : undefined
}

/**
 * An OBJECT IDENTIFIER's or RELATIVE-OID's last subidentifier must end (its last octet's top bit
 * clear): each subidentifier is base-128 digits, every one but the last with bit 8 set (X.690 §8.19.2).
 */
function identifierProblem(el: BerElement): string | undefined {
  if ((el.tagNumber !== 6 && el.tagNumber !== 13) || el.constructed || el.contentEnd === el.contentStart) return undefined
  return (el.bytes[el.contentEnd - 1]! & 0x80) !== 0 ? 'End of input reached before message was fully decoded' : undefined
}

/** The contents octets (no copy). */
export function content(el: BerElement): Uint8Array {
  return el.bytes.subarray(el.contentStart, el.contentEnd)
}

/** The contents octets as one character per byte (latin-1). */
export function contentText(el: BerElement): string {
  return Buffer.from(el.bytes.buffer, el.bytes.byteOffset + el.contentStart, el.contentEnd - el.contentStart).toString('latin1')
}

/** Whether `el` has the universal tag `tag`. */
export function isUniversalTag(el: BerElement | undefined, tag: number): boolean {
  return el !== undefined && el.tagClass === UNIVERSAL && el.tagNumber === tag
}

/** INTEGER or ENUMERATED contents: two's complement, big-endian (X.690 §8.3); empty reads as 0. */
export function signedInteger(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n
  const value = BigInt(`0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`)
  return (bytes[0]! & 0x80) !== 0 ? value - (1n << BigInt(bytes.length * 8)) : value
}
