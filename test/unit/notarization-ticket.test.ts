import assert from 'node:assert/strict'
import {cp, mkdtemp, readFile, rm, writeFile, chmod, truncate} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import fc from 'fast-check'
import {isFormatError} from '../../src/formats/format-error.js'
import {parseNotarizationTicket} from '../../src/formats/notarization-ticket.js'
import {renderVerifyText} from '../../src/render/verify-text.js'
import {TrustStore} from '../../src/trust/apple-roots.js'
import {checkTicketTrust} from '../../src/trust/notarization-ticket.js'
import {verifyPath} from '../../src/verify/verify-path.js'
import {createTestPki} from '../support/test-pki.js'
import {writeTicket} from '../support/ticket-writer.js'
import {operaBundle} from '../support/real-shipped.js'
import {ExitCode} from '../../src/exit-codes.js'
import {expectFinding} from '../support/expect-finding.js'

const TICKET = 'Contents/CodeResources'
/** The SHA-256 CodeDirectories' cdhashes of Opera's two executables (main first), as the ticket lists them. */
const OPERA_MAIN_SHA256_CDHASH = '5b1e8f82d2a7717baf2411603252f66df954adc2'
const OPERA_COPY_SHA256_CDHASH = '632fafe51afad8ec2747c6f861f03e1e4ecf8c6b'

async function tempCopy(src: string): Promise<{dir: string; app: string}> {
  const dir = await mkdtemp(join(tmpdir(), 'esdctl-ticket-'))
  const app = join(dir, 'Opera Beta Installer.app')
  await cp(src, app, {recursive: true})
  await chmod(join(app, TICKET), 0o644)
  return {dir, app}
}

describe('stapled notarization tickets in bundles', function () {
  it('parses the real ticket: two Apple certificates, its issue time, the two cdhashes; Apple\'s signature verifies', async function () {
    const bytes = await readFile(join(operaBundle(this), TICKET))
    const t = parseNotarizationTicket(bytes, 'ticket')
    assert.equal(t.version, 1)
    assert.equal(t.certificates.length, 2)
    assert.equal(t.issuedAt.toISOString(), '2019-12-23T07:10:04.000Z')
    assert.deepEqual(t.entries.map(e => [e.hashType, e.hash]), [[2, OPERA_MAIN_SHA256_CDHASH], [2, OPERA_COPY_SHA256_CDHASH]])
    const trust = checkTicketTrust(t, TrustStore.apple())
    assert.equal(trust.signatureValid, true, trust.signatureError)
    assert.equal(trust.chain?.trusted, true, trust.chain?.error)
    assert.equal(trust.chain?.anchor, 'Apple Root CA - G3')
    assert.equal(trust.signer?.commonName, 'Software Ticket Signing')
  })

  it('the real Opera bundle: the ticket is outside the seal, reported as stapled and verified, with a checklist line', async function () {
    const r = await verifyPath(operaBundle(this))
    assert.deepEqual(r.findings.filter(f => f.id.startsWith('seal.') || f.id.startsWith('notarization.')), [])
    assert.equal(r.ok, true)
    assert.equal(r.notarization?.stapled, true)
    assert.equal(r.notarization?.verified, true)
    assert.ok(r.notarization?.cdhashes.includes(OPERA_MAIN_SHA256_CDHASH))
    // Signed with SHA-1 in slot 0 and SHA-256 as the alternate: the cdhash reported is the one the ticket lists, as codesign's CDHash= is.
    assert.equal(r.slices[0]!.cdhash, OPERA_MAIN_SHA256_CDHASH)
    assert.equal(r.slices[0]!.hashType, 'sha256')
    assert.deepEqual(r.slices[0]!.candidateCdhashes, [
      {hashType: 'sha1', cdhash: '96b036325c2658d779dcac340413c782a1dc8cb2'},
      {hashType: 'sha256', cdhash: OPERA_MAIN_SHA256_CDHASH},
    ])
    const text = renderVerifyText(r)
    assert.match(text, new RegExp(`cdhash ${OPERA_MAIN_SHA256_CDHASH}`))
    assert.match(text, /notarization: stapled ticket verified offline, issued 2019-12-23, lists 2 hashes/)
    assert.match(text, /✔ Notarization \(stapled ticket\)/)
  })

  describe('tampered copies (made in a temporary folder)', function () {
    let src: string
    let copy: {dir: string; app: string}
    beforeEach(async function () {
      src = operaBundle(this)
      copy = await tempCopy(src)
    })
    afterEach(async () => {
      if (copy) await rm(copy.dir, {recursive: true, force: true})
    })

    it('a byte changed in the listed hashes: the signature no longer verifies', async () => {
      const bytes = await readFile(join(copy.app, TICKET))
      const at = bytes.indexOf(Buffer.from(OPERA_COPY_SHA256_CDHASH, 'hex'))
      bytes[at] = bytes[at]! ^ 0x01
      await writeFile(join(copy.app, TICKET), bytes)
      const r = await verifyPath(copy.app)
      assert.deepEqual(r.findings.filter(f => f.id.startsWith('notarization.')).map(f => f.id), ['notarization.signature-invalid'])
      expectFinding(r, {id: 'notarization.signature-invalid', severity: 'error', exitCode: ExitCode.verificationFailed})
      assert.equal(r.ok, false)
      assert.equal(r.notarization?.verified, false)
    })

    it('a ticket re-signed with a chain that is not Apple\'s: untrusted', async () => {
      const pki = await createTestPki()
      const forger = await pki.developerId('FORGED0001', {commonName: 'Software Ticket Signing'})
      await writeFile(join(copy.app, TICKET), writeTicket({identity: forger, issuedAt: new Date(), entries: [{hashType: 2, hash: OPERA_MAIN_SHA256_CDHASH}]}))
      const r = await verifyPath(copy.app)
      const ids = r.findings.filter(f => f.id.startsWith('notarization.')).map(f => f.id)
      assert.deepEqual(ids, ['notarization.untrusted'])
      expectFinding(r, {id: 'notarization.untrusted', severity: 'error', exitCode: ExitCode.verificationFailed})
      assert.equal(r.notarization?.verified, false)
    })

    it('the same forged ticket passes only against a store that trusts its root, and then only if it names the signer Apple uses', async () => {
      const pki = await createTestPki()
      const good = await pki.developerId('FORGED0001', {commonName: 'Software Ticket Signing'})
      const other = await pki.developerId('FORGED0001')
      await writeFile(join(copy.app, TICKET), writeTicket({identity: good, issuedAt: new Date(), entries: [{hashType: 2, hash: OPERA_MAIN_SHA256_CDHASH}]}))
      const trusted = await verifyPath(copy.app, {trust: pki.trust})
      assert.deepEqual(trusted.findings.filter(f => f.id.startsWith('notarization.')), [])
      assert.equal(trusted.notarization?.verified, true)
      await writeFile(join(copy.app, TICKET), writeTicket({identity: other, issuedAt: new Date(), entries: [{hashType: 2, hash: OPERA_MAIN_SHA256_CDHASH}]}))
      const wrongSigner = await verifyPath(copy.app, {trust: pki.trust})
      assert.deepEqual(wrongSigner.findings.filter(f => f.id.startsWith('notarization.')).map(f => f.id), ['notarization.untrusted'])
    })

    it('a genuine ticket for other code: not covered (the main executable\'s cdhashes are not listed)', async () => {
      const pki = await createTestPki()
      const signer = await pki.developerId('FORGED0001', {commonName: 'Software Ticket Signing'})
      await writeFile(join(copy.app, TICKET), writeTicket({identity: signer, issuedAt: new Date(), entries: [{hashType: 2, hash: OPERA_COPY_SHA256_CDHASH}]}))
      const r = await verifyPath(copy.app, {trust: pki.trust})
      const f = r.findings.filter(x => x.id.startsWith('notarization.'))
      assert.deepEqual(f.map(x => x.id), ['notarization.not-covered'])
      // Opera's own signature chains to Apple, which this store does not trust: that error sets the exit code.
      expectFinding(r, {id: 'notarization.not-covered', severity: 'warning', exitCode: ExitCode.verificationFailed})
      assert.match(f[0]!.message, /MacOS\/Opera Beta Installer \[x86_64\]/)
    })

    it('a truncated ticket: malformed, and still never a sealed resource', async () => {
      await truncate(join(copy.app, TICKET), 700)
      const r = await verifyPath(copy.app)
      assert.deepEqual(r.findings.filter(f => f.id.startsWith('notarization.') || f.id.startsWith('seal.')).map(f => f.id), ['notarization.malformed'])
      expectFinding(r, {id: 'notarization.malformed', severity: 'warning', exitCode: ExitCode.ok})
      assert.equal(r.notarization?.stapled, true)
    })

    it('without a ticket: not stapled, no finding; a file added elsewhere is still seal.added', async () => {
      await rm(join(copy.app, TICKET))
      await writeFile(join(copy.app, 'Contents/Resources/added.txt'), 'x')
      const r = await verifyPath(copy.app)
      assert.deepEqual(r.notarization, {stapled: false, verified: false, cdhashes: []})
      assert.deepEqual(r.findings.filter(f => f.id.startsWith('notarization.') || f.id.startsWith('seal.')).map(f => f.id), ['seal.added'])
      assert.match(renderVerifyText(r), /notarization: no stapled ticket/)
    })
  })

  it('never throws anything but a FormatError, whatever follows the magic', () => {
    fc.assert(fc.property(fc.uint8Array({maxLength: 600}), fc.nat(2000), fc.nat(400), (tail, certLen, contentLen) => {
      const head = Buffer.alloc(16)
      head.write('s8ch', 0, 'latin1')
      head.writeUInt32LE(1, 4)
      head.writeUInt32LE(certLen, 8)
      head.writeUInt32LE(contentLen, 12)
      try {
        parseNotarizationTicket(Buffer.concat([head, Buffer.from(tail)]), 'fuzz')
      } catch (e) {
        if (!isFormatError(e)) throw e
      }
    }), {numRuns: 500})
  })
})
