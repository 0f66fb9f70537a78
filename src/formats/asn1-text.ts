/**
 * The text of ASN.1 character-string contents (X.680 §41, X.690 §8.23), by universal tag number.
 * Apple's DER plists use UTF8String; the others are read for profiles Apple's servers wrote with
 * other types. Each decoding is the one esdctl has always applied, so the same bytes give the same key:
 *
 * - UTF8String and the time-of-day types built on it (TIME 14, DATE 31, TIME-OF-DAY 32, DATE-TIME 33,
 *   DURATION 34): UTF-8, or, when the bytes are not valid UTF-8, one character per byte (latin-1);
 * - BMPString: UTF-16 big-endian code units, as they are (a lone surrogate stays);
 * - UniversalString: UTF-32 big-endian; a value past U+10FFFF or a surrogate that does not pair
 *   with the next becomes U+FFFD;
 * - every other string type: one character per byte (latin-1).
 */

export const TAG_UTF8_STRING = 12
export const TAG_NUMERIC_STRING = 18
export const TAG_UNIVERSAL_STRING = 28
export const TAG_BMP_STRING = 30
export const TAG_UTC_TIME = 23
export const TAG_GENERALIZED_TIME = 24

const UTF8_TAGS = new Set([TAG_UTF8_STRING, 14, 31, 32, 33, 34])
/** Every universal tag whose contents are text: 12, 14, 18–34 (the two time types included). */
const TEXT_TAGS = new Set([...UTF8_TAGS, ...Array.from({length: 34 - 18 + 1}, (_, i) => 18 + i)])

const strictUtf8 = new TextDecoder('utf-8', {fatal: true, ignoreBOM: true})

/** Whether universal tag `tag` is a character-string (or time) type. */
export function isTextTag(tag: number): boolean {
  return TEXT_TAGS.has(tag)
}

/**
 * The length rule a string type puts on its contents, as a message, or undefined when it holds:
 * BMPString in 2-byte units, UniversalString in 4-byte units.
 */
export function textLengthProblem(tag: number, length: number): string | undefined {
  if (tag === TAG_BMP_STRING && length % 2 !== 0) return 'BMPString value length must be a multiple of 2'
  if (tag === TAG_UNIVERSAL_STRING && length % 4 !== 0) return 'UniversalString value length must be a multiple of 4'
  return undefined
}

/** The text of the contents of a string element with universal tag `tag` (see the list above). */
export function asn1Text(tag: number, bytes: Uint8Array): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (UTF8_TAGS.has(tag)) {
    try {
      return strictUtf8.decode(bytes)
    } catch {
      return buf.toString('latin1')
    }
  }
  if (tag === TAG_BMP_STRING) return bmpText(buf)
  if (tag === TAG_UNIVERSAL_STRING) return universalText(buf)
  return buf.toString('latin1')
}

function bmpText(buf: Buffer): string {
  const units: number[] = []
  for (let i = 0; i + 1 < buf.length; i += 2) units.push(buf.readUInt16BE(i))
  return fromUnits(units, String.fromCharCode)
}

function universalText(buf: Buffer): string {
  const count = buf.length >> 2
  const points: number[] = []
  for (let i = 0; i < count; i++) {
    const c = buf.readUInt32BE(i * 4)
    if (c > 0x10ffff) {
      points.push(0xfffd)
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < count ? buf.readUInt32BE((i + 1) * 4) : 0
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        points.push(0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00))
        i++
      } else {
        points.push(0xfffd)
      }
    } else {
      points.push(c)
    }
  }
  return fromUnits(points, String.fromCodePoint)
}

/** Builds the string in slices: a spread of a long array would overflow the call stack. */
function fromUnits(values: number[], from: (...codes: number[]) => string): string {
  let out = ''
  for (let i = 0; i < values.length; i += 8192) out += from(...values.slice(i, i + 8192))
  return out
}
