import assert from 'node:assert/strict'
import {createHash, generateKeyPairSync, KeyObject, sign} from 'node:crypto'
import {parseCertificate} from '../../src/formats/certificate.js'
import type {NotarizationTicket} from '../../src/formats/notarization-ticket.js'
import {APPLE_ROOT_ANCHORS, APPLE_ROOT_CA_DER, APPLE_ROOT_CA_SHA256, pinnedAnchor} from '../../src/trust/apple-roots.js'
import {buildChain} from '../../src/trust/chain.js'
import {checkTicketTrust, TICKET_SIGNER_CN} from '../../src/trust/notarization-ticket.js'
import {TrustStore} from '../../src/trust/trust-store.js'
import {checkXarRsaSignature} from '../../src/trust/xar-signature.js'
import {makeCertificate, type MadeCertificate, OIDS} from '../support/cms-builder.js'
import {createTestPki} from '../support/test-pki.js'

/** What the mutation run (npm run mutate -- trust-certs) found no test for: roots, chains, xar and ticket signatures. */

const AT = new Date('2026-01-15T00:00:00Z')

describe('the pinned Apple roots and the trust store', function () {
  it('an anchor whose bytes do not hash to the pin stops with both hashes named', function () {
    const edited = Buffer.from(APPLE_ROOT_CA_DER)
    edited[100] = edited[100]! ^ 1
    const actual = createHash('sha256').update(edited).digest('hex').toUpperCase()
    assert.throws(() => pinnedAnchor('Edited', edited, APPLE_ROOT_CA_SHA256), {message: `Edited: embedded certificate hashes to ${actual}, not the pinned ${APPLE_ROOT_CA_SHA256}`})
    assert.throws(() => pinnedAnchor('Lower case', APPLE_ROOT_CA_DER, APPLE_ROOT_CA_SHA256.toLowerCase()), /Lower case: embedded certificate hashes to B0B1/)
    assert.deepEqual(pinnedAnchor('Apple Root CA', APPLE_ROOT_CA_DER, APPLE_ROOT_CA_SHA256), {name: 'Apple Root CA', der: APPLE_ROOT_CA_DER})
  })

  it('the anchors cannot be changed after the fact, neither the list nor an entry', function () {
    assert.ok(Object.isFrozen(APPLE_ROOT_ANCHORS))
    const store = TrustStore.apple()
    assert.ok(Object.isFrozen(store.anchors))
    assert.ok(store.anchors.every(a => Object.isFrozen(a)))
    assert.throws(() => (store.anchors as Array<{name: string; der: Buffer}>).push({name: 'extra', der: Buffer.alloc(1)}), TypeError)
    assert.throws(() => Object.assign(store.anchors[0]!, {der: Buffer.alloc(1)}), TypeError)
    assert.equal(store.anchorFor(APPLE_ROOT_CA_DER)?.name, 'Apple Root CA')
    assert.equal(store.anchorFor(Buffer.from(APPLE_ROOT_CA_DER.subarray(1))), undefined)
  })
})

describe('buildChain: how a chain is built and judged', function () {
  let root: MadeCertificate
  let mid: MadeCertificate
  let leaf: MadeCertificate
  let store: TrustStore

  before(async function () {
    root = await makeCertificate({cn: 'chain root', ca: true})
    mid = await makeCertificate({cn: 'chain mid', issuer: root, ca: true})
    leaf = await makeCertificate({cn: 'chain leaf', issuer: mid})
    store = new TrustStore([{name: 'The Root', der: root.der}])
  })

  const names = (r: ReturnType<typeof buildChain>) => r.chain.map(c => c.commonName ?? c.sha256)

  it('leaf → intermediate from the pool → the anchor, which need not be in the pool', function () {
    const r = buildChain(leaf.parsed, [mid.parsed], store, AT)
    assert.deepEqual(r, {trusted: true, chain: [leaf.parsed.info, mid.parsed.info, root.parsed.info], anchor: 'The Root'})
    assert.deepEqual(names(buildChain(leaf.parsed, [root.parsed, mid.parsed], store, AT)), ['chain leaf', 'chain mid', 'chain root'])
  })

  it('a certificate that is itself an anchor is a chain of one; an anchor in the middle ends the chain there', function () {
    assert.deepEqual(buildChain(root.parsed, [], store, AT), {trusted: true, chain: [root.parsed.info], anchor: 'The Root'})
    const midStore = new TrustStore([{name: 'The Mid', der: mid.der}])
    assert.deepEqual(buildChain(leaf.parsed, [mid.parsed, root.parsed], midStore, AT), {trusted: true, chain: [leaf.parsed.info, mid.parsed.info], anchor: 'The Mid'})
  })

  it('an anchor that is not a certificate is ignored, the others still end chains', function () {
    const mixed = new TrustStore([{name: 'junk', der: Buffer.from('junk')}, {name: 'The Root', der: root.der}])
    assert.equal(buildChain(leaf.parsed, [mid.parsed], mixed, AT).anchor, 'The Root')
    assert.equal(buildChain(leaf.parsed, [mid.parsed], mixed, AT).trusted, true)
    assert.equal(buildChain(leaf.parsed, [mid.parsed], new TrustStore([{name: 'junk', der: Buffer.from('junk')}]), AT).trusted, false)
  })

  it("an anchor issues only what its key signed under its name", async function () {
    const stranger = await makeCertificate({cn: 'stranger', ca: true})
    const claimsRoot = await makeCertificate({cn: 'claims the root', issuer: stranger, issuerName: [[OIDS.commonName, 'chain root']]})
    assert.deepEqual(buildChain(claimsRoot.parsed, [], store, AT), {
      trusted: false,
      chain: [claimsRoot.parsed.info],
      error: 'cannot find the issuer "chain root" of "claims the root": no certificate with that name was supplied',
    })
    const otherName = await makeCertificate({cn: 'signed by the root key', issuer: root, issuerName: [[OIDS.commonName, 'not the root']]})
    assert.deepEqual(buildChain(otherName.parsed, [], store, AT), {
      trusted: false,
      chain: [otherName.parsed.info],
      error: 'cannot find the issuer "not the root" of "signed by the root key": no certificate with that name was supplied',
    })
  })

  it('a self-signed certificate that is not an anchor ends the chain untrusted; a self-named one signed by another is not self-signed', async function () {
    const selfSigned = await makeCertificate({cn: 'self signed', ca: true})
    assert.deepEqual(buildChain(selfSigned.parsed, [], store, AT), {
      trusted: false,
      chain: [selfSigned.parsed.info],
      error: 'the chain ends at the self-signed "self signed", which is not a trusted root',
    })
    const selfNamed = await makeCertificate({cn: 'self named', issuer: root, issuerName: [[OIDS.commonName, 'self named']]})
    assert.equal(buildChain(selfNamed.parsed, [], store, AT).error, 'cannot find the issuer "self named" of "self named": no certificate with that name was supplied')
    const viaPool = buildChain(leaf.parsed, [mid.parsed, selfSigned.parsed], new TrustStore([]), AT)
    assert.equal(viaPool.error, 'cannot find the issuer "chain root" of "chain mid": no certificate with that name was supplied')
    assert.deepEqual(names(viaPool), ['chain leaf', 'chain mid'])
  })

  it('of two issuers with one name and key, the one valid at the time is taken, in either order', async function () {
    const expiredMid = await makeCertificate({cn: 'chain mid', keys: mid.keys, issuer: root, ca: true, notBefore: new Date('2001-01-01Z'), notAfter: new Date('2002-01-01Z')})
    for (const pool of [[expiredMid.parsed, mid.parsed], [mid.parsed, expiredMid.parsed]]) {
      const r = buildChain(leaf.parsed, pool, store, AT)
      assert.equal(r.trusted, true, r.error)
      assert.equal(r.chain[1]!.sha256, mid.parsed.info.sha256)
    }
    const only = buildChain(leaf.parsed, [expiredMid.parsed], store, AT)
    assert.equal(only.trusted, false)
    assert.equal(only.anchor, 'The Root')
  })

  it('a certificate with the name but another key is named as such', async function () {
    const impostor = await makeCertificate({cn: 'chain mid', issuer: root, ca: true})
    assert.deepEqual(buildChain(leaf.parsed, [impostor.parsed], store, AT), {
      trusted: false,
      chain: [leaf.parsed.info],
      error: 'cannot find the issuer "chain mid" of "chain leaf": none of the certificates with its name signed it',
    })
  })

  it('a loop of two certificates that sign each other ends, without revisiting one', async function () {
    const a0 = await makeCertificate({cn: 'loop a'})
    const b0 = await makeCertificate({cn: 'loop b'})
    const a = await makeCertificate({cn: 'loop a', keys: a0.keys, issuer: b0, ca: true})
    const b = await makeCertificate({cn: 'loop b', keys: b0.keys, issuer: a0, ca: true})
    const r = buildChain(a.parsed, [a.parsed, b.parsed], store, AT)
    assert.deepEqual(r, {trusted: false, chain: [a.parsed.info, b.parsed.info], error: 'cannot find the issuer "loop a" of "loop b": no certificate with that name was supplied'})
  })

  it('eight certificates below the anchor are accepted, nine are too long', async function () {
    let issuer = root
    const intermediates: MadeCertificate[] = []
    for (let i = 0; i < 8; i++) {
      issuer = await makeCertificate({cn: `depth ${i}`, issuer, ca: true})
      intermediates.push(issuer)
    }
    const pool = intermediates.map(c => c.parsed)
    const sevenDeep = await makeCertificate({cn: 'leaf under seven', issuer: intermediates[6]!})
    const ok = buildChain(sevenDeep.parsed, pool, store, AT)
    assert.equal(ok.trusted, true, ok.error)
    assert.equal(ok.chain.length, 9)
    const eightDeep = await makeCertificate({cn: 'leaf under eight', issuer: intermediates[7]!})
    const tooLong = buildChain(eightDeep.parsed, pool, store, AT)
    assert.equal(tooLong.trusted, false)
    assert.equal(tooLong.error, 'the chain is longer than 8 certificates without reaching a trusted root')
    assert.equal(tooLong.chain.length, 9)
  })

  it('validity is inclusive at both ends, to the millisecond', async function () {
    const notBefore = new Date('2020-01-01T00:00:00Z')
    const notAfter = new Date('2021-01-01T00:00:00Z')
    const dated = await makeCertificate({cn: 'dated leaf', issuer: mid, notBefore, notAfter})
    const at = (ms: number) => buildChain(dated.parsed, [mid.parsed], store, new Date(ms))
    assert.equal(at(notBefore.getTime()).trusted, true)
    assert.equal(at(notAfter.getTime()).trusted, true)
    const early = at(notBefore.getTime() - 1)
    assert.deepEqual(early, {
      trusted: false,
      chain: [dated.parsed.info, mid.parsed.info, root.parsed.info],
      anchor: 'The Root',
      error: '"dated leaf" is valid from 2020-01-01T00:00:00.000Z to 2021-01-01T00:00:00.000Z, not at 2019-12-31T23:59:59.999Z',
    })
    assert.equal(at(notAfter.getTime() + 1).error, '"dated leaf" is valid from 2020-01-01T00:00:00.000Z to 2021-01-01T00:00:00.000Z, not at 2021-01-01T00:00:00.001Z')
  })

  it('an issuer that is not a CA breaks the chain; every problem is listed', async function () {
    const notCa = await makeCertificate({cn: 'not a ca', issuer: root})
    const below = await makeCertificate({cn: 'below a non-CA', issuer: notCa, notBefore: new Date('2030-01-01Z')})
    const r = buildChain(below.parsed, [notCa.parsed], store, AT)
    assert.equal(r.trusted, false)
    assert.equal(r.anchor, 'The Root')
    assert.equal(
      r.error,
      `"below a non-CA" is valid from 2030-01-01T00:00:00.000Z to 2049-12-31T00:00:00.000Z, not at ${AT.toISOString()}; "not a ca" issues certificates but is not a certificate authority`,
    )
  })

  it('names without a common name are shown by digest or in full', async function () {
    const namelessCa = await makeCertificate({subject: [[OIDS.organization, 'nameless ca']], ca: true})
    const namelessLeaf = await makeCertificate({subject: [[OIDS.organization, 'nameless leaf']], issuer: namelessCa})
    const r = buildChain(namelessLeaf.parsed, [], store, AT)
    assert.equal(r.error, `cannot find the issuer "${JSON.stringify(namelessLeaf.parsed.info.issuer)}" of "${namelessLeaf.parsed.info.sha256}": no certificate with that name was supplied`)
    assert.match(r.error ?? '', /nameless ca/)
    const selfSigned = buildChain(namelessCa.parsed, [], store, AT)
    assert.equal(selfSigned.error, `the chain ends at the self-signed "${namelessCa.parsed.info.sha256}", which is not a trusted root`)
  })
})

describe('checkXarRsaSignature: RSA PKCS #1 v1.5 over the TOC checksum', function () {
  let rsaLeaf: MadeCertificate
  let ecLeaf: MadeCertificate
  const TOC = Buffer.from('the table of contents')

  before(async function () {
    rsaLeaf = await makeCertificate({cn: 'installer', rsa: true})
    ecLeaf = await makeCertificate({cn: 'ec installer'})
  })

  it('verifies with every checksum algorithm xar uses, and only over that checksum', function () {
    for (const digest of ['md5', 'sha1', 'sha256', 'sha384', 'sha512']) {
      const checksum = createHash(digest).update(TOC).digest()
      const signature = sign(digest, TOC, rsaLeaf.key)
      assert.deepEqual(checkXarRsaSignature(rsaLeaf.parsed, digest, checksum, signature), {valid: true}, digest)
      const other = createHash(digest).update('another TOC').digest()
      assert.deepEqual(checkXarRsaSignature(rsaLeaf.parsed, digest, other, signature), {valid: false, error: 'the signature does not cover the TOC checksum'}, digest)
    }
    // The DigestInfo names the algorithm: a SHA-1 signature is no SHA-256 one, even over the same bytes.
    const sha256 = createHash('sha256').update(TOC).digest()
    const signature = sign('sha256', TOC, rsaLeaf.key)
    assert.equal(checkXarRsaSignature(rsaLeaf.parsed, 'sha1', sha256, signature).valid, false)
  })

  it('names each other reason: an algorithm RSA cannot carry here, a non-RSA key, an unreadable key, a signature that does not open', function () {
    const checksum = createHash('sha256').update(TOC).digest()
    const signature = sign('sha256', TOC, rsaLeaf.key)
    assert.deepEqual(checkXarRsaSignature(rsaLeaf.parsed, 'sha224', checksum, signature), {valid: false, error: 'the TOC checksum algorithm sha224 cannot be signed with RSA here'})
    assert.deepEqual(checkXarRsaSignature(ecLeaf.parsed, 'sha256', checksum, signature), {valid: false, error: "the signing certificate's key is ec, not RSA"})
    const unreadable = {...rsaLeaf.parsed, cert: {...rsaLeaf.parsed.cert, subjectPublicKeyInfo: Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00])}}
    const r = checkXarRsaSignature(unreadable, 'sha256', checksum, signature)
    assert.equal(r.valid, false)
    assert.match(r.error ?? '', /^the signing certificate's key cannot be read \(.+\)$/)
    assert.deepEqual(checkXarRsaSignature(rsaLeaf.parsed, 'sha256', checksum, signature.subarray(1)), {valid: false, error: "the signature does not verify with the signing certificate's key"})
    const foreign = sign('sha256', TOC, generateKeyPairSync('rsa', {modulusLength: 2048}).privateKey)
    assert.equal(checkXarRsaSignature(rsaLeaf.parsed, 'sha256', checksum, foreign).valid, false)
  })
})

describe("checkTicketTrust: the ticket's signature, chain at issue time, and signer", function () {
  let root: MadeCertificate
  let ca: MadeCertificate
  let signer: MadeCertificate
  let store: TrustStore
  const ISSUED = new Date('2024-03-02T01:02:03Z')
  const SIGNED = Buffer.from('header, certificates and content')

  before(async function () {
    root = await makeCertificate({cn: 'ticket root', ca: true})
    ca = await makeCertificate({cn: 'ticket ca', issuer: root, ca: true})
    // Short-lived like Apple's: valid when the ticket was issued, long expired now.
    signer = await makeCertificate({cn: TICKET_SIGNER_CN, issuer: ca, notBefore: new Date('2024-03-01Z'), notAfter: new Date('2024-03-10Z')})
    store = new TrustStore([{name: 'Ticket Root', der: root.der}])
  })

  function ticket(certificates: Buffer[], key: KeyObject = signer.key): NotarizationTicket {
    return {version: 1, certificates, issuedAt: ISSUED, entries: [], signedBytes: SIGNED, signature: sign('sha256', SIGNED, key)}
  }

  it("a ticket signed by Apple's ticket signer, chained at its issue time: all good, nothing to say", function () {
    const r = checkTicketTrust(ticket([signer.der, ca.der]), store)
    assert.deepEqual(r, {signatureValid: true, chain: {trusted: true, chain: [signer.parsed.info, ca.parsed.info, root.parsed.info], anchor: 'Ticket Root'}, signer: signer.parsed.info})
  })

  it('a signature by another key is invalid; the chain and signer are still reported', function () {
    const r = checkTicketTrust(ticket([signer.der, ca.der], ca.key), store)
    assert.equal(r.signatureValid, false)
    assert.equal(r.signatureError, 'signature does not verify with the signer key')
    assert.equal(r.chain?.trusted, true)
    assert.equal(r.signer?.commonName, TICKET_SIGNER_CN)
  })

  it('the leaf must be the ticket-signing certificate', async function () {
    const other = await makeCertificate({cn: 'Software Signing', issuer: ca})
    const r = checkTicketTrust(ticket([other.der, ca.der], other.key), store)
    assert.equal(r.signatureValid, true)
    assert.equal(r.signerError, `the ticket is signed by "Software Signing", not Apple's "${TICKET_SIGNER_CN}"`)
    const nameless = await makeCertificate({subject: [[OIDS.organization, 'no name']], issuer: ca})
    assert.equal(checkTicketTrust(ticket([nameless.der, ca.der], nameless.key), store).signerError, `the ticket is signed by "${nameless.parsed.info.sha256}", not Apple's "${TICKET_SIGNER_CN}"`)
  })

  it('no certificate, or one that does not decode: invalid, with the reason, and no chain', function () {
    assert.deepEqual(checkTicketTrust(ticket([]), store), {signatureValid: false, signatureError: 'the ticket carries no certificate'})
    const r = checkTicketTrust(ticket([signer.der, Buffer.from('not a certificate')]), store)
    assert.equal(r.signatureValid, false)
    assert.match(r.signatureError ?? '', /^a certificate in the ticket cannot be read \(.+\)$/)
    assert.equal('chain' in r, false)
  })

  it('the certificates after the leaf are its chain; a store without their root leaves it untrusted', function () {
    assert.equal(checkTicketTrust(ticket([signer.der]), store).chain?.trusted, false)
    assert.equal(checkTicketTrust(ticket([signer.der, ca.der]), new TrustStore([])).chain?.trusted, false)
  })
})

describe('test PKI installer identities work with checkXarRsaSignature', function () {
  it('the Developer ID Installer leaf of the test PKI signs a TOC checksum that verifies', async function () {
    const pki = await createTestPki()
    const installer = await pki.developerIdInstaller('TEAMXAR001')
    const checksum = createHash('sha1').update('toc').digest()
    const r = checkXarRsaSignature(parseCertificate(installer.certDer), 'sha1', checksum, sign('sha1', Buffer.from('toc'), KeyObject.from(installer.privateKey)))
    assert.deepEqual(r, {valid: true})
  })
})
