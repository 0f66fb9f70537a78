import {FormatError} from './format-error.js'

/**
 * A BER/DER element located in a buffer, undecoded. CMS signatures in Mach-O files are BER
 * (Apple's signer writes indefinite lengths), profiles and certificates DER; X.690 §8.1 covers both.
 * Offsets are into `bytes`; nothing is copied.
 */
export interface BerElement {
  readonly bytes: Uint8Array
  /** 0 universal, 1 application, 2 context-specific, 3 private. */
  readonly tagClass: number
  readonly constructed: boolean
  readonly tagNumber: number
  /** First byte of the identifier. */
  readonly start: number
  readonly contentStart: number
  /** End of the contents (before the end-of-contents octets of an indefinite length). */
  readonly contentEnd: number
  /** End of the whole element, after any end-of-contents octets. */
  readonly end: number
}

/** Nesting deeper than this is not a CMS, a certificate or a timestamp: refuse it rather than recurse. */
const MAX_DEPTH = 48
/** Tag numbers above this do not occur in the structures read here. */
const MAX_TAG_NUMBER = 2 ** 21

function fail(code: string, what: string, at: number, why: string): never {
  throw new FormatError(code, `${what}: not BER at byte ${at}: ${why}`)
}

/**
 * Reads the element starting at `offset`, which must end at or before `limit` (X.690 §8.1.2–8.1.5).
 * Indefinite lengths are followed to their end-of-contents through the nested elements.
 * Throws FormatError(`code`) naming `what` for anything truncated, over-long or nested past 48 levels.
 */
export function readBer(bytes: Uint8Array, offset: number, limit: number, code: string, what: string, depth = 0): BerElement {
  if (depth > MAX_DEPTH) fail(code, what, offset, `nested more than ${MAX_DEPTH} levels`)
  let p = offset
  if (p >= limit) fail(code, what, p, 'truncated identifier')
  const first = bytes[p++]!
  const tagClass = first >> 6
  const constructed = (first & 0x20) !== 0
  let tagNumber = first & 0x1f
  if (tagNumber === 0x1f) {
    tagNumber = 0
    for (;;) {
      if (p >= limit) fail(code, what, p, 'truncated tag number')
      const b = bytes[p++]!
      tagNumber = tagNumber * 128 + (b & 0x7f)
      if (tagNumber > MAX_TAG_NUMBER) fail(code, what, offset, 'tag number too large')
      if ((b & 0x80) === 0) break
    }
  }
  if (p >= limit) fail(code, what, p, 'truncated length')
  const lengthByte = bytes[p++]!
  if (lengthByte === 0x80) {
    if (!constructed) fail(code, what, offset, 'indefinite length on a primitive element')
    const contentStart = p
    for (;;) {
      if (p + 2 <= limit && bytes[p] === 0 && bytes[p + 1] === 0) {
        return {bytes, tagClass, constructed, tagNumber, start: offset, contentStart, contentEnd: p, end: p + 2}
      }
      p = readBer(bytes, p, limit, code, what, depth + 1).end
    }
  }
  let length = lengthByte
  if (lengthByte > 0x80) {
    const n = lengthByte & 0x7f
    if (n > 4) fail(code, what, p - 1, `a ${n}-byte length`)
    if (p + n > limit) fail(code, what, p, 'truncated length')
    length = 0
    for (let i = 0; i < n; i++) length = length * 256 + bytes[p++]!
  } else if (lengthByte === 0xff) {
    fail(code, what, p - 1, 'reserved length octet')
  }
  if (length > limit - p) fail(code, what, offset, `length ${length} runs past the end (${limit - p} bytes left)`)
  return {bytes, tagClass, constructed, tagNumber, start: offset, contentStart: p, contentEnd: p + length, end: p + length}
}

/** The elements inside a constructed element, in order. */
export function berChildren(el: BerElement, code: string, what: string): BerElement[] {
  if (!el.constructed) fail(code, what, el.start, 'a primitive element where a constructed one is expected')
  const out: BerElement[] = []
  for (let p = el.contentStart; p < el.contentEnd;) {
    const child = readBer(el.bytes, p, el.contentEnd, code, what)
    out.push(child)
    p = child.end
  }
  return out
}

/** The element's whole encoding (identifier, length, contents, end-of-contents). */
export function berRaw(el: BerElement): Uint8Array {
  return el.bytes.subarray(el.start, el.end)
}

/** The contents octets of a primitive element. */
export function berContent(el: BerElement): Uint8Array {
  return el.bytes.subarray(el.contentStart, el.contentEnd)
}

/** Whether `el` has the universal tag `tagNumber` (e.g. 16 SEQUENCE, 17 SET, 6 OID, 4 OCTET STRING, 2 INTEGER). */
export function isUniversal(el: BerElement | undefined, tagNumber: number): el is BerElement {
  return el !== undefined && el.tagClass === 0 && el.tagNumber === tagNumber
}

/** Whether `el` is the context-specific `[tagNumber]`. */
export function isContext(el: BerElement | undefined, tagNumber: number): el is BerElement {
  return el !== undefined && el.tagClass === 2 && el.tagNumber === tagNumber
}

/**
 * The value of an OCTET STRING, primitive or (BER) constructed from primitive segments (X.690
 * §8.7); a constructed one is concatenated into a new Buffer.
 */
export function octetStringValue(el: BerElement, code: string, what: string, depth = 0): Buffer {
  if (!el.constructed) return Buffer.from(el.bytes.buffer, el.bytes.byteOffset + el.contentStart, el.contentEnd - el.contentStart)
  if (depth > MAX_DEPTH) fail(code, what, el.start, `nested more than ${MAX_DEPTH} levels`)
  return Buffer.concat(berChildren(el, code, what).map((c) => {
    if (!isUniversal(c, 4)) fail(code, what, el.start, 'a constructed OCTET STRING holds something else')
    return octetStringValue(c, code, what, depth + 1)
  }))
}

/** Dotted text of an OBJECT IDENTIFIER's contents (X.690 §8.19). */
export function oidText(el: BerElement, code: string, what: string): string {
  if (el.constructed || el.contentEnd === el.contentStart) fail(code, what, el.start, 'an empty or constructed OBJECT IDENTIFIER')
  const arcs: number[] = []
  let value = 0
  for (let p = el.contentStart; p < el.contentEnd; p++) {
    const b = el.bytes[p]!
    value = value * 128 + (b & 0x7f)
    if (value > Number.MAX_SAFE_INTEGER / 128) fail(code, what, el.start, 'an OBJECT IDENTIFIER arc too large')
    if ((b & 0x80) === 0) {
      if (arcs.length === 0) arcs.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80)
      else arcs.push(value)
      value = 0
    } else if (p === el.contentEnd - 1) {
      fail(code, what, el.start, 'an OBJECT IDENTIFIER ends inside an arc')
    }
  }
  return arcs.join('.')
}
