import assert from 'node:assert/strict'
import * as asn1js from 'asn1js'
import fc from 'fast-check'
import {decodeDerPlist, decodeDerPlistDict, decodeReal} from '../../src/formats/der-plist.js'
import {FormatError} from '../../src/formats/format-error.js'
import {derBytes, derEntitlementsWrapper, derPlistElement, encodeRealBinary, encodeRealDecimal, type Chooser, type PlistLike} from '../support/der-plist-writer.js'

/** Every value a property list can hold, with keys and text from the whole of Unicode. */
const text = fc.oneof(fc.string({unit: 'grapheme-ascii', maxLength: 12}), fc.string({unit: 'grapheme', maxLength: 8}))
const scalar: fc.Arbitrary<PlistLike> = fc.oneof(
  text,
  fc.boolean(),
  fc.integer({min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER}),
  fc.nat({max: 100000}),
  fc.double({noNaN: true}),
  fc.date({min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true}),
  fc.date({min: new Date('1950-01-01T00:00:00Z'), max: new Date('2049-12-31T23:59:59Z'), noInvalidDate: true}).map(d => new Date(Math.floor(d.getTime() / 1000) * 1000)),
  fc.uint8Array({maxLength: 24}).map(b => Buffer.from(b)),
)
const {value: plistValue} = fc.letrec<{value: PlistLike}>(tie => ({
  value: fc.oneof(
    {depthSize: 'small', withCrossShrink: true},
    scalar,
    fc.array(tie('value'), {maxLength: 4}),
    fc.dictionary(text, tie('value'), {maxKeys: 4, noNullPrototype: true}),
  ),
}))
const chooser = fc.infiniteStream(fc.nat({max: 64})).map(s => {
  const it = s[Symbol.iterator]()
  return ((n: number) => it.next().value! % n) as Chooser
})

/** Equality as a plist sees it: -0 and 0 differ only in REAL, dates by instant, data by bytes. */
function assertSamePlist(actual: unknown, expected: PlistLike): void {
  if (typeof expected === 'number') return assert.ok(Object.is(actual, expected) || (actual === expected), `${String(actual)} !== ${expected}`)
  assert.deepStrictEqual(actual instanceof Uint8Array ? Buffer.from(actual) : actual, expected)
}

describe('DER plist values (DER-Encoded-Profile)', () => {
  it('reads every string, number, boolean, date, data, sequence and set form a DER plist can carry', () => {
    fc.assert(
      fc.property(plistValue, chooser, (value, choose) => {
        const bytes = derBytes(derPlistElement(value, choose))
        assertSamePlist(decodeDerPlist(bytes, 'test'), value)
      }),
      {numRuns: 400},
    )
  })

  it('reads dictionaries inside the entitlements wrapper [APPLICATION 16] {version, [CONTEXT 16] {pairs}}', () => {
    fc.assert(
      fc.property(fc.dictionary(text, plistValue, {maxKeys: 5, noNullPrototype: true}), chooser, (dict, choose) => {
        assertSamePlist(decodeDerPlistDict(derBytes(derEntitlementsWrapper(dict, choose)), 'test'), dict)
      }),
      {numRuns: 150},
    )
  })

  it('reads NumericString digits as the number Apple meant (Version, TimeToLive of 2021 profiles)', () => {
    const set = new asn1js.Set({value: [
      new asn1js.Sequence({value: [new asn1js.Utf8String({value: 'Version'}), new asn1js.NumericString({value: '1'})]}),
      new asn1js.Sequence({value: [new asn1js.Utf8String({value: 'TimeToLive'}), new asn1js.NumericString({value: '364'})]}),
      new asn1js.Sequence({value: [new asn1js.Utf8String({value: 'Spaced'}), new asn1js.NumericString({value: '12 34'})]}),
    ]})
    assert.deepEqual(decodeDerPlistDict(derBytes(set), 'test'), {Version: 1, TimeToLive: 364, Spaced: '12 34'})
  })

  it('reads a SET of non-pairs as an unordered collection and an empty SET as an empty dictionary', () => {
    assert.deepEqual(decodeDerPlist(derBytes(new asn1js.Set({value: [new asn1js.Integer({value: 3}), new asn1js.Boolean({value: true})]})), 't'), [3, true])
    assert.deepEqual(decodeDerPlist(derBytes(new asn1js.Set({value: []})), 't'), {})
  })

  it('decodes REAL in its binary, decimal and special forms (X.690 §8.5)', () => {
    assert.equal(decodeReal(encodeRealBinary(0.15625), 't'), 0.15625)
    assert.equal(decodeReal(encodeRealBinary(-3e300), 't'), -3e300)
    assert.equal(decodeReal(encodeRealDecimal(6.02e23), 't'), 6.02e23)
    assert.equal(decodeReal(new Uint8Array([0x01, ...Buffer.from('  -12')]), 't'), -12)
    assert.equal(decodeReal(new Uint8Array([0x02, ...Buffer.from('3,5')]), 't'), 3.5)
    // base 16, scale factor 1: 0x05 × 2^1 × 16^1 = 160
    assert.equal(decodeReal(new Uint8Array([0x80 | 0x20 | 0x04, 0x01, 0x05]), 't'), 160)
    assert.equal(decodeReal(new Uint8Array([0x40]), 't'), Infinity)
    assert.ok(Object.is(decodeReal(new Uint8Array([0x43]), 't'), -0))
    assert.ok(Number.isNaN(decodeReal(new Uint8Array([0x42]), 't')))
    for (const bad of [[0x44], [0x83, 9, 1, 1], [0x03, ...Buffer.from('1e')], [0xb0, 1, 1]]) {
      assert.throws(() => decodeReal(new Uint8Array(bad), 't'), FormatError, JSON.stringify(bad))
    }
  })

  it('refuses what no plist holds, bounds the depth, and names the source', () => {
    assert.throws(() => decodeDerPlist(derBytes(new asn1js.Null()), 'DER-Encoded-Profile'), /DER-Encoded-Profile: unexpected DER element \(class 1, tag 5\)/)
    assert.throws(() => decodeDerPlist(derBytes(new asn1js.BitString({valueHex: new Uint8Array([1]), unusedBits: 3})), 't'), /whole octets/)
    let deep: asn1js.BaseBlock = new asn1js.Integer({value: 1})
    for (let i = 0; i < 40; i++) deep = new asn1js.Sequence({value: [deep]})
    assert.throws(() => decodeDerPlist(derBytes(deep), 't'), /nested more than/)
    assert.throws(() => decodeDerPlistDict(derBytes(new asn1js.Sequence({value: []})), 't'), /not a dictionary/)
  })

  it('any bytes give a value or a FormatError, never anything else', () => {
    fc.assert(
      fc.property(plistValue, chooser, fc.array(fc.tuple(fc.nat(), fc.nat({max: 255})), {maxLength: 4}), (value, choose, edits) => {
        const bytes = derBytes(derPlistElement(value, choose))
        for (const [at, b] of edits) bytes[at % bytes.length] = b
        try {
          decodeDerPlist(bytes, 't')
        } catch (e) {
          if (!(e instanceof FormatError)) throw e
        }
      }),
      {numRuns: 400},
    )
  })
})
