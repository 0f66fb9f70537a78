import assert from 'node:assert/strict'
import {createHash, type webcrypto} from 'node:crypto'
import * as pkijs from 'pkijs'
import {parseCertificate} from '../../src/formats/certificate.js'
import {APPLE_ROOT_ANCHORS, APPLE_ROOT_CA_DER, APPLE_ROOT_CA_G3_DER, TrustStore} from '../../src/trust/apple-roots.js'
import {buildChain} from '../../src/trust/chain.js'
import {createTestPki} from '../support/test-pki.js'

function sha256(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex').toUpperCase()
}

describe('Apple trust anchors', function () {
  it('embeds Apple Root CA with the SHA-256 pinned in the design notes', function () {
    assert.equal(sha256(APPLE_ROOT_CA_DER), 'B0B1730ECBC7FF4505142C49F1295E6EDA6BCAED7E2C68C5BE91B5A11001F024')
    const info = parseCertificate(APPLE_ROOT_CA_DER).info
    assert.equal(info.commonName, 'Apple Root CA')
    assert.equal(info.isCA, true)
  })

  it('embeds Apple Root CA - G3 with the SHA-256 pinned in the design notes', function () {
    assert.equal(sha256(APPLE_ROOT_CA_G3_DER), '63343ABFB89A6A03EBB57E9B3F5FA7BE7C4F5C756F3017B3A8C488C3653E9179')
    assert.equal(parseCertificate(APPLE_ROOT_CA_G3_DER).info.commonName, 'Apple Root CA - G3')
  })

  it('the production store holds exactly those two roots', function () {
    const store = TrustStore.apple()
    assert.deepEqual(store.anchors.map(a => a.name), ['Apple Root CA', 'Apple Root CA - G3'])
    assert.deepEqual(store.anchors.map(a => sha256(a.der)), APPLE_ROOT_ANCHORS.map(a => sha256(a.der)))
  })

  it('a store copies its anchors, so later edits to the caller buffer do not change trust', function () {
    const der = Buffer.from(APPLE_ROOT_CA_DER)
    const store = new TrustStore([{name: 'copy', der}])
    der[10] = der[10]! ^ 0xff
    assert.ok(store.anchorFor(APPLE_ROOT_CA_DER))
    assert.equal(store.anchorFor(der), undefined)
  })
})

describe('buildChain', function () {
  it('chains a test leaf through its intermediate to the test root, and to nothing in the Apple store', async function () {
    const pki = await createTestPki()
    const leaf = await pki.developerId('TEAM000001')
    const pool = leaf.chainDer.map(parseCertificate)
    const at = new Date('2026-01-01T00:00:00Z')
    const trusted = buildChain(parseCertificate(leaf.certDer), pool, pki.trust, at)
    assert.equal(trusted.trusted, true, trusted.error)
    assert.equal(trusted.chain.length, 3)
    const apple = buildChain(parseCertificate(leaf.certDer), pool, TrustStore.apple(), at)
    assert.equal(apple.trusted, false)
    assert.match(apple.error ?? '', /not a trusted root/)
  })

  it('reports a missing intermediate by name', async function () {
    const pki = await createTestPki()
    const leaf = await pki.developerId('TEAM000002')
    const r = buildChain(parseCertificate(leaf.certDer), [], pki.trust, new Date('2026-01-01T00:00:00Z'))
    assert.equal(r.trusted, false)
    assert.match(r.error ?? '', /Developer ID Certification Authority/)
  })

  it('rejects a chain judged outside the leaf validity', async function () {
    const pki = await createTestPki()
    const leaf = await pki.developerId('TEAM000003', {notBefore: new Date('2020-01-01Z'), notAfter: new Date('2021-01-01Z')})
    const pool = leaf.chainDer.map(parseCertificate)
    assert.equal(buildChain(parseCertificate(leaf.certDer), pool, pki.trust, new Date('2020-06-01Z')).trusted, true)
    const late = buildChain(parseCertificate(leaf.certDer), pool, pki.trust, new Date('2022-06-01Z'))
    assert.equal(late.trusted, false)
    assert.match(late.error ?? '', /valid from/)
  })

  it('does not accept a certificate that only claims the issuer name', async function () {
    const pki = await createTestPki()
    const leaf = await pki.developerId('TEAM000004')
    // The real intermediate's names and fields, but a different key: the leaf's signature cannot verify under it.
    const impostor = pkijs.Certificate.fromBER(leaf.chainDer[0]!)
    const keys = (await crypto.subtle.generateKey({name: 'ECDSA', namedCurve: 'P-256'}, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair
    await impostor.subjectPublicKeyInfo.importKey(keys.publicKey)
    await impostor.sign(keys.privateKey, 'SHA-256')
    const pool = [parseCertificate(Buffer.from(impostor.toSchema(true).toBER(false)))]
    const r = buildChain(parseCertificate(leaf.certDer), pool, pki.trust, new Date('2026-01-01Z'))
    assert.equal(r.trusted, false)
    assert.match(r.error ?? '', /none of the certificates with its name signed it/)
  })
})
