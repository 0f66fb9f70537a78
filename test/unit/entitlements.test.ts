import {strict as assert} from 'node:assert'
import fc from 'fast-check'
import * as plist from 'plist'
import {encodeDerEntitlements} from '../../src/formats/der-entitlements-encode.js'
import {MAX_DER_DEPTH, parseDerEntitlementsBlob, parseEntitlementsBlob} from '../../src/formats/entitlements.js'
import {FormatError} from '../../src/formats/format-error.js'
import type {PlistDict, PlistValue} from '../../src/formats/property-list.js'
import {BlobMagic, SlotType, blobPayload, entryForSlot, type EmbeddedSignature} from '../../src/formats/superblob.js'
import {blob, throwsFormat} from '../support/format-assertions.js'
import {ARTIFACTS, realArtifact} from '../support/real-artifacts.js'
import {realSignatures} from '../support/real-slices.js'

const derBlob = (payload: Buffer): Buffer => blob(BlobMagic.derEntitlements, payload)

/** A DER TLV with a short-or-long definite length. */
function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length
  const length = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff])
  return Buffer.concat([Buffer.from([tag]), length, content])
}
const document = (dictContent: Buffer, version = Buffer.from('020101', 'hex')): Buffer => tlv(0x70, Buffer.concat([version, tlv(0xb0, dictContent)]))
const pair = (key: string, value: Buffer): Buffer => tlv(0x30, Buffer.concat([tlv(0x0c, Buffer.from(key)), value]))

describe('entitlements (real binaries)', () => {
  let sentry: EmbeddedSignature[]
  before(async () => {
    sentry = await realSignatures(await realArtifact(ARTIFACTS.sentryCli))
  })

  it('reads the empty XML and DER entitlements sentry-cli carries in both slices', () => {
    for (const sig of sentry) {
      assert.deepEqual(parseEntitlementsBlob(entryForSlot(sig, SlotType.entitlements)!.blob), {})
      assert.deepEqual(parseDerEntitlementsBlob(entryForSlot(sig, SlotType.derEntitlements)!.blob), {})
    }
  })

  it('encodes an empty dictionary to exactly the bytes Apple signed', () => {
    const real = blobPayload(entryForSlot(sentry[0]!, SlotType.derEntitlements)!)
    assert.equal(real.toString('hex'), '7005020101b000')
    assert.deepEqual(encodeDerEntitlements({}), real)
  })
})

const keyArb = fc.string({minLength: 1, maxLength: 12, unit: 'grapheme'})
const valueArb: fc.Arbitrary<PlistValue> = fc.letrec<{value: PlistValue}>(tie => ({
  value: fc.oneof(
    {depthSize: 'small', withCrossShrink: true},
    fc.boolean(),
    fc.maxSafeInteger(),
    fc.string({maxLength: 20, unit: 'grapheme'}),
    fc.array(tie('value'), {maxLength: 4}),
    fc.dictionary(keyArb, tie('value'), {maxKeys: 4, noNullPrototype: true}) as fc.Arbitrary<PlistValue>,
  ),
})).value
const dictArb = fc.dictionary(keyArb, valueArb, {maxKeys: 6, noNullPrototype: true}) as fc.Arbitrary<PlistDict>

describe('DER entitlements (synthetic)', () => {
  it('round-trips what a daemon asks for', () => {
    const dict: PlistDict = {
      'com.apple.developer.endpoint-security.client': true,
      'com.apple.application-identifier': 'ABCDE12345.com.example.esd',
      'com.apple.developer.team-identifier': 'ABCDE12345',
      'keychain-access-groups': ['ABCDE12345.com.example.esd', 'ABCDE12345.shared'],
      'com.example.limits': {max: 4096, min: -1, nested: {deep: [false, 0]}},
    }
    const encoded = encodeDerEntitlements(dict)
    assert.deepEqual(parseDerEntitlementsBlob(derBlob(encoded)), dict)
    // Keys are written in byte order, the order Apple's signer and CoreEntitlements expect.
    const order = ['com.apple.application-identifier', 'com.apple.developer.endpoint-security.client', 'com.apple.developer.team-identifier', 'com.example.limits', 'keychain-access-groups']
    const positions = order.map(k => encoded.indexOf(Buffer.from(k)))
    assert.deepEqual([...positions].sort((a, b) => a - b), positions)
  })

  it('round-trips any dictionary of booleans, integers, strings, arrays and dictionaries', () => {
    fc.assert(
      fc.property(dictArb, dict => {
        assert.deepEqual(parseDerEntitlementsBlob(derBlob(encodeDerEntitlements(dict))), dict)
      }),
      {numRuns: 300},
    )
  })

  it('keeps a key named __proto__ as data', () => {
    const dict = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as PlistDict
    const parsed = parseDerEntitlementsBlob(derBlob(encodeDerEntitlements(dict)))
    assert.equal(Object.getPrototypeOf(parsed), Object.prototype)
    assert.deepEqual(Object.keys(parsed), ['__proto__', 'a'])
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined)
  })

  it('reads hand-assembled DER the way the format describes it', () => {
    const der = document(Buffer.concat([
      pair('flag', Buffer.from('0101ff', 'hex')),
      pair('n', Buffer.from('0202ff7f', 'hex')),
      pair('list', tlv(0x30, Buffer.concat([tlv(0x0c, Buffer.from('x')), Buffer.from('010100', 'hex')]))),
      pair('sub', tlv(0xb0, pair('k', tlv(0x0c, Buffer.from('v'))))),
    ]))
    assert.deepEqual(parseDerEntitlementsBlob(derBlob(der)), {flag: true, n: -129, list: ['x', false], sub: {k: 'v'}})
  })

  it('refuses encodings outside the format with a specific code', () => {
    throwsFormat(() => parseDerEntitlementsBlob(blob(BlobMagic.entitlements, document(Buffer.alloc(0)))), 'der-entitlements.bad-magic')
    throwsFormat(() => parseDerEntitlementsBlob(derBlob(document(Buffer.alloc(0), Buffer.from('020102', 'hex')))), 'der-entitlements.malformed')
    throwsFormat(() => parseDerEntitlementsBlob(derBlob(tlv(0x30, Buffer.from('020101', 'hex')))), 'der-entitlements.malformed')
    throwsFormat(() => parseDerEntitlementsBlob(derBlob(Buffer.concat([document(Buffer.alloc(0)), Buffer.from('0500', 'hex')]))), 'der-entitlements.malformed')
    throwsFormat(() => parseDerEntitlementsBlob(derBlob(document(pair('k', Buffer.from('0401aa', 'hex'))))), 'der-entitlements.unsupported-type')
    throwsFormat(() => parseDerEntitlementsBlob(derBlob(document(pair('k', tlv(0x02, Buffer.from('0100000000000000', 'hex')))))), 'der-entitlements.integer-range')
    throwsFormat(() => parseDerEntitlementsBlob(derBlob(document(Buffer.concat([pair('k', Buffer.from('0101ff', 'hex')), pair('k', Buffer.from('010100', 'hex'))])))), 'der-entitlements.duplicate-key')
    throwsFormat(() => parseDerEntitlementsBlob(derBlob(document(tlv(0x30, tlv(0x0c, Buffer.from('k')))))), 'der-entitlements.malformed')
    throwsFormat(() => parseDerEntitlementsBlob(derBlob(Buffer.from('7080020101b0000000', 'hex'))), 'der-entitlements.malformed')
    throwsFormat(() => parseDerEntitlementsBlob(derBlob(Buffer.from('7005020101b0', 'hex'))), 'der-entitlements.malformed')
    throwsFormat(() => parseDerEntitlementsBlob(derBlob(Buffer.from('7085ffffffffff', 'hex'))), 'der-entitlements.malformed')
  })

  it('bounds nesting on both sides', () => {
    let nested: PlistValue = true
    for (let i = 0; i < MAX_DER_DEPTH; i++) nested = [nested]
    throwsFormat(() => encodeDerEntitlements({k: nested}), 'der-entitlements.too-deep')
    // 100,000 nested definite-length headers: far deeper than a recursive decoder's stack could follow.
    const levels = 100_000
    const deep = Buffer.alloc(levels * 5)
    for (let i = 0; i < levels; i++) {
      deep[i * 5] = i === 0 ? 0x70 : 0x30
      deep[i * 5 + 1] = 0x83
      deep.writeUIntBE((levels - 1 - i) * 5, i * 5 + 2, 3)
    }
    throwsFormat(() => parseDerEntitlementsBlob(derBlob(deep)), 'der-entitlements.too-deep')
    let value = tlv(0x0c, Buffer.from('x'))
    for (let i = 0; i < MAX_DER_DEPTH; i++) value = tlv(0x30, value)
    throwsFormat(() => parseDerEntitlementsBlob(derBlob(document(pair('k', value)))), 'der-entitlements.too-deep')
  })

  it('refuses values DER entitlements cannot express', () => {
    throwsFormat(() => encodeDerEntitlements({when: new Date(0)}), 'der-entitlements.unsupported-value')
    throwsFormat(() => encodeDerEntitlements({blob: Buffer.from('x')}), 'der-entitlements.unsupported-value')
    throwsFormat(() => encodeDerEntitlements({ratio: 0.5}), 'der-entitlements.unsupported-value')
  })

  it('survives byte flips and truncations of real-shaped DER: a result or a FormatError, never anything else', () => {
    const encoded = derBlob(encodeDerEntitlements({
      'com.apple.developer.endpoint-security.client': true, groups: ['a', 'b'], limits: {max: 300, nested: {x: [1, [2, [3]]]}},
    }))
    fc.assert(
      fc.property(
        fc.array(fc.record({at: fc.nat({max: encoded.length - 1}), value: fc.integer({min: 0, max: 255})}), {minLength: 1, maxLength: 6}),
        fc.option(fc.nat({max: encoded.length}), {nil: undefined}),
        (flips, cut) => {
          const b = Buffer.from(encoded)
          for (const f of flips) b[f.at] = f.value
          try {
            parseDerEntitlementsBlob(cut === undefined ? b : b.subarray(0, cut))
          } catch (e) {
            if (!(e instanceof FormatError)) throw e
          }
        },
      ),
      {numRuns: 300},
    )
  })
})

describe('XML entitlements', () => {
  it('reads the plist payload of a 0xfade7171 blob', () => {
    const dict = {'com.apple.developer.endpoint-security.client': true, 'com.apple.application-identifier': 'ABCDE12345.com.example.esd'}
    assert.deepEqual(parseEntitlementsBlob(blob(BlobMagic.entitlements, Buffer.from(plist.build(dict)))), dict)
  })

  it('refuses a wrong magic, a bad length and a payload that is not a dictionary', () => {
    throwsFormat(() => parseEntitlementsBlob(blob(BlobMagic.derEntitlements, Buffer.from(plist.build({})))), 'entitlements.bad-magic')
    const long = blob(BlobMagic.entitlements, Buffer.from(plist.build({})))
    long.writeUInt32BE(long.length + 1, 4)
    throwsFormat(() => parseEntitlementsBlob(long), 'entitlements.bad-length')
    throwsFormat(() => parseEntitlementsBlob(blob(BlobMagic.entitlements, Buffer.from(plist.build(['a'])))), 'plist.not-a-dict')
    throwsFormat(() => parseEntitlementsBlob(blob(BlobMagic.entitlements, Buffer.from('not a property list'))), 'plist.malformed')
  })
})
