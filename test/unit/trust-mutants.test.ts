import assert from 'node:assert/strict'
import {createHash, generateKeyPairSync, KeyObject, sign} from 'node:crypto'
import {FormatError} from '../../src/formats/format-error.js'
import {attributeEncodings, attributeValues, checkFirstSigner, decodeSignedData, singleValue} from '../../src/trust/signed-data.js'
import {verifyCms} from '../../src/trust/cms.js'
import {verifyTimestampToken} from '../../src/trust/timestamp.js'
import {checkSignature} from '../../src/trust/signature.js'
import {TrustStore} from '../../src/trust/trust-store.js'
import {
  assemble,
  attribute,
  buildCms,
  cmsParts,
  explicit,
  generalizedTime,
  integer,
  makeCertificate,
  type MadeCertificate,
  nullValue,
  octets,
  oid,
  OIDS,
  seq,
  set,
  timestampToken,
  tlv,
  tstInfo,
  utcTime,
} from '../support/cms-builder.js'

/** What the mutation run (npm run mutate -- trust) found no test for: the CMS decoder and signer check. */

const CONTENT = Buffer.from('the signed content\n')
const NOW = new Date('2026-01-15T00:00:00Z')

function refusal(der: Buffer, why: string): void {
  assert.throws(() => decodeSignedData(der, 'X'), (e: unknown) => {
    assert.ok(e instanceof FormatError)
    assert.equal(e.code, 'cms.malformed')
    assert.equal(e.message, `X: not a CMS SignedData structure (${why})`)
    return true
  })
}

describe('the CMS SignedData decoder: each field it refuses, with the reason', function () {
  let signer: MadeCertificate

  before(async function () {
    signer = await makeCertificate({cn: 'decoder signer'})
  })

  const parts = () => cmsParts({signer, content: CONTENT})
  const withField = (i: number, value: Buffer | undefined) => {
    const p = parts()
    if (value === undefined) p.fields.splice(i, 1)
    else p.fields[i] = value
    return assemble(p)
  }
  const withSignerField = (i: number, value: Buffer | undefined, insert = false) => {
    const p = parts()
    if (value === undefined) p.signer.splice(i, 1)
    else if (insert) p.signer.splice(i, 0, value)
    else p.signer[i] = value
    return assemble(p)
  }
  const signedData = (...fields: Buffer[]) => seq(oid(OIDS.signedData), explicit(0, seq(...fields)))

  it('a well-formed CMS decodes: content type, content, one certificate, one signer', function () {
    const d = decodeSignedData(buildCms({signer, content: CONTENT}), 'X')
    assert.equal(d.eContentType, OIDS.data)
    assert.deepEqual(d.content, CONTENT)
    assert.equal(d.certificates.length, 1)
    assert.deepEqual(d.certificates[0]!.info.der, signer.der)
    assert.equal(d.signerInfos.length, 1)
    assert.equal(d.signerInfos[0]!.digestAlgorithm, OIDS.sha256)
    assert.equal(d.signerInfos[0]!.signatureAlgorithm, OIDS.ecdsaWithSha256)
  })

  it('up to 8 MiB with zero padding decodes; one byte more is cms.too-large', function () {
    const der = buildCms({signer, content: CONTENT})
    const limit = 8 * 1024 * 1024
    const padded = Buffer.concat([der, Buffer.alloc(limit - der.length)])
    assert.equal(decodeSignedData(padded, 'X').eContentType, OIDS.data)
    const over = Buffer.concat([padded, Buffer.alloc(1)])
    assert.throws(() => decodeSignedData(over, 'X'), {code: 'cms.too-large', message: `X: ${limit + 1} bytes exceeds the ${limit}-byte limit`})
  })

  it('trailing zero bytes are padding; a non-zero one is refused', function () {
    const der = buildCms({signer, content: CONTENT})
    assert.equal(decodeSignedData(Buffer.concat([der, Buffer.alloc(3)]), 'X').signerInfos.length, 1)
    assert.throws(() => decodeSignedData(Buffer.concat([der, Buffer.from([0, 1])]), 'X'), {code: 'cms.malformed', message: 'X: non-zero bytes follow the CMS structure'})
  })

  it('refuses a ContentInfo that is not SignedData, naming the content type', function () {
    refusal(set(oid(OIDS.signedData)), 'ContentInfo is not a SEQUENCE')
    refusal(seq(octets(Buffer.from([1]))), 'ContentInfo contentType is not an OBJECT IDENTIFIER')
    assert.throws(() => decodeSignedData(seq(oid(OIDS.data), explicit(0, seq())), 'X'), {code: 'cms.not-signed-data', message: `X: content type ${OIDS.data} is not SignedData`})
    refusal(seq(oid(OIDS.signedData)), 'ContentInfo has no [0] content')
    refusal(seq(oid(OIDS.signedData), tlv(0xa1, seq())), 'ContentInfo has no [0] content')
    refusal(seq(oid(OIDS.signedData), tlv(0x80, Buffer.from([0x30, 0]))), 'ContentInfo has no [0] content')
    refusal(seq(oid(OIDS.signedData), explicit(0, set())), 'SignedData is not a SEQUENCE')
  })

  it('refuses each SignedData field of the wrong type', function () {
    refusal(withField(0, octets(Buffer.from([1]))), 'SignedData version is not an INTEGER')
    refusal(withField(1, seq()), 'SignedData digestAlgorithms is not a SET')
    refusal(withField(2, set()), 'encapContentInfo is not a SEQUENCE')
    refusal(withField(2, seq(octets(Buffer.from([1])))), 'eContentType is not an OBJECT IDENTIFIER')
    refusal(withField(2, seq(oid(OIDS.data), explicit(1, octets(CONTENT)))), 'eContent is not an [0] OCTET STRING')
    refusal(withField(2, seq(oid(OIDS.data), tlv(0x80, CONTENT))), 'eContent is not an [0] OCTET STRING')
    refusal(withField(2, seq(oid(OIDS.data), explicit(0, seq()))), 'eContent is not an [0] OCTET STRING')
    const fields = parts().fields
    fields[4] = seq()
    refusal(signedData(...fields), 'signerInfos is not a SET')
    refusal(signedData(...parts().fields, integer(0)), 'unexpected fields after signerInfos')
  })

  it('detached content, skipped certificate choices and revocation information decode', function () {
    const detached = decodeSignedData(buildCms({signer, content: CONTENT, attached: false}), 'X')
    assert.equal(detached.content, undefined)
    assert.equal('content' in detached, false)
    const p = parts()
    // An [1] extended certificate choice is skipped; [1] revocationInfoChoices are not read.
    p.fields[3] = explicit(0, tlv(0xa1, integer(1)), signer.der)
    p.fields.splice(4, 0, tlv(0xa1, integer(1)))
    const d = decodeSignedData(assemble(p), 'X')
    assert.equal(d.certificates.length, 1)
    assert.equal(d.signerInfos.length, 1)
    const bare = parts()
    bare.fields.splice(3, 1) // no certificates at all
    assert.deepEqual(decodeSignedData(assemble(bare), 'X').certificates, [])
  })

  it('refuses each SignerInfo field of the wrong type', function () {
    const p = parts()
    p.fields[4] = set(set())
    refusal(signedData(...p.fields), 'SignerInfo is not a SEQUENCE')
    refusal(withSignerField(0, octets(Buffer.from([1]))), 'SignerInfo version is not an INTEGER')
    refusal(withSignerField(1, seq(set(), integer(1))), 'issuerAndSerialNumber is not {Name, INTEGER}')
    refusal(withSignerField(1, seq(seq(), octets(Buffer.from([1])))), 'issuerAndSerialNumber is not {Name, INTEGER}')
    refusal(withSignerField(1, seq(seq(), tlv(0x22, integer(1)))), 'issuerAndSerialNumber is not {Name, INTEGER}')
    refusal(withSignerField(1, explicit(0, octets(Buffer.from([1])))), 'SignerInfo sid is neither issuerAndSerialNumber nor subjectKeyIdentifier')
    refusal(withSignerField(1, tlv(0x81, Buffer.from([1]))), 'SignerInfo sid is neither issuerAndSerialNumber nor subjectKeyIdentifier')
    refusal(withSignerField(1, set()), 'SignerInfo sid is neither issuerAndSerialNumber nor subjectKeyIdentifier')
    refusal(withSignerField(2, oid(OIDS.sha256)), 'SignerInfo digestAlgorithm is not an AlgorithmIdentifier')
    refusal(withSignerField(2, seq(nullValue())), 'SignerInfo digestAlgorithm is not an AlgorithmIdentifier')
    refusal(withSignerField(4, seq(octets(Buffer.from([1])))), 'SignerInfo signatureAlgorithm is not an AlgorithmIdentifier')
    refusal(withSignerField(5, tlv(0x03, Buffer.from([0, 1]))), 'SignerInfo signature is not an OCTET STRING')
    refusal(withSignerField(6, integer(0)), 'unexpected fields in SignerInfo')
    refusal(withSignerField(6, tlv(0xa2, integer(0))), 'unexpected fields in SignerInfo')
  })

  it('refuses attributes that are not a constructed SET of {OID, SET}', function () {
    refusal(withSignerField(3, tlv(0x80, Buffer.from([1]))), 'attributes are not a constructed SET')
    refusal(withSignerField(3, explicit(0, set(oid(OIDS.contentType), set()))), 'an Attribute is not {OID, SET}')
    refusal(withSignerField(3, explicit(0, seq(octets(Buffer.from([1])), set()))), 'an Attribute is not {OID, SET}')
    refusal(withSignerField(3, explicit(0, seq(oid(OIDS.contentType), seq()))), 'an Attribute is not {OID, SET}')
    refusal(withSignerField(3, explicit(0, seq(oid(OIDS.contentType), tlv(0x11)))), 'an Attribute is not {OID, SET}')
    refusal(withSignerField(6, tlv(0xa1, seq(oid(OIDS.contentType)))), 'an Attribute is not {OID, SET}')
  })

  it('reads the sid, the signed attributes as the SET the signature covers, and the unsigned attributes', function () {
    const p = parts()
    p.signer.push(tlv(0xa1, attribute('1.2.3.4', integer(5), integer(6))))
    const info = decodeSignedData(assemble(p), 'X').signerInfos[0]!
    assert.ok('issuer' in info.sid)
    assert.deepEqual(Buffer.from(info.sid.issuer), Buffer.from(signer.pkijs.issuer.toSchema().toBER(false)))
    assert.deepEqual(Buffer.from(info.sid.serialNumber), Buffer.from(signer.pkijs.serialNumber.valueBlock.valueHexView))
    assert.equal(info.signedAttrs!.encoded[0], 0x31)
    assert.deepEqual(Buffer.from(info.signedAttrs!.encoded.subarray(1)), p.signer[3]!.subarray(1))
    assert.deepEqual(info.signedAttrs!.attributes.map(a => a.type), [OIDS.contentType, OIDS.messageDigest])
    assert.deepEqual(info.signature, p.signature)
    assert.deepEqual(info.unsignedAttrs?.attributes.map(a => [a.type, a.values.map(v => Buffer.from(v))]), [['1.2.3.4', [integer(5), integer(6)]]])
    const bare = decodeSignedData(buildCms({signer, content: CONTENT, signedAttrs: null}), 'X').signerInfos[0]!
    assert.equal('signedAttrs' in bare || 'unsignedAttrs' in bare, false)
    const ski = decodeSignedData(withSignerField(1, tlv(0x80, Buffer.from([9, 8]))), 'X').signerInfos[0]!
    assert.ok('subjectKeyIdentifier' in ski.sid)
    assert.deepEqual(Buffer.from(ski.sid.subjectKeyIdentifier), Buffer.from([9, 8]))
  })
})

describe('the first signer: each reason its signature is not valid', function () {
  let signer: MadeCertificate
  let other: MadeCertificate

  before(async function () {
    signer = await makeCertificate({cn: 'signer check'})
    other = await makeCertificate({cn: 'another signer'})
  })

  const check = (der: Buffer, content?: Buffer) => {
    const d = decodeSignedData(der, 'X')
    return checkFirstSigner(d, content ?? d.content)
  }
  const invalid = (der: Buffer, error: string | RegExp, content?: Buffer) => {
    const r = check(der, content)
    assert.equal(r.signatureValid, false)
    if (typeof error === 'string') assert.equal(r.signatureError, error)
    else assert.match(r.signatureError ?? '', error)
    return r
  }

  it('a good signature over the signed attributes is valid, with the signer, digest and signing time', function () {
    const at = new Date('2025-03-04T05:06:07Z')
    const r = check(buildCms({signer, content: CONTENT, signingTime: at}))
    assert.equal(r.signatureValid, true, r.signatureError)
    assert.equal('signatureError' in r, false)
    assert.equal(r.digestAlgorithm, 'sha256')
    assert.equal(r.signer?.info.commonName, 'signer check')
    assert.equal(r.signingTime?.toISOString(), at.toISOString())
  })

  it('a signature straight over the content (no signed attributes) is checked against the content', function () {
    const der = buildCms({signer, content: CONTENT, signedAttrs: null})
    assert.equal(check(der).signatureValid, true)
    invalid(der, 'signature does not verify with the signer key', Buffer.from('other content'))
  })

  it('no SignerInfo is cms.no-signer', function () {
    const p = cmsParts({signer, content: CONTENT})
    p.fields[4] = set()
    const d = decodeSignedData(seq(oid(OIDS.signedData), explicit(0, seq(...p.fields))), 'X')
    assert.throws(() => checkFirstSigner(d, CONTENT), {code: 'cms.no-signer', message: 'CMS SignedData has no SignerInfo'})
  })

  it('an unknown digest algorithm is named, and kept as its OID', function () {
    const r = invalid(buildCms({signer, content: CONTENT, digestOid: '1.2.3.4.5'}), 'unsupported digest algorithm 1.2.3.4.5')
    assert.equal(r.digestAlgorithm, '1.2.3.4.5')
    assert.equal(r.signer?.info.commonName, 'signer check')
  })

  it('the signer is found only by the issuer and serial number of a certificate in the set', function () {
    const missing = invalid(buildCms({signer, content: CONTENT, certificates: [other.der]}), 'the signer certificate is not in the CMS certificate set')
    assert.equal('signer' in missing, false)
    const wrongSerial = seq(Buffer.from(signer.pkijs.issuer.toSchema().toBER(false)), Buffer.from(other.pkijs.serialNumber.toBER(false)))
    invalid(buildCms({signer, content: CONTENT, sid: wrongSerial, certificates: [other.der, signer.der]}), 'the signer certificate is not in the CMS certificate set')
    const wrongIssuer = seq(Buffer.from(other.pkijs.issuer.toSchema().toBER(false)), Buffer.from(signer.pkijs.serialNumber.toBER(false)))
    invalid(buildCms({signer, content: CONTENT, sid: wrongIssuer, certificates: [other.der, signer.der]}), 'the signer certificate is not in the CMS certificate set')
    const notAName = seq(seq(integer(1)), Buffer.from(signer.pkijs.serialNumber.toBER(false)))
    invalid(buildCms({signer, content: CONTENT, sid: notAName}), 'the signer certificate is not in the CMS certificate set')
    const r = check(buildCms({signer, content: CONTENT, certificates: [other.der, signer.der]}))
    assert.equal(r.signer?.info.commonName, 'signer check')
    assert.equal(r.signatureValid, true)
  })

  it('by subjectKeyIdentifier: only a certificate whose SKI extension is that OCTET STRING', async function () {
    const keyId = Buffer.from('0123456789abcdef0123', 'latin1')
    const withSki = await makeCertificate({cn: 'ski signer', extensions: [[OIDS.subjectKeyIdentifier, octets(keyId)]]})
    const sid = tlv(0x80, keyId)
    const r = check(buildCms({signer: withSki, content: CONTENT, sid, certificates: [signer.der, withSki.der]}))
    assert.equal(r.signatureValid, true, r.signatureError)
    assert.equal(r.signer?.info.commonName, 'ski signer')
    invalid(buildCms({signer: withSki, content: CONTENT, sid: tlv(0x80, Buffer.from('another key id')), certificates: [withSki.der]}), 'the signer certificate is not in the CMS certificate set')
    // Same bytes, but the extension holds them as an INTEGER or a constructed OCTET STRING: no match.
    for (const value of [tlv(0x02, keyId), tlv(0x24, octets(keyId))]) {
      const odd = await makeCertificate({cn: 'odd ski', keys: withSki.keys, extensions: [[OIDS.subjectKeyIdentifier, value]]})
      invalid(buildCms({signer: odd, content: CONTENT, sid, certificates: [odd.der]}), 'the signer certificate is not in the CMS certificate set')
    }
  })

  it('without content there is nothing to check', function () {
    invalid(buildCms({signer, content: CONTENT, attached: false}), 'there is no content to check the signature against')
    assert.equal(check(buildCms({signer, content: CONTENT, attached: false}), CONTENT).signatureValid, true)
  })

  it('the content-type attribute must be there once, one OID, equal to eContentType', function () {
    const digest = attribute(OIDS.messageDigest, octets(createHash('sha256').update(CONTENT).digest()))
    const why = 'the signed content-type attribute is missing or does not match the content type'
    invalid(buildCms({signer, content: CONTENT, signedAttrs: [digest]}), why)
    invalid(buildCms({signer, content: CONTENT, signedAttrs: [attribute(OIDS.contentType, octets(Buffer.from(oid(OIDS.data).subarray(2)))), digest]}), why)
    invalid(buildCms({signer, content: CONTENT, signedAttrs: [attribute(OIDS.contentType, oid(OIDS.tstInfo)), digest]}), why)
    invalid(buildCms({signer, content: CONTENT, signedAttrs: [attribute(OIDS.contentType, oid(OIDS.data), oid(OIDS.data)), digest]}), why)
    invalid(buildCms({signer, content: CONTENT, signedAttrs: [attribute(OIDS.contentType, oid(OIDS.data)), attribute(OIDS.contentType, oid(OIDS.data)), digest]}), why)
    invalid(buildCms({signer, content: CONTENT, signedAttrs: [attribute(OIDS.contentType, tlv(0x06)), digest]}), why)
  })

  it('the message-digest attribute must be there once, an OCTET STRING equal to the content digest', function () {
    const type = attribute(OIDS.contentType, oid(OIDS.data))
    const sha = createHash('sha256').update(CONTENT).digest()
    invalid(buildCms({signer, content: CONTENT, signedAttrs: [type]}), 'the signed message-digest attribute is missing')
    invalid(buildCms({signer, content: CONTENT, signedAttrs: [type, attribute(OIDS.messageDigest, tlv(0x03, sha))]}), 'the signed message-digest attribute is missing')
    invalid(buildCms({signer, content: CONTENT, signedAttrs: [type, attribute(OIDS.messageDigest, tlv(0x24, tlv(0x02, sha)))]}), 'the signed message-digest attribute is missing')
    invalid(buildCms({signer, content: CONTENT, signedAttrs: [type, attribute(OIDS.messageDigest, octets(sha), octets(sha))]}), 'the signed message-digest attribute is missing')
    const flipped = Buffer.from(sha)
    flipped[0] = flipped[0]! ^ 1
    invalid(buildCms({signer, content: CONTENT, signedAttrs: [type, attribute(OIDS.messageDigest, octets(flipped))]}), 'the message digest does not match the sha256 of the content')
    // A constructed OCTET STRING of segments is the same value (BER).
    const segmented = attribute(OIDS.messageDigest, tlv(0x24, octets(sha.subarray(0, 10)), octets(sha.subarray(10))))
    assert.equal(check(buildCms({signer, content: CONTENT, signedAttrs: [type, segmented]})).signatureValid, true)
  })

  it('the digest named by digestAlgorithm is the one compared (sha384 here)', async function () {
    const p384 = await makeCertificate({cn: 'sha384 signer'})
    const r = check(buildCms({signer: p384, content: CONTENT, digest: 'sha384', signatureAlgorithm: '1.2.840.10045.4.3.3'}))
    assert.equal(r.signatureValid, true, r.signatureError)
    assert.equal(r.digestAlgorithm, 'sha384')
  })

  it('a signature by another key is invalid, with the reason', function () {
    const p = cmsParts({signer, content: CONTENT})
    const q = cmsParts({signer: other, content: CONTENT})
    p.signer[5] = octets(q.signature)
    invalid(assemble(p), 'signature does not verify with the signer key')
  })

  it('the signing time is read from one UTCTime or GeneralizedTime value, else left out', function () {
    const at = new Date('2031-02-03T04:05:06Z')
    const type = attribute(OIDS.contentType, oid(OIDS.data))
    const digest = attribute(OIDS.messageDigest, octets(createHash('sha256').update(CONTENT).digest()))
    const timeOf = (...attrs: Buffer[]) => check(buildCms({signer, content: CONTENT, signedAttrs: [type, digest, ...attrs]})).signingTime?.toISOString()
    assert.equal(timeOf(attribute(OIDS.signingTime, utcTime(at))), at.toISOString())
    assert.equal(timeOf(attribute(OIDS.signingTime, generalizedTime(at))), at.toISOString())
    assert.equal(timeOf(attribute(OIDS.signingTime, octets(Buffer.from('310203040506Z')))), undefined)
    assert.equal(timeOf(attribute(OIDS.signingTime, utcTime(at), utcTime(at))), undefined)
    assert.equal(timeOf(attribute(OIDS.signingTime, tlv(0x17, Buffer.from('not a time')))), undefined)
    assert.equal(timeOf(), undefined)
    assert.equal('signingTime' in check(buildCms({signer, content: CONTENT})), false)
  })
})

describe('CMS attribute lookups', function () {
  const attrs = [
    {type: '1.1', values: [Uint8Array.from(integer(1))]},
    {type: '1.2', values: [Uint8Array.from(integer(2)), Uint8Array.from(integer(3))]},
    {type: '1.1', values: [Uint8Array.from(integer(4)), Uint8Array.from([0x02, 0x05, 0x01])]},
  ]

  it('attributeValues decodes every value of every attribute of the type, leaving out what does not decode', function () {
    assert.deepEqual(attributeValues(attrs, '1.1').map(v => v.bytes[v.contentStart]), [1, 4])
    assert.deepEqual(attributeValues(attrs, '1.3'), [])
    assert.deepEqual(attributeValues(undefined, '1.1'), [])
  })

  it('attributeEncodings returns the exact encodings, undecoded', function () {
    assert.deepEqual(attributeEncodings(attrs, '1.1').map(v => Buffer.from(v).toString('hex')), ['020101', '020104', '020501'])
    assert.deepEqual(attributeEncodings(undefined, '1.1'), [])
  })

  it('singleValue: one attribute with one value, else nothing', function () {
    const one = singleValue([attrs[0]!, attrs[1]!], '1.1')
    assert.equal(one?.bytes[one.contentStart], 1)
    assert.equal(singleValue(attrs, '1.1'), undefined)
    assert.equal(singleValue(attrs, '1.2'), undefined)
    assert.equal(singleValue(attrs, '1.9'), undefined)
    assert.equal(singleValue(undefined, '1.1'), undefined)
    assert.equal(singleValue([{type: '1.1', values: [Uint8Array.from([0x02, 0x01, 0x01, 0x00])]}], '1.1'), undefined)
    assert.equal(singleValue([{type: '1.1', values: [Uint8Array.from([0x02, 0x05, 0x01])]}], '1.1'), undefined)
  })
})

describe('checkSignature: every digest and signature algorithm it names', function () {
  const DATA = Buffer.from('signed bytes')
  const ec = generateKeyPairSync('ec', {namedCurve: 'P-256'})
  const rsa = generateKeyPairSync('rsa', {modulusLength: 1024})
  const spki = (k: KeyObject) => k.export({format: 'der', type: 'spki'})

  const SIGNATURE_OIDS: Array<[string, string, 'ec' | 'rsa']> = [
    ['1.2.840.113549.1.1.5', 'sha1', 'rsa'],
    ['1.2.840.113549.1.1.14', 'sha224', 'rsa'],
    ['1.2.840.113549.1.1.11', 'sha256', 'rsa'],
    ['1.2.840.113549.1.1.12', 'sha384', 'rsa'],
    ['1.2.840.113549.1.1.13', 'sha512', 'rsa'],
    ['1.2.840.10045.4.1', 'sha1', 'ec'],
    ['1.2.840.10045.4.3.1', 'sha224', 'ec'],
    ['1.2.840.10045.4.3.2', 'sha256', 'ec'],
    ['1.2.840.10045.4.3.3', 'sha384', 'ec'],
    ['1.2.840.10045.4.3.4', 'sha512', 'ec'],
  ]

  it('each signature algorithm verifies with its own digest and with no other', function () {
    for (const [algorithmOid, digest, type] of SIGNATURE_OIDS) {
      const pair = type === 'ec' ? ec : rsa
      const signature = sign(digest, DATA, pair.privateKey)
      assert.deepEqual(checkSignature(spki(pair.publicKey), algorithmOid, undefined, DATA, signature), {valid: true}, algorithmOid)
      const wrong = sign(digest === 'sha256' ? 'sha384' : 'sha256', DATA, pair.privateKey)
      assert.equal(checkSignature(spki(pair.publicKey), algorithmOid, undefined, DATA, wrong).valid, false, algorithmOid)
    }
  })

  it('a bare key algorithm takes the digest from the CMS digestAlgorithm', function () {
    const digests: Array<[string, string]> = [[OIDS.sha1, 'sha1'], [OIDS.sha224, 'sha224'], [OIDS.sha256, 'sha256'], [OIDS.sha384, 'sha384'], [OIDS.sha512, 'sha512']]
    for (const [digestOid, digest] of digests) {
      for (const [keyOid, pair] of [[OIDS.ecPublicKey, ec], [OIDS.rsaEncryption, rsa]] as const) {
        const signature = sign(digest, DATA, pair.privateKey)
        assert.deepEqual(checkSignature(spki(pair.publicKey), keyOid, digestOid, DATA, signature), {valid: true}, `${keyOid} ${digest}`)
      }
    }
  })

  it('names what it cannot use: an unknown algorithm, a bare key without a known digest', function () {
    const signature = sign('sha256', DATA, ec.privateKey)
    assert.deepEqual(checkSignature(spki(ec.publicKey), '1.2.3', undefined, DATA, signature), {valid: false, error: 'unsupported signature algorithm 1.2.3'})
    assert.deepEqual(checkSignature(spki(ec.publicKey), '1.2.3', OIDS.sha256, DATA, signature), {valid: false, error: `unsupported signature algorithm 1.2.3 with digest ${OIDS.sha256}`})
    assert.deepEqual(checkSignature(spki(ec.publicKey), OIDS.ecPublicKey, undefined, DATA, signature), {valid: false, error: 'unsupported signature algorithm 1.2.840.10045.2.1'})
    assert.deepEqual(checkSignature(spki(ec.publicKey), OIDS.ecPublicKey, '1.2.3', DATA, signature), {valid: false, error: 'unsupported signature algorithm 1.2.840.10045.2.1 with digest 1.2.3'})
    assert.deepEqual(checkSignature(spki(ec.publicKey), OIDS.ecdsaWithSha256, undefined, Buffer.from('other bytes'), signature), {valid: false, error: 'signature does not verify with the signer key'})
    const broken = checkSignature(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00]), OIDS.ecdsaWithSha256, undefined, DATA, signature)
    assert.equal(broken.valid, false)
    assert.match(broken.error ?? '', /^signature could not be checked: ./)
  })
})

describe('verifyCms: which time the chain is judged at, and what the result carries', function () {
  let root: MadeCertificate
  let leaf: MadeCertificate
  let tsa: MadeCertificate
  let trust: TrustStore
  const TS_TIME = new Date('2024-06-01T00:00:00Z')
  const SIGNED_AT = new Date('2023-05-01T00:00:00Z')

  before(async function () {
    root = await makeCertificate({cn: 'cms root', ca: true})
    leaf = await makeCertificate({cn: 'cms leaf', issuer: root})
    tsa = await makeCertificate({cn: 'cms tsa', issuer: root, extKeyUsage: [OIDS.timeStamping]})
    trust = new TrustStore([{name: 'cms root', der: root.der}])
  })

  /** A CMS by `leaf` whose unsigned attributes carry a token from `tsa` over its signature. */
  function timestamped(opts: {signingTime?: Date; goodToken?: boolean}): Buffer {
    const p = cmsParts({signer: leaf, content: CONTENT, certificates: [leaf.der, root.der], ...(opts.signingTime ? {signingTime: opts.signingTime} : {})})
    const imprinted = opts.goodToken === false ? Buffer.from('another signature') : p.signature
    const token = timestampToken(tsa, tstInfo({imprintOf: imprinted, genTime: TS_TIME}), [root.der])
    p.signer.push(tlv(0xa1, attribute(OIDS.timestampToken, token)))
    return assemble(p)
  }

  it('code signatures: a valid timestamp sets the time; an invalid one or none leaves now', async function () {
    const good = await verifyCms(timestamped({signingTime: SIGNED_AT}), {trust, now: NOW, validity: 'timestamp-or-now'})
    assert.equal(good.timestamp?.valid, true, good.timestamp?.error)
    assert.equal(good.validatedAtSource, 'timestamp')
    assert.equal(good.validatedAt.toISOString(), TS_TIME.toISOString())
    assert.equal(good.signingTime?.toISOString(), SIGNED_AT.toISOString())
    const bad = await verifyCms(timestamped({signingTime: SIGNED_AT, goodToken: false}), {trust, now: NOW, validity: 'timestamp-or-now'})
    assert.equal(bad.timestamp?.valid, false)
    assert.equal(bad.validatedAtSource, 'now')
    assert.equal(bad.validatedAt.toISOString(), NOW.toISOString())
    const none = await verifyCms(buildCms({signer: leaf, content: CONTENT, signingTime: SIGNED_AT}), {trust, now: NOW, validity: 'timestamp-or-now'})
    assert.equal(none.validatedAtSource, 'now')
    assert.equal('timestamp' in none, false)
  })

  it('profiles: the signing time, even beside a valid timestamp; now without one', async function () {
    const r = await verifyCms(timestamped({signingTime: SIGNED_AT}), {trust, now: NOW, validity: 'signing-time'})
    assert.equal(r.validatedAtSource, 'signing-time')
    assert.equal(r.validatedAt.toISOString(), SIGNED_AT.toISOString())
    const none = await verifyCms(timestamped({}), {trust, now: NOW, validity: 'signing-time'})
    assert.equal(none.validatedAtSource, 'now')
    assert.equal(none.validatedAt.toISOString(), NOW.toISOString())
  })

  it('the chain is judged at the chosen time', async function () {
    const shortLived = await makeCertificate({cn: 'short-lived leaf', issuer: root, notBefore: new Date('2023-01-01Z'), notAfter: new Date('2023-12-31Z')})
    const der = buildCms({signer: shortLived, content: CONTENT, signingTime: SIGNED_AT, certificates: [shortLived.der]})
    assert.equal((await verifyCms(der, {trust, now: NOW, validity: 'signing-time'})).chain.trusted, true)
    const late = await verifyCms(der, {trust, now: NOW, validity: 'timestamp-or-now'})
    assert.equal(late.chain.trusted, false)
    assert.match(late.chain.error ?? '', /short-lived leaf.*not at 2026-01-15/)
  })

  it('carries the certificates, signer, digest and content; a missing signer is an untrusted, empty chain', async function () {
    const r = await verifyCms(buildCms({signer: leaf, content: CONTENT, certificates: [leaf.der, root.der]}), {trust, now: NOW, validity: 'timestamp-or-now'})
    assert.deepEqual(r.certificates.map(c => c.commonName), ['cms leaf', 'cms root'])
    assert.equal(r.signer?.commonName, 'cms leaf')
    assert.equal(r.digestAlgorithm, 'sha256')
    assert.equal(r.signatureValid, true)
    assert.equal('signatureError' in r, false)
    assert.equal('signingTime' in r, false)
    assert.deepEqual(r.content, CONTENT)
    assert.equal(r.chain.trusted, true, r.chain.error)
    assert.equal('appleCdHashes' in r || 'appleCdHashes2' in r || 'appleAttributeErrors' in r, false)
    const detached = await verifyCms(buildCms({signer: leaf, content: CONTENT, attached: false}), {trust, now: NOW, detachedContent: CONTENT, validity: 'timestamp-or-now'})
    assert.equal(detached.signatureValid, true)
    assert.equal('content' in detached, false)
    const orphan = await verifyCms(buildCms({signer: leaf, content: CONTENT, certificates: [root.der]}), {trust, now: NOW, validity: 'timestamp-or-now'})
    assert.deepEqual(orphan.chain, {trusted: false, chain: [], error: 'the signer certificate is not in the CMS certificate set'})
    assert.equal('signer' in orphan, false)
    assert.equal(orphan.signatureError, 'the signer certificate is not in the CMS certificate set')
  })

  it('bytes that are no CMS are a FormatError naming the CMS signature', async function () {
    await assert.rejects(verifyCms(Buffer.from('junk'), {trust, now: NOW, validity: 'timestamp-or-now'}), (e: unknown) => e instanceof FormatError && e.message.startsWith('CMS signature: '))
  })

  it('a signer without signed attributes: the signature over the content, no Apple attributes, no signing time', async function () {
    const r = await verifyCms(buildCms({signer: leaf, content: CONTENT, signedAttrs: null, certificates: [leaf.der, root.der]}), {trust, now: NOW, validity: 'signing-time'})
    assert.equal(r.signatureValid, true, r.signatureError)
    assert.equal(r.validatedAtSource, 'now')
    assert.equal('appleCdHashes' in r || 'appleCdHashes2' in r || 'signingTime' in r, false)
  })

  it("Apple's cdhash attributes: read when well formed, each problem reported by itself", async function () {
    const h1 = Buffer.alloc(20, 1)
    const h2 = Buffer.alloc(32, 2)
    const plistOf = (inner: string) => octets(Buffer.from(`<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict>${inner}</dict></plist>`))
    const run = async (...extra: Buffer[]) => verifyCms(buildCms({signer: leaf, content: CONTENT, extraSignedAttrs: extra}), {trust, now: NOW, validity: 'timestamp-or-now'})
    const good = await run(
      attribute(OIDS.appleCdHashesPlist, plistOf(`<key>cdhashes</key><array><data>${h1.toString('base64')}</data></array>`)),
      attribute(OIDS.appleCdHashesDigests, seq(oid(OIDS.sha256), octets(h2)), seq(oid('1.2.3.4'), octets(h1))),
    )
    assert.equal(good.signatureValid, true, good.signatureError)
    assert.deepEqual(good.appleCdHashes, [h1])
    assert.deepEqual(good.appleCdHashes2, [{algorithm: 'sha256', digest: h2}, {algorithm: '1.2.3.4', digest: h1}])
    assert.equal('appleAttributeErrors' in good, false)

    const plistErrors = [
      [attribute(OIDS.appleCdHashesPlist, plistOf('<key>cdhashes</key><array/>'), plistOf('<key>cdhashes</key><array/>')), 'expected one OCTET STRING holding a plist'],
      [attribute(OIDS.appleCdHashesPlist, integer(1)), 'expected one OCTET STRING holding a plist'],
      [attribute(OIDS.appleCdHashesPlist, plistOf('<key>cdhashes</key><string>x</string>')), '"cdhashes" is not an array of data'],
      [attribute(OIDS.appleCdHashesPlist, plistOf('<key>cdhashes</key><array><data>AA==</data><string>x</string></array>')), '"cdhashes" is not an array of data'],
      [attribute(OIDS.appleCdHashesPlist, plistOf('<key>other</key><array/>')), '"cdhashes" is not an array of data'],
    ] as const
    for (const [attr, why] of plistErrors) {
      const r = await run(attr, attribute(OIDS.appleCdHashesDigests, seq(oid(OIDS.sha256), octets(h2))))
      assert.equal(r.appleAttributeErrors?.length, 1, why)
      assert.equal(r.appleAttributeErrors[0], `attribute ${OIDS.appleCdHashesPlist}: ${why}`)
      assert.equal('appleCdHashes' in r, false)
      assert.deepEqual(r.appleCdHashes2, [{algorithm: 'sha256', digest: h2}])
    }
    const empty = await run(attribute(OIDS.appleCdHashesPlist, plistOf('<key>cdhashes</key><array/>')))
    assert.deepEqual(empty.appleCdHashes, [])
    const notPlist = await run(attribute(OIDS.appleCdHashesPlist, octets(Buffer.from('not a plist'))))
    assert.equal(notPlist.appleAttributeErrors?.length, 1)

    const digestErrors = [seq(oid(OIDS.sha256)), seq(oid(OIDS.sha256), octets(h2), octets(h2)), seq(octets(h1), octets(h2)), seq(oid(OIDS.sha256), integer(1)), set(oid(OIDS.sha256), octets(h2)), tlv(0x10, Buffer.alloc(0))]
    for (const value of digestErrors) {
      const r = await run(attribute(OIDS.appleCdHashesPlist, plistOf(`<key>cdhashes</key><array><data>${h1.toString('base64')}</data></array>`)), attribute(OIDS.appleCdHashesDigests, value))
      assert.deepEqual(r.appleAttributeErrors, [`attribute ${OIDS.appleCdHashesDigests}: expected SEQUENCE {hash OID, OCTET STRING}`], value.toString('hex'))
      assert.equal('appleCdHashes2' in r, false)
      assert.deepEqual(r.appleCdHashes, [h1])
    }
    const both = await run(attribute(OIDS.appleCdHashesPlist, integer(1)), attribute(OIDS.appleCdHashesDigests, seq()))
    assert.equal(both.appleAttributeErrors?.length, 2)
  })
})

describe('verifyTimestampToken: each reason a token is refused', function () {
  let root: MadeCertificate
  let tsa: MadeCertificate
  let trust: TrustStore
  const SIGNATURE = Buffer.from('the outer signature value')
  const GEN = new Date('2024-06-01T12:34:56Z')

  before(async function () {
    root = await makeCertificate({cn: 'ts root', ca: true})
    tsa = await makeCertificate({cn: 'ts authority', issuer: root, extKeyUsage: [OIDS.codeSigning, OIDS.timeStamping]})
    trust = new TrustStore([{name: 'ts root', der: root.der}])
  })

  const token = (content: Buffer, signer = tsa, overrides = {}) => timestampToken(signer, content, [root.der], overrides)
  const good = () => tstInfo({imprintOf: SIGNATURE, genTime: GEN})
  const refused = (der: Buffer, why: string) => {
    const r = verifyTimestampToken(der, SIGNATURE, trust)
    assert.equal(r.valid, false)
    assert.equal(r.error, why)
    assert.equal(r.time.toISOString(), GEN.toISOString())
    return r
  }
  const malformed = (content: Buffer, why: string | RegExp) =>
    assert.throws(() => verifyTimestampToken(token(content), SIGNATURE, trust), (e: unknown) => {
      assert.ok(e instanceof FormatError)
      assert.equal(e.code, 'timestamp.malformed')
      if (typeof why === 'string') assert.equal(e.message, `timestamp token: TSTInfo does not decode (${why})`)
      else assert.match(e.message, why)
      return true
    })

  it('a good token: valid, its genTime, its authority', function () {
    const r = verifyTimestampToken(token(good()), SIGNATURE, trust)
    assert.deepEqual({valid: r.valid, error: r.error, time: r.time.toISOString(), tsa: r.tsa?.commonName}, {valid: true, error: undefined, time: GEN.toISOString(), tsa: 'ts authority'})
  })

  it('a token that is no CMS is a FormatError naming the timestamp token', function () {
    assert.throws(() => verifyTimestampToken(Buffer.from('junk'), SIGNATURE, trust), (e: unknown) => e instanceof FormatError && e.message.startsWith('timestamp token: '))
  })

  it('a token that is not an attached TSTInfo is timestamp.malformed', function () {
    for (const der of [token(good(), tsa, {eContentType: OIDS.data}), token(good(), tsa, {attached: false})]) {
      assert.throws(() => verifyTimestampToken(der, SIGNATURE, trust), (e: unknown) => e instanceof FormatError && e.code === 'timestamp.malformed' && /is not an attached TSTInfo$/.test(e.message))
    }
    assert.throws(() => verifyTimestampToken(token(good(), tsa, {eContentType: OIDS.data}), SIGNATURE, trust), {message: `timestamp token: content type ${OIDS.data} is not an attached TSTInfo`})
  })

  it('a TSTInfo that does not decode says which part', function () {
    const g = generalizedTime(GEN)
    const imprint = seq(seq(oid(OIDS.sha256)), octets(createHash('sha256').update(SIGNATURE).digest()))
    malformed(Buffer.concat([good(), Buffer.from([0])]), 'trailing bytes')
    const shape = 'not {version, policy, messageImprint, serialNumber, genTime, …}'
    malformed(set(integer(1), oid('1.2'), imprint, integer(1), g), shape)
    malformed(seq(octets(Buffer.from([1])), oid('1.2'), imprint, integer(1), g), shape)
    malformed(seq(integer(1), integer(1), imprint, integer(1), g), shape)
    malformed(seq(integer(1), oid('1.2'), set(), integer(1), g), shape)
    malformed(seq(integer(1), oid('1.2'), imprint, oid('1.2'), g), shape)
    malformed(seq(integer(1), oid('1.2'), imprint, integer(1), utcTime(GEN)), shape)
    const imprintShape = 'messageImprint is not {AlgorithmIdentifier, OCTET STRING}'
    malformed(seq(integer(1), oid('1.2'), seq(oid(OIDS.sha256), octets(Buffer.alloc(32))), integer(1), g), imprintShape)
    malformed(seq(integer(1), oid('1.2'), seq(seq(integer(1)), octets(Buffer.alloc(32))), integer(1), g), imprintShape)
    malformed(seq(integer(1), oid('1.2'), seq(seq(oid(OIDS.sha256)), integer(1)), integer(1), g), imprintShape)
    // A FormatError of the TSTInfo's own code passes through as it is.
    malformed(seq(integer(1), oid('1.2'), seq(seq(tlv(0x06)), octets(Buffer.alloc(32))), integer(1), g), /^timestamp token: TSTInfo: not BER at byte \d+: an empty or constructed OBJECT IDENTIFIER$/)
    malformed(seq(integer(1), oid('1.2'), imprint, integer(1), tlv(0x18, Buffer.from('garbage'))), /^timestamp token: TSTInfo does not decode \(.+\)$/)
  })

  it("the token's own signature must verify; the authority is named even then", function () {
    const p = cmsParts({signer: tsa, content: good(), eContentType: OIDS.tstInfo, certificates: [tsa.der, root.der]})
    p.signer[5] = octets(cmsParts({signer: root, content: good(), eContentType: OIDS.tstInfo}).signature)
    const r = refused(assemble(p), "the timestamp's own signature is invalid: signature does not verify with the signer key")
    assert.equal(r.tsa?.commonName, 'ts authority')
    const unsigned = refused(token(good(), tsa, {certificates: [root.der]}), "the timestamp's own signature is invalid: the signer certificate is not in the CMS certificate set")
    assert.equal('tsa' in unsigned, false)
  })

  it('the imprint: a known algorithm, over this very signature value', function () {
    refused(token(tstInfo({imprintOf: SIGNATURE, genTime: GEN, imprintOid: '1.2.3.4'})), 'unsupported message imprint algorithm 1.2.3.4')
    refused(token(tstInfo({imprintOf: Buffer.from('another signature'), genTime: GEN})), 'the timestamp does not cover this signature (message imprint mismatch)')
    assert.equal(verifyTimestampToken(token(tstInfo({imprintOf: SIGNATURE, genTime: GEN, imprintDigest: 'sha512'})), SIGNATURE, trust).valid, true)
  })

  it('the authority must be a time-stamping certificate chained to the store at genTime', async function () {
    const codeSigner = await makeCertificate({cn: 'not a tsa', issuer: root, extKeyUsage: [OIDS.codeSigning]})
    refused(token(good(), codeSigner), '"not a tsa" is not a time-stamping certificate')
    const noEku = await makeCertificate({cn: 'no eku', issuer: root})
    refused(token(good(), noEku), '"no eku" is not a time-stamping certificate')
    const odd = await makeCertificate({cn: 'odd eku', issuer: root, extensions: [['2.5.29.37', set(oid(OIDS.timeStamping))]]})
    refused(token(good(), odd), '"odd eku" is not a time-stamping certificate')
    const octetEku = await makeCertificate({cn: 'octet eku', issuer: root, extensions: [['2.5.29.37', seq(octets(oid(OIDS.timeStamping).subarray(2)))]]})
    refused(token(good(), octetEku), '"octet eku" is not a time-stamping certificate')
    const brokenEku = await makeCertificate({cn: 'broken eku', issuer: root, extensions: [['2.5.29.37', seq(tlv(0x06))]]})
    refused(token(good(), brokenEku), '"broken eku" is not a time-stamping certificate')
    const nameless = await makeCertificate({subject: [[OIDS.organization, 'no common name']], issuer: root, extKeyUsage: [OIDS.codeSigning]})
    refused(token(good(), nameless), `"${nameless.parsed.info.sha256}" is not a time-stamping certificate`)
    const expired = await makeCertificate({cn: 'expired tsa', issuer: root, extKeyUsage: [OIDS.timeStamping], notBefore: new Date('2020-01-01Z'), notAfter: new Date('2021-01-01Z')})
    const r = refused(token(good(), expired), `the timestamp authority is not trusted: "expired tsa" is valid from 2020-01-01T00:00:00.000Z to 2021-01-01T00:00:00.000Z, not at ${GEN.toISOString()}`)
    assert.equal(r.tsa?.commonName, 'expired tsa')
    assert.match(verifyTimestampToken(token(good()), SIGNATURE, new TrustStore([])).error ?? '', /^the timestamp authority is not trusted: /)
  })
})
