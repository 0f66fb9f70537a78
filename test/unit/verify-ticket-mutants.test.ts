// checkStapledTicket driven directly with tickets written in test code, so that each verdict and
// text is pinned (issue 14, area verify-checks); notarization-ticket and verify-package reach it
// through real bundles and packages, more slowly.
import {strict as assert} from 'node:assert'
import {execFileSync} from 'node:child_process'
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {APPLE_ROOT_ANCHORS, TrustStore} from '../../src/trust/apple-roots.js'
import {MAX_TICKET_BYTES} from '../../src/formats/notarization-ticket.js'
import {checkBundleTicket, STAPLED_TICKET_REL} from '../../src/verify/bundle-ticket.js'
import {checkStapledTicket} from '../../src/verify/check-notarization.js'
import type {VerifiedSlice} from '../../src/verify/verify-binary.js'
import {createTestPki, type TestIdentity, type TestPki} from '../support/test-pki.js'
import {writeTicket} from '../support/ticket-writer.js'

const P = 'B.app/Contents/CodeResources'
const H1 = '11'.repeat(20)
const H2 = '22'.repeat(20)
const H3 = '33'.repeat(20)
const AT = new Date('2026-11-01T10:00:00Z')
const RESTAPLE = 'Notarize the exact build you ship, then staple its ticket (xcrun stapler staple <path>) as the last step, after signing.'

describe('verify checks: a stapled notarization ticket', () => {
  let pki: TestPki
  let apple: TestIdentity
  let ticket: Buffer
  before(async () => {
    pki = await createTestPki()
    apple = await pki.developerId('FORGED0001', {commonName: 'Software Ticket Signing'})
    ticket = writeTicket({identity: apple, issuedAt: AT, entries: [{hashType: 2, hash: H1}, {hashType: 2, hash: H2}]})
  })
  const line = (message: string, id: string, severity: string) => ({id, severity, path: P, message: `${P}: ${message}`, fix: RESTAPLE})

  it('verified when signed, chained and covering every subject by any of its hashes; the report says what was and was not checked', () => {
    assert.deepEqual(checkStapledTicket(ticket, P, [{label: 'A', hashes: [H3, H2]}, {label: 'B', hashes: [H1]}], pki.trust), {
      report: {
        stapled: true, verified: true, cdhashes: [H1, H2], issuedAt: AT.toISOString(),
        checked: 'the ticket\'s ECDSA signature over its header, certificates and content; its chain from "Software Ticket Signing" to Apple Root CA - G3 at the ticket\'s issue time; and that the hashes it lists cover the signed code',
        notChecked: 'whether Apple has since revoked the notarization (that needs Apple\'s servers); two 32-bit fields of the ticket\'s content header whose meaning is not public',
      },
      findings: [],
    })
  })

  it('nothing to cover is not verified', () => {
    const r = checkStapledTicket(ticket, P, [], pki.trust)
    assert.deepEqual(r.findings, [])
    assert.equal(r.report.verified, false)
  })

  it('not covered: each subject missing from the list, with both lists, or what is unknown or empty', () => {
    const H4 = '44'.repeat(20)
    const r = checkStapledTicket(ticket, P, [{label: 'A', hashes: [H1]}, {label: 'X [arm64]', hashes: [H3, H4]}, {label: 'Y', hashes: []}], pki.trust)
    assert.deepEqual(r.findings, [
      line(`the stapled ticket does not list X [arm64] (its hashes ${H3}, ${H4}; the ticket lists ${H1}, ${H2}); the ticket belongs to other code, so macOS asks Apple online`, 'notarization.not-covered', 'warning'),
      line(`the stapled ticket does not list Y (its hashes are unknown; the ticket lists ${H1}, ${H2}); the ticket belongs to other code, so macOS asks Apple online`, 'notarization.not-covered', 'warning'),
    ])
    assert.equal(r.report.verified, false)
    const empty = checkStapledTicket(writeTicket({identity: apple, issuedAt: AT, entries: []}), P, [{label: 'A', hashes: [H1]}], pki.trust)
    assert.deepEqual(empty.findings, [
      line(`the stapled ticket does not list A (its hashes ${H1}; the ticket lists nothing); the ticket belongs to other code, so macOS asks Apple online`, 'notarization.not-covered', 'warning'),
    ])
  })

  it('a signature that does not verify', () => {
    const altered = Buffer.from(ticket)
    altered[altered.length - 60]! ^= 1
    const r = checkStapledTicket(altered, P, [{label: 'A', hashes: [H1]}], pki.trust)
    assert.deepEqual(r.findings, [
      line('the notarization ticket\'s signature does not verify (signature does not verify with the signer key); the ticket was altered after Apple issued it', 'notarization.signature-invalid', 'error'),
    ])
    assert.equal(r.report.verified, false)
  })

  it('signed by someone other than Apple\'s ticket signer, or not chaining to the store', async () => {
    const other = await pki.developerId('FORGED0001')
    const wrongSigner = checkStapledTicket(writeTicket({identity: other, issuedAt: AT, entries: [{hashType: 2, hash: H1}]}), P, [{label: 'A', hashes: [H1]}], pki.trust)
    assert.deepEqual(wrongSigner.findings, [
      line('the ticket is signed by "Developer ID Application: esdctl Test Developer (FORGED0001)", not Apple\'s "Software Ticket Signing"', 'notarization.untrusted', 'error'),
    ])
    const untrusted = checkStapledTicket(ticket, P, [{label: 'A', hashes: [H1]}], new TrustStore(APPLE_ROOT_ANCHORS))
    assert.deepEqual(untrusted.findings.map(f => f.id), ['notarization.untrusted'])
    assert.equal(untrusted.findings[0]!.message, 'B.app/Contents/CodeResources: the notarization ticket is not signed by Apple (the chain ends at the self-signed "esdctl Test Root CA", which is not a trusted root)')
    assert.equal(untrusted.report.verified, false)
  })

  it('a ticket whose certificate cannot be read: only the signature finding, since no chain could be built', () => {
    // A DER INTEGER where the leaf certificate belongs: a well-formed ticket carrying no usable certificate.
    const notACert = Buffer.from([0x02, 0x01, 0x05])
    const r = checkStapledTicket(writeTicket({identity: {...apple, certDer: notACert, chainDer: []}, issuedAt: AT, entries: [{hashType: 2, hash: H1}]}), P, [{label: 'A', hashes: [H1]}], pki.trust)
    assert.deepEqual(r.findings.map(f => f.id), ['notarization.signature-invalid'])
    assert.match(r.findings[0]!.message, /^B\.app\/Contents\/CodeResources: the notarization ticket's signature does not verify \(a certificate in the ticket cannot be read \(.+\)\); the ticket was altered after Apple issued it$/)
    assert.equal(r.report.verified, false)
    assert.deepEqual(r.report.cdhashes, [H1])
  })

  it('bytes that are no ticket: malformed, quoting the parser, and the report only says stapled', () => {
    const r = checkStapledTicket(Buffer.from('s8ch'), P, [{label: 'A', hashes: [H1]}], pki.trust)
    assert.equal(r.findings.length, 1)
    assert.equal(r.findings[0]!.id, 'notarization.malformed')
    assert.equal(r.findings[0]!.fix, RESTAPLE)
    assert.match(r.findings[0]!.message, /^B\.app\/Contents\/CodeResources: a stapled notarization ticket that cannot be read \(\S.*\); macOS ignores it and asks Apple online$/)
    assert.equal(r.report.stapled, true)
    assert.equal(r.report.verified, false)
    assert.deepEqual(r.report.cdhashes, [])
    assert.equal(r.report.issuedAt, undefined)
  })
  describe('in a bundle, at Contents/CodeResources', () => {
    let root: string
    let n = 0
    before(async () => {
      root = await mkdtemp(join(tmpdir(), 'esdctl-ticket-'))
    })
    after(() => rm(root, {recursive: true, force: true}))
    const display = (rel: string) => `B.app/Contents/${rel}`
    const slice = (arch: string, cdhashes: string[]): VerifiedSlice => ({report: {arch, flags: [], signer: 'developer-id', entitlements: {}}, cdhashes, intact: true})

    /** A Contents directory whose ticket slot holds `put` (bytes, or a FIFO / folder), or nothing. */
    async function contents(put?: Buffer | 'fifo' | 'folder'): Promise<string> {
      const dir = join(root, `c${n++}`)
      await mkdir(dir)
      const at = join(dir, STAPLED_TICKET_REL)
      if (put === 'fifo') execFileSync('mkfifo', [at])
      else if (put === 'folder') await mkdir(at)
      else if (put) await writeFile(at, put)
      return dir
    }

    it('the ticket is judged against one subject per slice of the main executable, each labelled with its arch', async () => {
      const r = await checkBundleTicket(await contents(ticket), display, 'MacOS/esd', [slice('arm64', [H3, H1]), slice('x86_64', [H3])], pki.trust)
      assert.equal(r.report.stapled, true)
      assert.deepEqual(r.findings.map(f => [f.id, f.path]), [['notarization.not-covered', 'B.app/Contents/CodeResources']])
      assert.match(r.findings[0]!.message, /does not list B\.app\/Contents\/MacOS\/esd \[x86_64\] \(its hashes 3{40};/)
      const ok = await checkBundleTicket(await contents(ticket), display, 'MacOS/esd', [slice('arm64', [H1])], pki.trust)
      assert.deepEqual(ok.findings, [])
      assert.equal(ok.report.verified, true)
    })

    it('a ticket with no signed slice to cover is not covered', async () => {
      assert.deepEqual(await checkBundleTicket(await contents(ticket), display, 'MacOS/esd', [], pki.trust), {
        report: {stapled: true, verified: false, cdhashes: []},
        findings: [{id: 'notarization.not-covered', severity: 'warning', path: 'B.app/Contents/CodeResources', message: 'B.app/Contents/CodeResources: a ticket is stapled but the main executable has no signed slice for it to cover'}],
      })
    })

    it('no file there, or a file that is no ticket: not stapled, no finding', async () => {
      const none = {report: {stapled: false, verified: false, cdhashes: []}, findings: []}
      assert.deepEqual(await checkBundleTicket(await contents(), display, 'MacOS/esd', [slice('arm64', [H1])], pki.trust), none)
      assert.deepEqual(await checkBundleTicket(await contents(Buffer.from('<plist/>')), display, 'MacOS/esd', [slice('arm64', [H1])], pki.trust), none)
    })

    it('a pipe or a folder in the ticket slot is named, never read', async () => {
      for (const [put, what] of [['fifo', 'a named pipe'], ['folder', 'a folder']] as const) {
        const r = await checkBundleTicket(await contents(put), display, 'MacOS/esd', [slice('arm64', [H1])], pki.trust)
        assert.deepEqual(r, {
          report: {stapled: false, verified: false, cdhashes: []},
          findings: [{id: 'notarization.malformed', severity: 'warning', path: 'B.app/Contents/CodeResources', message: `B.app/Contents/CodeResources is ${what}, not a stapled ticket or a file`, fix: 'Remove it, then staple the ticket again (xcrun stapler staple).'}],
        })
      }
    })

    it('a ticket larger than the limit is read only one byte past it, and refused as too large', async () => {
      const big = Buffer.concat([ticket, Buffer.alloc(MAX_TICKET_BYTES)])
      const r = await checkBundleTicket(await contents(big), display, 'MacOS/esd', [slice('arm64', [H1])], pki.trust)
      assert.deepEqual(r.findings.map(f => f.id), ['notarization.malformed'])
      assert.match(r.findings[0]!.message, /cannot be read \(.*\b262145\b.*\)/)
    })
  })
})
