import assert from 'node:assert/strict'
import fc from 'fast-check'
import {describeCertificate} from '../../src/formats/certificate.js'
import {FormatError} from '../../src/formats/format-error.js'
import {APPLE_ROOT_CA_DER} from '../../src/trust/apple-roots.js'
import {createTestPki} from '../support/test-pki.js'

describe('describeCertificate', function () {
  it('reads names, team, dates, hashes and the Developer ID role of a test leaf', async function () {
    const pki = await createTestPki()
    const id = await pki.developerId('ABCDE12345', {name: 'Acme Corp', notBefore: new Date('2024-01-01Z'), notAfter: new Date('2029-01-01Z')})
    const info = describeCertificate(id.certDer)
    assert.equal(info.commonName, 'Developer ID Application: Acme Corp (ABCDE12345)')
    assert.equal(info.teamId, 'ABCDE12345')
    assert.equal(info.subject.UID, 'ABCDE12345')
    assert.equal(info.subject.O, 'Acme Corp')
    assert.equal(info.issuer.CN, 'esdctl Test Developer ID Certification Authority')
    assert.equal(info.role, 'developer-id')
    assert.deepEqual(info.appleExtensionOids, ['1.2.840.113635.100.6.1.13'])
    assert.equal(info.isCA, false)
    assert.equal(info.notBefore.toISOString(), '2024-01-01T00:00:00.000Z')
    assert.equal(info.notAfter.toISOString(), '2029-01-01T00:00:00.000Z')
    assert.match(info.sha256, /^[0-9A-F]{64}$/)
    assert.match(info.sha1, /^[0-9A-F]{40}$/)
    assert.match(info.serialHex, /^[0-9A-F]+$/)
  })

  it('gives Apple Development leaves the apple-development role', async function () {
    const pki = await createTestPki()
    const info = (await pki.appleDevelopment('ABCDE12345')).info
    assert.equal(info.role, 'apple-development')
    assert.ok(info.commonName?.startsWith('Apple Development: '))
  })

  it("gives a certificate with neither an Apple marker nor a known name prefix the role 'other'", async function () {
    const pki = await createTestPki()
    assert.equal(pki.tsa.info.role, 'other')
    assert.equal(pki.tsa.info.appleExtensionOids.length, 0)
  })

  it('reads Apple Root CA', function () {
    const info = describeCertificate(APPLE_ROOT_CA_DER)
    assert.equal(info.subject.CN, 'Apple Root CA')
    assert.equal(info.subject.OU, 'Apple Certification Authority')
    assert.equal(info.isCA, true)
    assert.equal(info.notAfter.toISOString(), '2035-02-09T21:40:36.000Z')
  })

  it('throws FormatError for bad DER, trailing bytes and random mutations', function () {
    assert.throws(() => describeCertificate(Buffer.from([0x30, 0x03, 0x02, 0x01])), FormatError)
    assert.throws(() => describeCertificate(Buffer.concat([APPLE_ROOT_CA_DER, Buffer.from([0])])), FormatError)
    fc.assert(
      fc.property(fc.nat({max: APPLE_ROOT_CA_DER.length - 1}), fc.integer({min: 0, max: 255}), fc.nat({max: APPLE_ROOT_CA_DER.length}), (at, value, cut) => {
        const bytes = Buffer.from(APPLE_ROOT_CA_DER.subarray(0, cut))
        if (at < bytes.length) bytes[at] = value
        try {
          describeCertificate(bytes)
        } catch (e) {
          if (!(e instanceof FormatError)) throw e
        }
      }),
      {numRuns: 150},
    )
  })
})
