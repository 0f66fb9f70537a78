import assert from 'node:assert/strict'
import fc from 'fast-check'
import {encodeDerEntitlements} from '../../src/formats/der-entitlements-encode.js'
import {decodeDerPlist} from '../../src/formats/der-plist.js'
import {parseDerEntitlementsBlob} from '../../src/formats/entitlements.js'
import {BlobMagic} from '../../src/formats/superblob.js'
import {referenceDecodeDerPlist} from '../support/asn1js-der-plist.js'
import {referenceParseDerEntitlementsBlob} from '../support/asn1js-entitlements.js'
import {derBytes, derEntitlementsWrapper, derPlistElement, type Chooser, type PlistLike} from '../support/der-plist-writer.js'
import {blob} from '../support/format-assertions.js'

/**
 * The DER plist and DER entitlements readers moved from asn1js onto the bounded BER reader so that
 * `esdctl verify` does not load asn1js. These properties hold them to what asn1js read: the same
 * value for the same bytes, and for damaged bytes the same refusal (error code; and, where the
 * bytes parse as BER, the same message).
 */

type Outcome = {value: unknown} | {code: string; message: string} | {thrown: unknown}

function outcome(read: () => unknown): Outcome {
  try {
    return {value: read()}
  } catch (e) {
    const err = e as {code?: unknown; message?: unknown}
    if (typeof err.code === 'string' && typeof err.message === 'string') return {code: err.code, message: err.message}
    return {thrown: e}
  }
}

const structural = (message: string) => message.includes('not BER at byte') || message.includes('not a single DER value (')

/**
 * Outcomes agree: equal values, or refusals with the same code, and the same message when both
 * readers found the element structure sound. Three departures are allowed, all on bytes that are not
 * BER: the structure is refused in `ber.ts`'s words, an element that runs past its parent (asn1js
 * read on into the bytes after it) is refused rather than read, and so is an indefinite length
 * whose end-of-contents never comes (asn1js stops at the end of the input and keeps what it read).
 */
function assertSameOutcome(actual: Outcome, expected: Outcome, bytes: Uint8Array): void {
  const at = Buffer.from(bytes).toString('hex')
  assert.ok(!('thrown' in actual), `not a FormatError: ${String((actual as {thrown: unknown}).thrown)} for ${at}`)
  assert.ok(!('thrown' in expected), `the reference threw ${String((expected as {thrown: unknown}).thrown)} for ${at}`)
  if ('value' in expected) {
    if ('code' in actual && /not BER at byte \d+: length \d+ runs past the end/.test(actual.message)) return
    // An indefinite length whose end-of-contents never comes: asn1js reads to the end of the input
    // and takes what it found; the bytes stop where an element or the end-of-contents was due.
    if ('code' in actual && actual.message.endsWith(`not BER at byte ${bytes.length}: truncated identifier`)) return
    return assert.deepStrictEqual(actual, expected, at)
  }
  assert.ok('code' in actual, `read ${JSON.stringify((actual as {value: unknown}).value)} where the reference refused (${expected.message}) for ${at}`)
  assert.equal(actual.code, expected.code, at)
  if (!structural(actual.message) && !structural(expected.message)) assert.equal(actual.message, expected.message, at)
}

const text = fc.oneof(fc.string({unit: 'grapheme-ascii', maxLength: 10}), fc.string({unit: 'grapheme', maxLength: 6}), fc.string({unit: 'binary', maxLength: 6}))
const scalar: fc.Arbitrary<PlistLike> = fc.oneof(
  text,
  fc.boolean(),
  fc.integer({min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER}),
  fc.double({noNaN: true}),
  fc.date({min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true}),
  fc.uint8Array({maxLength: 16}).map(b => Buffer.from(b)),
)
const {value: plistValue} = fc.letrec<{value: PlistLike}>(tie => ({
  value: fc.oneof({depthSize: 'small', withCrossShrink: true}, scalar, fc.array(tie('value'), {maxLength: 4}), fc.dictionary(text, tie('value'), {maxKeys: 4, noNullPrototype: true})),
}))
const chooser = fc.infiniteStream(fc.nat({max: 64})).map(s => {
  const it = s[Symbol.iterator]()
  return ((n: number) => it.next().value! % n) as Chooser
})
/** Byte edits: overwrite, cut at, or insert at a position (taken modulo the length). */
const edits = fc.array(fc.tuple(fc.constantFrom('set', 'cut', 'insert'), fc.nat(), fc.nat({max: 255})), {maxLength: 4})

function damage(bytes: Buffer, list: Array<[string, number, number]>): Buffer {
  let b = Buffer.from(bytes)
  for (const [kind, at, byte] of list) {
    if (b.length === 0) break
    const i = at % b.length
    if (kind === 'set') b[i] = byte
    else if (kind === 'cut') b = b.subarray(0, i)
    else b = Buffer.concat([b.subarray(0, i), Buffer.from([byte]), b.subarray(i)])
  }
  return b
}

/** One element with these identifier octets and contents (definite length). */
function element(identifier: number | number[], contents: Uint8Array): Buffer {
  const n = contents.length
  const length = n < 0x80 ? [n] : [0x82, n >> 8, n & 0xff]
  return Buffer.from([...[identifier].flat(), ...length, ...contents])
}

/** The identifier octets of universal primitive tag `n` (X.690 §8.1.2.4 for 31 and up). */
const universal = (n: number): number[] => (n < 31 ? [n] : [0x1f, n])

describe('DER plists and entitlements read without asn1js agree with asn1js', () => {
  it('every plist value in every form a DER plist may use: the same value', () => {
    fc.assert(
      fc.property(plistValue, chooser, (value, choose) => {
        const bytes = derBytes(derPlistElement(value, choose))
        assertSameOutcome(outcome(() => decodeDerPlist(bytes, 't')), outcome(() => referenceDecodeDerPlist(bytes, 't')), bytes)
      }),
      {numRuns: 500},
    )
  })

  it('damaged plists: the same value or the same refusal', () => {
    fc.assert(
      fc.property(plistValue, chooser, edits, (value, choose, list) => {
        const bytes = damage(derBytes(derPlistElement(value, choose)), list)
        assertSameOutcome(outcome(() => decodeDerPlist(bytes, 't')), outcome(() => referenceDecodeDerPlist(bytes, 't')), bytes)
      }),
      {numRuns: 1500},
    )
  })

  it('any contents under every string and time tag: the same text, instant or refusal', () => {
    const timeText = fc.string({unit: fc.constantFrom(...'0123456789Zz+-.,: '), maxLength: 22})
    const contents = fc.oneof(timeText.map(t => Buffer.from(t, 'latin1')), fc.uint8Array({maxLength: 12}).map(b => Buffer.from(b)))
    const tags = [12, 14, ...Array.from({length: 17}, (_, i) => 18 + i)]
    fc.assert(
      fc.property(fc.constantFrom(...tags), contents, fc.boolean(), (tag, body, asKey) => {
        const el = element(universal(tag), body)
        const bytes = asKey ? element(0x31, element(0x30, Buffer.concat([el, element(0x01, Buffer.from([1]))]))) : el
        assertSameOutcome(outcome(() => decodeDerPlist(bytes, 't')), outcome(() => referenceDecodeDerPlist(bytes, 't')), bytes)
      }),
      {numRuns: 3000},
    )
  })

  it('GeneralizedTime with offsets, fractions and local times: the same instant', () => {
    const digits = (n: number) => fc.string({unit: fc.constantFrom(...'0123456789'), minLength: n, maxLength: n})
    const body = fc.oneof(digits(8), digits(10), digits(12), digits(14))
    const fraction = fc.oneof(fc.constant(''), digits(1).map(d => `.${d}`), digits(3).map(d => `.${d}`), fc.constant(','))
    const zone = fc.oneof(fc.constant('Z'), fc.constant(''), digits(2).map(d => `+${d}`), digits(4).map(d => `-${d}`))
    fc.assert(
      fc.property(body, fraction, zone, (b, f, z) => {
        const bytes = element(24, Buffer.from(b + f + z, 'latin1'))
        assertSameOutcome(outcome(() => decodeDerPlist(bytes, 't')), outcome(() => referenceDecodeDerPlist(bytes, 't')), bytes)
      }),
      {numRuns: 2000},
    )
  })

  it('DER entitlements, whole and damaged: the same dictionary or the same refusal', () => {
    const entitlements = fc.dictionary(text, fc.letrec<{v: PlistLike}>(tie => ({
      v: fc.oneof({depthSize: 'small'}, text, fc.boolean(), fc.integer(), fc.array(tie('v'), {maxLength: 3}), fc.dictionary(text, tie('v'), {maxKeys: 3, noNullPrototype: true})),
    })).v, {maxKeys: 4, noNullPrototype: true})
    fc.assert(
      fc.property(entitlements, chooser, fc.boolean(), edits, (dict, choose, ours, list) => {
        const payload = ours ? encodeDerEntitlements(dict as never) : derBytes(derEntitlementsWrapper(dict, choose))
        const bytes = blob(BlobMagic.derEntitlements, damage(payload, list))
        assertSameOutcome(outcome(() => parseDerEntitlementsBlob(bytes)), outcome(() => referenceParseDerEntitlementsBlob(bytes)), bytes)
      }),
      {numRuns: 1500},
    )
  })

  it('constructed BIT and OCTET STRINGs hold only their own segments, and only the last BIT STRING segment leaves bits unused: the same refusal', () => {
    const cases = [
      // Found by the damaged-entitlements property: a constructed BIT STRING holding a UTF8String, after a GeneralString.
      Buffer.from('fade71720000001f7015020101b01030050c01201b0023070c001b03203b20', 'hex'),
      blob(BlobMagic.derEntitlements, element(0x30, element(0x24, element(0x0c, Buffer.from('a'))))),
      blob(BlobMagic.derEntitlements, element(0x30, element(0x23, Buffer.concat([element(0x03, Buffer.from([3, 0xf8])), element(0x03, Buffer.from([2, 0xfc]))])))),
      blob(BlobMagic.derEntitlements, element(0x30, element(0x23, Buffer.concat([element(0x03, Buffer.from([0, 1])), Buffer.from([0, 0])])))),
    ]
    for (const bytes of cases) {
      const ours = outcome(() => parseDerEntitlementsBlob(bytes))
      assert.equal((ours as {code?: string}).code, 'der-entitlements.malformed', Buffer.from(bytes).toString('hex'))
      assertSameOutcome(ours, outcome(() => referenceParseDerEntitlementsBlob(bytes)), bytes)
    }
  })

  it('an indefinite length without its end-of-contents is refused where asn1js reads what came before the end', () => {
    // Found by the damaged-plists property (seed -1492609987): an empty SEQUENCE's length byte set to 0x80.
    const bytes = Buffer.from('3080', 'hex')
    const ours = outcome(() => decodeDerPlist(bytes, 't'))
    assert.deepEqual(ours, {code: 'der-plist.malformed', message: 't: not BER at byte 2: truncated identifier'})
    assert.deepEqual(outcome(() => referenceDecodeDerPlist(bytes, 't')), {value: []})
    assertSameOutcome(ours, outcome(() => referenceDecodeDerPlist(bytes, 't')), bytes)
  })

  it('an OBJECT IDENTIFIER whose last subidentifier never ends is malformed, before its type is judged: the same refusal; a terminated one is only unsupported', () => {
    const cases = [
      // Found by the damaged-entitlements property: a key's UTF8String tag turned into OBJECT IDENTIFIER over bytes ending in 0x80.
      Buffer.from('fade7172000000227018020101b01330110c00310d300b0606e0a080e0a080010100', 'hex'),
      blob(BlobMagic.derEntitlements, element(0x70, Buffer.concat([element(0x02, Buffer.from([1])), element(0xb0, element(0x30, Buffer.concat([element(0x0c, Buffer.alloc(0)), element(0x0d, Buffer.from([0x81, 0xff]))])))]))),
    ]
    for (const bytes of cases) {
      const ours = outcome(() => parseDerEntitlementsBlob(bytes))
      assert.equal((ours as {code?: string}).code, 'der-entitlements.malformed', Buffer.from(bytes).toString('hex'))
      assertSameOutcome(ours, outcome(() => referenceParseDerEntitlementsBlob(bytes)), bytes)
    }
    const ended = blob(BlobMagic.derEntitlements, element(0x70, Buffer.concat([element(0x02, Buffer.from([1])), element(0xb0, element(0x30, Buffer.concat([element(0x0c, Buffer.alloc(0)), element(0x06, Buffer.from([0x81, 0x01]))])))])))
    const oursEnded = outcome(() => parseDerEntitlementsBlob(ended))
    assert.notEqual((oursEnded as {code?: string}).code, 'der-entitlements.malformed')
    assertSameOutcome(oursEnded, outcome(() => referenceParseDerEntitlementsBlob(ended)), ended)
  })
})
