import * as asn1js from 'asn1js'

/**
 * Writes a property-list value in Apple's DER plist shape, choosing for each value one of the
 * primitive forms a DER plist may use (X.680 string types, INTEGER/ENUMERATED/NumericString/REAL,
 * UTCTime/GeneralizedTime, OCTET/BIT STRING). `choose(n)` picks among n forms, so a property test
 * can drive the choice with generated numbers and every form gets exercised.
 */
export type PlistLike = string | number | boolean | Date | Buffer | PlistLike[] | {[key: string]: PlistLike}

export type Chooser = (n: number) => number

/** Which string types can carry this text (by the type's character set as asn1js encodes it). */
function stringForms(text: string): Array<(t: string) => asn1js.BaseBlock> {
  const forms: Array<(t: string) => asn1js.BaseBlock> = [t => new asn1js.Utf8String({value: t}), t => new asn1js.UniversalString({value: t})]
  const codePoints = [...text].map(c => c.codePointAt(0)!)
  if (codePoints.every(c => c <= 0xffff)) forms.push(t => new asn1js.BmpString({value: t}))
  if (codePoints.every(c => c < 0x80)) {
    forms.push(
      t => new asn1js.IA5String({value: t}),
      t => new asn1js.TeletexString({value: t}),
      t => new asn1js.VideotexString({value: t}),
      t => new asn1js.GeneralString({value: t}),
      t => new asn1js.CharacterString({value: t}),
    )
  }
  if (codePoints.every(c => c >= 0x20 && c < 0x7f)) forms.push(t => new asn1js.VisibleString({value: t}), t => new asn1js.GraphicString({value: t}))
  if (/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(text)) forms.push(t => new asn1js.PrintableString({value: t}))
  return forms
}

function pick<T>(forms: T[], choose: Chooser): T {
  return forms[choose(forms.length) % forms.length]!
}

/** ASN.1 REAL, binary form base 2 (X.690 §8.5.7), or the special values. */
export function encodeRealBinary(x: number): Uint8Array {
  if (x === 0 && !Object.is(x, -0)) return new Uint8Array(0)
  if (Object.is(x, -0)) return new Uint8Array([0x43])
  if (x === Infinity) return new Uint8Array([0x40])
  if (x === -Infinity) return new Uint8Array([0x41])
  if (Number.isNaN(x)) return new Uint8Array([0x42])
  const sign = x < 0 ? 0x40 : 0
  let m = Math.abs(x)
  let e = 0
  while (!Number.isInteger(m)) {
    m *= 2
    e -= 1
  }
  let mantissa = BigInt(m)
  while (mantissa > 0n && (mantissa & 1n) === 0n) {
    mantissa >>= 1n
    e += 1
  }
  const exp = Buffer.alloc(2)
  exp.writeInt16BE(e)
  const mant: number[] = []
  for (let v = mantissa; v > 0n; v >>= 8n) mant.unshift(Number(v & 0xffn))
  return new Uint8Array([0x80 | sign | 0x01, ...exp, ...mant])
}

/** ASN.1 REAL, decimal NR3 form (X.690 §8.5.8). */
export function encodeRealDecimal(x: number): Uint8Array {
  return new Uint8Array([0x03, ...Buffer.from(x.toExponential().replace('e+', 'E').replace('e', 'E'), 'latin1')])
}

function real(bytes: Uint8Array): asn1js.BaseBlock {
  return new asn1js.Primitive({idBlock: {tagClass: 1, tagNumber: 9}, valueHex: bytes})
}

function numberForms(n: number): Array<() => asn1js.BaseBlock> {
  const forms: Array<() => asn1js.BaseBlock> = [() => real(encodeRealBinary(n))]
  // Only REAL's special value keeps the sign of -0.
  if (Object.is(n, -0)) return forms
  if (Number.isFinite(n)) forms.push(() => real(encodeRealDecimal(n)))
  if (Number.isSafeInteger(n)) {
    forms.push(() => new asn1js.Integer({value: n}), () => new asn1js.Enumerated({value: n}))
    if (n >= 0 && String(n).length <= 15) forms.push(() => new asn1js.NumericString({value: String(n)}))
  }
  return forms
}

function dateForms(d: Date): Array<() => asn1js.BaseBlock> {
  const forms: Array<() => asn1js.BaseBlock> = [() => new asn1js.GeneralizedTime({valueDate: d})]
  const y = d.getUTCFullYear()
  if (y >= 1950 && y < 2050 && d.getUTCMilliseconds() === 0) forms.push(() => new asn1js.UTCTime({valueDate: d}))
  return forms
}

/** The DER element for `value`, forms chosen by `choose`. */
export function derPlistElement(value: PlistLike, choose: Chooser): asn1js.BaseBlock {
  if (typeof value === 'string') return pick(stringForms(value), choose)(value)
  if (typeof value === 'boolean') return new asn1js.Boolean({value})
  if (typeof value === 'number') return pick(numberForms(value), choose)()
  if (value instanceof Date) return pick(dateForms(value), choose)()
  if (Buffer.isBuffer(value)) {
    return pick([() => new asn1js.OctetString({valueHex: value}), () => new asn1js.BitString({valueHex: value, unusedBits: 0})], choose)()
  }
  if (Array.isArray(value)) return new asn1js.Sequence({value: value.map(v => derPlistElement(v, choose))})
  const pairs = Object.entries(value).map(([k, v]) => new asn1js.Sequence({value: [pick(stringForms(k), choose)(k), derPlistElement(v, choose)]}))
  return new asn1js.Set({value: pairs})
}

/** Apple's entitlements wrapper: `[APPLICATION 16] {INTEGER version, [CONTEXT 16] {pairs}}`. */
export function derEntitlementsWrapper(dict: {[key: string]: PlistLike}, choose: Chooser): asn1js.BaseBlock {
  const pairs = Object.entries(dict).map(([k, v]) => new asn1js.Sequence({value: [new asn1js.Utf8String({value: k}), derPlistElement(v, choose)]}))
  return new asn1js.Constructed({
    idBlock: {tagClass: 2, tagNumber: 16},
    value: [new asn1js.Integer({value: 1}), new asn1js.Constructed({idBlock: {tagClass: 3, tagNumber: 16}, value: pairs})],
  })
}

export function derBytes(block: asn1js.BaseBlock): Buffer {
  return Buffer.from(block.toBER())
}
