import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {verifyCms} from '../../src/trust/cms.js'
import {readProvisioningProfile} from '../../src/trust/provisioning-profile.js'
import {TrustStore} from '../../src/trust/apple-roots.js'
import {createTestPki, signCodeDirectories, signProfile} from '../support/test-pki.js'

/** A stand-in CodeDirectory: only the magic and the hash type byte (0x25) matter to the signer. */
function codeDirectory(hashType: number, filler: number): Buffer {
  const cd = Buffer.alloc(0x80, filler)
  cd.writeUInt32BE(0xfade0c02, 0)
  cd.writeUInt32BE(cd.length, 4)
  cd[0x25] = hashType
  return cd
}

const NOW = new Date('2026-01-15T00:00:00Z')

describe('test PKI end to end', function () {
  it('is memoised', async function () {
    assert.equal(await createTestPki(), await createTestPki())
  })

  it('signs CodeDirectories that verify and chain with its own store, and not with the Apple store', async function () {
    const pki = await createTestPki()
    const id = await pki.developerId('TEAMID0001')
    const cds = [codeDirectory(1, 0x11), codeDirectory(2, 0x22)]
    const der = await signCodeDirectories({codeDirectories: cds, identity: id, signingTime: new Date('2025-12-01Z')})
    const own = await verifyCms(der, {trust: pki.trust, now: NOW, detachedContent: cds[0], validity: 'timestamp-or-now'})
    assert.equal(own.signatureValid, true, own.signatureError)
    assert.equal(own.chain.trusted, true, own.chain.error)
    assert.equal(own.chain.anchor, 'esdctl Test Root CA')
    assert.equal(own.signer?.role, 'developer-id')
    assert.equal(own.signer?.commonName, 'Developer ID Application: esdctl Test Developer (TEAMID0001)')
    assert.equal(own.signingTime?.toISOString(), '2025-12-01T00:00:00.000Z')
    assert.equal(own.timestamp, undefined)
    assert.equal(own.validatedAtSource, 'now')
    const sha1 = createHash('sha1').update(cds[0]!).digest()
    const sha256 = createHash('sha256').update(cds[1]!).digest()
    assert.deepEqual(own.appleCdHashes, [sha1, sha256.subarray(0, 20)])
    assert.deepEqual(own.appleCdHashes2, [
      {algorithm: 'sha1', digest: sha1},
      {algorithm: 'sha256', digest: sha256},
    ])
    const apple = await verifyCms(der, {trust: TrustStore.apple(), now: NOW, detachedContent: cds[0], validity: 'timestamp-or-now'})
    assert.equal(apple.signatureValid, true)
    assert.equal(apple.chain.trusted, false)
  })

  it('honours cdhashAttributes none and first-only', async function () {
    const pki = await createTestPki()
    const id = await pki.developerId('TEAMID0002')
    const cds = [codeDirectory(2, 0x01), codeDirectory(2, 0x02)]
    const none = await verifyCms(await signCodeDirectories({codeDirectories: cds, identity: id, cdhashAttributes: 'none'}), {trust: pki.trust, now: NOW, detachedContent: cds[0], validity: 'timestamp-or-now'})
    assert.equal(none.appleCdHashes, undefined)
    assert.equal(none.appleCdHashes2, undefined)
    const first = await verifyCms(await signCodeDirectories({codeDirectories: cds, identity: id, cdhashAttributes: 'first-only'}), {trust: pki.trust, now: NOW, detachedContent: cds[0], validity: 'timestamp-or-now'})
    assert.equal(first.appleCdHashes?.length, 1)
    assert.equal(first.appleCdHashes2?.length, 1)
  })

  describe('an expired leaf', function () {
    const validity = {notBefore: new Date('2020-01-01Z'), notAfter: new Date('2021-01-01Z')}
    const cds = [codeDirectory(2, 0x33)]

    it('stays valid through a timestamp made while it was valid', async function () {
      const pki = await createTestPki()
      const id = await pki.developerId('TEAMID0003', validity)
      const der = await signCodeDirectories({codeDirectories: cds, identity: id, timestamp: {time: new Date('2020-06-01Z')}})
      const r = await verifyCms(der, {trust: pki.trust, now: NOW, detachedContent: cds[0], validity: 'timestamp-or-now'})
      assert.equal(r.timestamp?.valid, true, r.timestamp?.error)
      assert.equal(r.timestamp?.tsa?.commonName, 'esdctl Test Timestamp Signer')
      assert.equal(r.validatedAtSource, 'timestamp')
      assert.equal(r.validatedAt.toISOString(), '2020-06-01T00:00:00.000Z')
      assert.equal(r.chain.trusted, true, r.chain.error)
    })

    it('is untrusted without a timestamp', async function () {
      const pki = await createTestPki()
      const id = await pki.developerId('TEAMID0004', validity)
      const r = await verifyCms(await signCodeDirectories({codeDirectories: cds, identity: id}), {trust: pki.trust, now: NOW, detachedContent: cds[0], validity: 'timestamp-or-now'})
      assert.equal(r.validatedAtSource, 'now')
      assert.equal(r.chain.trusted, false)
      assert.match(r.chain.error ?? '', /not at 2026-01-15/)
    })

    it('is untrusted when the timestamp falls after its expiry', async function () {
      const pki = await createTestPki()
      const id = await pki.developerId('TEAMID0005', validity)
      const der = await signCodeDirectories({codeDirectories: cds, identity: id, timestamp: {time: new Date('2022-06-01Z')}})
      const r = await verifyCms(der, {trust: pki.trust, now: NOW, detachedContent: cds[0], validity: 'timestamp-or-now'})
      assert.equal(r.timestamp?.valid, true)
      assert.equal(r.chain.trusted, false)
    })

    it('does not count a timestamp from an untrusted TSA', async function () {
      const pki = await createTestPki()
      const id = await pki.developerId('TEAMID0006', validity)
      const der = await signCodeDirectories({codeDirectories: cds, identity: id, timestamp: {time: new Date('2020-06-01Z')}})
      const r = await verifyCms(der, {trust: new TrustStore([]), now: NOW, detachedContent: cds[0], validity: 'timestamp-or-now'})
      assert.equal(r.timestamp?.valid, false)
      assert.match(r.timestamp?.error ?? '', /not trusted/)
      assert.equal(r.validatedAtSource, 'now')
    })
  })

  it('signs a profile that reads back with its fields, trusted by the test store only', async function () {
    const pki = await createTestPki()
    const leaf = await pki.developerId('TEAMID0007')
    const plist = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict>
  <key>AppIDName</key><string>Test Daemon</string>
  <key>ApplicationIdentifierPrefix</key><array><string>TEAMID0007</string></array>
  <key>CreationDate</key><date>2025-01-01T00:00:00Z</date>
  <key>ExpirationDate</key><date>2043-01-01T00:00:00Z</date>
  <key>Platform</key><array><string>OSX</string></array>
  <key>IsXcodeManaged</key><false/>
  <key>DeveloperCertificates</key><array><data>${leaf.certDer.toString('base64')}</data></array>
  <key>Entitlements</key><dict>
    <key>com.apple.application-identifier</key><string>TEAMID0007.com.example.daemon</string>
    <key>com.apple.developer.endpoint-security.client</key><true/>
    <key>com.apple.developer.team-identifier</key><string>TEAMID0007</string>
  </dict>
  <key>Name</key><string>Test Daemon Developer ID</string>
  <key>ProvisionsAllDevices</key><true/>
  <key>TeamIdentifier</key><array><string>TEAMID0007</string></array>
  <key>TeamName</key><string>esdctl tests</string>
  <key>UUID</key><string>00000000-1111-2222-3333-444444444444</string>
</dict></plist>`
    const der = await signProfile(Buffer.from(plist), undefined, {signingTime: new Date('2025-01-01Z')})
    const r = await readProvisioningProfile(der, {trust: pki.trust, now: NOW})
    assert.deepEqual(r.problems, [])
    assert.equal(r.cms.signatureValid, true, r.cms.signatureError)
    assert.equal(r.cms.chain.trusted, true, r.cms.chain.error)
    assert.equal(r.cms.validatedAtSource, 'signing-time')
    assert.equal(r.profile.name, 'Test Daemon Developer ID')
    assert.equal(r.profile.appId, 'TEAMID0007.com.example.daemon')
    assert.equal(r.profile.kind, 'developer-id')
    assert.deepEqual(r.profile.developerCertificates.map(c => c.sha256), [leaf.info.sha256])
    assert.equal(r.profile.entitlements['com.apple.developer.endpoint-security.client'], true)
    const apple = await readProvisioningProfile(der, {trust: TrustStore.apple(), now: NOW})
    assert.equal(apple.cms.chain.trusted, false)
  })
})
