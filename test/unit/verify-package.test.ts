import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import fc from 'fast-check'
import {existsSync} from 'node:fs'
import {cp, mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseCertificate} from '../../src/formats/certificate.js'
import {parseXarHeader, readXarToc} from '../../src/formats/xar.js'
import {renderVerifyText} from '../../src/render/verify-text.js'
import {checkXarRsaSignature} from '../../src/trust/xar-signature.js'
import type {VerifyReport} from '../../src/verify/report.js'
import {resolveVerifyOptions} from '../../src/verify/verify-options.js'
import {verifyPackage} from '../../src/verify/verify-package.js'
import {verifyPath} from '../../src/verify/verify-path.js'
import {REAL_BUNDLES_DIR, realPackage} from '../support/real-shipped.js'
import {createTestPki} from '../support/test-pki.js'
import {assembleXar, resignXar, splitXar} from '../support/xar-writer.js'
import {skipBecause} from '../support/skip.js'
import {ExitCode} from '../../src/exit-codes.js'
import {hasErrors} from '../../src/verify/finding.js'
import {expectFinding} from '../support/expect-finding.js'

const PKG_610 = 'Karabiner-DriverKit-VirtualHIDDevice-6.10.0.pkg'
const PKG_600 = 'Karabiner-DriverKit-VirtualHIDDevice-6.0.0.pkg'
const DAEMON = 'Payload/Library/Application Support/org.pqrs/Karabiner-DriverKit-VirtualHIDDevice/Applications/Karabiner-VirtualHIDDevice-Daemon.app'
const MANAGER = 'Payload/Applications/.Karabiner-VirtualHIDDevice-Manager.app'
/** Fixed so the real Developer ID Installer certificate (valid to 2027-02-01) is judged the same every year. */
const NOW = new Date('2026-06-01T00:00:00Z')

const FAILED = ExitCode.verificationFailed

/** verifyPackage's answer as the report verifyPath would make of it. */
const asReport = (path: string, v: Awaited<ReturnType<typeof verifyPackage>>): VerifyReport => ({ok: !hasErrors(v.findings), path, kind: 'package', findings: v.findings, slices: []})

const ids = (r: {findings: Array<{id: string}>}, prefix = '') => [...new Set(r.findings.map(f => f.id).filter(i => i.startsWith(prefix)))].sort()

describe('esdctl verify on flat installer packages', function () {
  describe('the real Karabiner packages', function () {
    for (const [name, version, timestamp] of [[PKG_610, '6.10.0', '2026-02-09T13:44:10.000Z'], [PKG_600, '6.0.0', '2025-05-25T14:05:41.000Z']] as const) {
      it(`${version}: signed, notarized, stapled; both bundles in the payload verify; no finding at all`, async function () {
        const r = await verifyPath(realPackage(this, name), {now: NOW})
        assert.deepEqual(r.findings, [])
        assert.equal(r.ok, true)
        assert.equal(r.kind, 'package')
        const p = r.package!
        assert.equal(p.format, 'component-package')
        assert.equal(p.identifier, 'org.pqrs.Karabiner-DriverKit-VirtualHIDDevice')
        assert.equal(p.version, version)
        assert.equal(p.installLocation, '/')
        assert.equal(p.signer, 'developer-id-installer')
        assert.equal(p.teamId, 'G43BCU2T37')
        assert.equal(p.signerName, 'Developer ID Installer: Fumihiko Takayama (G43BCU2T37)')
        assert.equal(p.timestamp, timestamp)
        assert.deepEqual(p.scripts, ['Scripts/postinstall', 'Scripts/preinstall'])
        assert.deepEqual(r.items!.map(i => [i.path, i.kind, i.slices.map(s => s.arch)]), [[DAEMON, 'bundle', ['x86_64', 'arm64']], [MANAGER, 'bundle', ['x86_64', 'arm64']]])
        const daemon = r.items![0]!
        assert.equal(daemon.slices[0]!.identifier, 'org.pqrs.Karabiner-VirtualHIDDevice-Daemon')
        assert.equal(daemon.slices[0]!.signer, 'developer-id')
        assert.ok(daemon.slices[0]!.flags.includes('runtime'))
        assert.equal(daemon.profile?.appId, 'G43BCU2T37.org.pqrs.Karabiner-VirtualHIDDevice-Daemon')
        assert.equal(p.notarization.stapled, true)
        assert.equal(p.notarization.verified, true)
        assert.equal(r.notarization, p.notarization)
      })
    }

    it('the checklist names the package, its signer, scripts, each contained item and the ticket', async function () {
      const text = renderVerifyText(await verifyPath(realPackage(this, PKG_610), {now: NOW}))
      assert.match(text, /package: org\.pqrs\.Karabiner-DriverKit-VirtualHIDDevice 6\.10\.0 \(component-package\), installs to \//)
      assert.match(text, /signed: developer-id-installer — Developer ID Installer: Fumihiko Takayama \(G43BCU2T37\), secure timestamp 2026-02-09/)
      assert.match(text, /scripts: Scripts\/postinstall, Scripts\/preinstall/)
      assert.match(text, /contains Payload\/Applications\/\.Karabiner-VirtualHIDDevice-Manager\.app \(bundle\): x86_64, arm64 — ok/)
      assert.match(text, /notarization: stapled ticket verified offline, issued 2026-02-09, lists 7 hashes/)
      assert.match(text, /✔ Installer package/)
    })

    it('reads exactly what the signatures cover: the RSA DigestInfo is the stored TOC checksum, the SHA-1 of the compressed TOC', async function () {
      const bytes = await readFile(realPackage(this, PKG_610))
      const header = parseXarHeader(bytes.subarray(0, 28), bytes.length, 'pkg')
      const toc = readXarToc(header, bytes.subarray(28, header.heapStart), 'pkg')
      assert.deepEqual([toc.checksum?.style, toc.checksum?.offset, toc.checksum?.size], ['sha1', 0, 20])
      assert.deepEqual([toc.signature?.style, toc.signature?.offset, toc.signature?.size, toc.signature?.certificates.length], ['RSA', 20, 256, 3])
      assert.deepEqual([toc.xSignature?.style, toc.xSignature?.offset], ['CMS', 276])
      const checksum = bytes.subarray(header.heapStart, header.heapStart + 20)
      const signature = bytes.subarray(header.heapStart + 20, header.heapStart + 276)
      const leaf = parseCertificate(toc.signature!.certificates[0]!)
      assert.equal(checkXarRsaSignature(leaf, 'sha1', checksum, signature).valid, true)
      const other = Buffer.from(checksum)
      other[19] = other[19]! ^ 1
      assert.equal(checkXarRsaSignature(leaf, 'sha1', other, signature).valid, false)
    })
  })

  describe('tampered copies (made in a temporary folder)', function () {
    let dir: string
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'esdctl-pkg-'))
    })
    after(async () => rm(dir, {recursive: true, force: true}))

    async function verifyBytes(bytes: Buffer, name: string, trust?: Awaited<ReturnType<typeof createTestPki>>['trust']): Promise<VerifyReport> {
      const path = join(dir, name)
      await writeFile(path, bytes)
      return verifyPath(path, {now: NOW, ...(trust ? {trust} : {})})
    }

    async function original(ctx: Mocha.Context): Promise<{bytes: Buffer; heapStart: number}> {
      const bytes = Buffer.from(await readFile(realPackage(ctx, PKG_610)))
      return {bytes, heapStart: 28 + Number(bytes.readBigUInt64BE(8))}
    }

    it('a byte in the payload: the member\'s archived and extracted checksums no longer match', async function () {
      const {bytes, heapStart} = await original(this)
      const at = heapStart + 12580 + 1_000_000 // inside Payload (heap offset 12580, 2 MB)
      bytes[at] = bytes[at]! ^ 0xff
      const r = await verifyBytes(bytes, 'payload-byte.pkg')
      assert.equal(r.ok, false)
      expectFinding(r, {id: 'package.checksum-mismatch', severity: 'error', exitCode: FAILED})
      assert.match(r.findings.find(f => f.id === 'package.checksum-mismatch')!.path, /:Payload$/)
    })

    it('a byte in the compressed TOC: the package is malformed (the TOC no longer inflates)', async function () {
      const {bytes} = await original(this)
      bytes[28 + 2000] = bytes[28 + 2000]! ^ 0xff
      const r = await verifyBytes(bytes, 'toc-byte.pkg')
      assert.deepEqual(ids(r), ['package.malformed'])
      expectFinding(r, {id: 'package.malformed', severity: 'error', exitCode: FAILED})
    })

    it('a changed TOC, recompressed: the TOC checksum no longer matches', async function () {
      const {bytes} = await original(this)
      const parts = splitXar(bytes)
      parts.tocXml = parts.tocXml.replace('<user>tekezo</user>', '<user>mallory</user>')
      const r = await verifyBytes(assembleXar(parts), 'toc-edit.pkg')
      expectFinding(r, {id: 'package.toc-checksum-mismatch', severity: 'error', exitCode: FAILED})
      assert.equal(r.ok, false)
    })

    it('a byte in the RSA signature, then in the CMS signature: signature-invalid', async function () {
      const {bytes, heapStart} = await original(this)
      const rsa = Buffer.from(bytes)
      rsa[heapStart + 100] = rsa[heapStart + 100]! ^ 0x01
      assert.deepEqual(ids(await verifyBytes(rsa, 'rsa-byte.pkg'), 'package.'), ['package.signature-invalid'])
      const cms = Buffer.from(bytes)
      // The signed message-digest attribute: OID 1.2.840.113549.1.9.4, then SET { OCTET STRING (20) }.
      const attr = cms.indexOf(Buffer.from('06092a864886f70d010904', 'hex'), heapStart + 276)
      assert.ok(attr > 0 && attr < heapStart + 276 + 9216)
      cms[attr + 11 + 4 + 3] = cms[attr + 11 + 4 + 3]! ^ 0x01
      const r = await verifyBytes(cms, 'cms-byte.pkg')
      assert.deepEqual(ids(r, 'package.'), ['package.signature-invalid'])
      expectFinding(r, {id: 'package.signature-invalid', severity: 'error', exitCode: FAILED})
    })

    it('a byte in the secure timestamp\'s own signature: package.timestamp-invalid, the signatures judged now and still valid', async function () {
      const {bytes, heapStart} = await original(this)
      const toc = readXarToc(parseXarHeader(bytes.subarray(0, 28), bytes.length, 'pkg'), bytes.subarray(28, heapStart), 'pkg')
      const x = toc.xSignature!
      const cms = bytes.subarray(heapStart + x.offset, heapStart + x.offset + x.size)
      assert.ok(cms.indexOf(Buffer.from('060b2a864886f70d010910020e', 'hex')) > 0, 'the CMS carries a timestamp token (id-aa-timeStampToken)')
      // The token closes the CMS, and the TSA's signature value closes the token: step back over end-of-contents zeros.
      let end = cms.length
      while (cms[end - 1] === 0) end--
      const damaged = Buffer.from(bytes)
      damaged[heapStart + x.offset + end - 8] = damaged[heapStart + x.offset + end - 8]! ^ 0x01
      const r = await verifyBytes(damaged, 'timestamp-byte.pkg')
      assert.deepEqual(ids(r, 'package.'), ['package.timestamp-invalid'])
      expectFinding(r, {id: 'package.timestamp-invalid', severity: 'warning', exitCode: ExitCode.ok})
      assert.match(r.findings.find(f => f.id === 'package.timestamp-invalid')!.message, /timestamp's own signature is invalid/)
      assert.equal(r.package?.timestamp, undefined)
      assert.equal(r.ok, true, 'a warning: the signatures still verify at the current time')
    })

    it('a truncated file: findings, never an exception', async function () {
      const {bytes} = await original(this)
      for (const keep of [10, 27, 28 + 100, 28 + 4207 + 10, 1_000_000]) {
        const r = await verifyBytes(bytes.subarray(0, keep), `truncated-${keep}.pkg`)
        assert.equal(r.ok, false, `kept ${keep}`)
        assert.ok(r.findings.some(f => f.id.startsWith('package.') || f.id === 'input.unknown-kind'), `kept ${keep}: ${ids(r).join()}`)
      }
      // Cut inside the stapled ticket: the archive is whole, the ticket is not (macOS would ask Apple online).
      const cut = await verifyBytes(bytes.subarray(0, bytes.length - 5), 'truncated-ticket.pkg')
      assert.deepEqual(ids(cut), ['notarization.malformed'])
      assert.deepEqual(cut.notarization, {stapled: true, verified: false, cdhashes: []})
    })

    it('a TOC re-signed with a chain that is not Apple\'s: untrusted; the same package is fine for a store that trusts that root', async function () {
      const {bytes} = await original(this)
      const pki = await createTestPki()
      const forged = resignXar(splitXar(bytes), await pki.developerIdInstaller('FORGED0001'))
      const r = await verifyBytes(forged, 'resigned.pkg')
      assert.deepEqual(ids(r, 'package.'), ['package.untrusted'])
      expectFinding(r, {id: 'package.untrusted', severity: 'error', exitCode: FAILED})
      assert.equal(r.package?.teamId, 'FORGED0001')
      assert.equal(r.package?.notarization.stapled, false)
      const trusted = await verifyBytes(forged, 'resigned.pkg', pki.trust)
      assert.deepEqual(ids(trusted, 'package.'), [])
      assert.equal(trusted.package?.signer, 'developer-id-installer')
    })

    it('re-signed with a Developer ID Application identity: the wrong kind of signer', async function () {
      const {bytes} = await original(this)
      const pki = await createTestPki()
      const app = await pki.developerId('FORGED0001')
      // An ECDSA Application leaf cannot make an RSA xar signature: both the kind and the signature are refused.
      const r = await verifyBytes(resignXar(splitXar(bytes), {...app, privateKey: (await pki.developerIdInstaller('FORGED0001')).privateKey}), 'app-signed.pkg', pki.trust)
      expectFinding(r, {id: 'package.signer-kind', severity: 'error', exitCode: FAILED})
    })

    it('the signatures taken out of the TOC (its checksum made right again): package.unsigned', async function () {
      const {bytes} = await original(this)
      const parts = splitXar(bytes)
      parts.tocXml = parts.tocXml.replace(/<signature [\s\S]*?<\/signature>\s*/, '').replace(/<x-signature[\s\S]*?<\/x-signature>\s*/, '')
      parts.stapled = Buffer.alloc(0)
      const edited = assembleXar(parts)
      createHash('sha1').update(edited.subarray(28, 28 + Number(edited.readBigUInt64BE(8)))).digest().copy(edited, 28 + Number(edited.readBigUInt64BE(8)))
      const r = await verifyBytes(edited, 'unsigned.pkg')
      expectFinding(r, {id: 'package.unsigned', severity: 'error', exitCode: FAILED})
      assert.deepEqual(ids(r, 'package.'), ['package.unsigned'])
    })

    it("the RSA signature replaced by another signer's, Apple's CMS kept: package.signatures-disagree", async function () {
      const {bytes} = await original(this)
      const pki = await createTestPki()
      const r = await verifyBytes(resignXar(splitXar(bytes), await pki.developerIdInstaller('FORGED0001'), {keepCms: true}), 'two-signers.pkg', pki.trust)
      const f = expectFinding(r, {id: 'package.signatures-disagree', severity: 'error', exitCode: FAILED})
      assert.match(f.message, /RSA signature is by "Developer ID Installer: esdctl Test Developer \(FORGED0001\)" but the CMS signature by "Developer ID Installer: Fumihiko Takayama \(G43BCU2T37\)"/)
    })

    it('judged after its certificate expired, with no secure timestamp: package.certificate-expired', async function () {
      const {bytes} = await original(this)
      const pki = await createTestPki()
      const path = join(dir, 'expired.pkg')
      await writeFile(path, resignXar(splitXar(bytes), await pki.developerIdInstaller('FORGED0001')))
      // The test PKI's leaves are valid until 2049-12-31.
      const r = await verifyPath(path, {trust: pki.trust, now: new Date('2050-06-01T00:00:00Z')})
      expectFinding(r, {id: 'package.certificate-expired', severity: 'error', exitCode: FAILED})
      // Judged with Apple's roots, the same expired signer is first of all not Apple's.
      const apple = await verifyPath(path, {now: new Date('2050-06-01T00:00:00Z')})
      assert.deepEqual(ids(apple, 'package.').filter(id => id.endsWith('expired') || id.endsWith('untrusted')), ['package.untrusted'])
    })

    it('a Payload that is no archive (its checksums made to match, re-signed): package.payload-unreadable', async function () {
      const {bytes, heapStart} = await original(this)
      const parts = splitXar(bytes)
      const payload = {offset: 12580, length: 2023932}
      const old = createHash('sha1').update(bytes.subarray(heapStart + payload.offset, heapStart + payload.offset + payload.length)).digest('hex')
      const junk = Buffer.alloc(payload.length, 0x5a)
      junk.copy(parts.heap, payload.offset)
      parts.tocXml = parts.tocXml.replaceAll(old, createHash('sha1').update(junk).digest('hex'))
      const pki = await createTestPki()
      const r = await verifyBytes(resignXar(parts, await pki.developerIdInstaller('FORGED0001')), 'junk-payload.pkg', pki.trust)
      expectFinding(r, {id: 'package.payload-unreadable', severity: 'error', exitCode: FAILED})
      assert.deepEqual(ids(r, 'package.'), ['package.payload-unreadable'])
    })

    it('a product archive (Distribution + the real component in a folder), re-signed: components, product id, contained code', async function () {
      const {bytes} = await original(this)
      const parts = splitXar(bytes)
      const distribution = Buffer.from('<?xml version="1.0" encoding="utf-8"?>\n<installer-gui-script minSpecVersion="2"><title>Karabiner</title><product id="org.pqrs.product" version="6.10.0"/><pkg-ref id="org.pqrs.Karabiner-DriverKit-VirtualHIDDevice" version="6.10.0">#Karabiner.pkg</pkg-ref></installer-gui-script>\n')
      const sha1 = createHash('sha1').update(distribution).digest('hex')
      const first = parts.tocXml.indexOf('<file ')
      const last = parts.tocXml.lastIndexOf('</file>') + '</file>'.length
      parts.tocXml = `${parts.tocXml.slice(0, first)}<file id="100"><name>Karabiner.pkg</name><type>directory</type>${parts.tocXml.slice(first, last)}</file>` +
        `<file id="101"><name>Distribution</name><type>file</type><data><offset>${parts.heap.length}</offset><length>${distribution.length}</length><size>${distribution.length}</size>` +
        `<encoding style="application/octet-stream"/><archived-checksum style="sha1">${sha1}</archived-checksum><extracted-checksum style="sha1">${sha1}</extracted-checksum></data></file>${parts.tocXml.slice(last)}`
      parts.heap = Buffer.concat([parts.heap, distribution])
      const pki = await createTestPki()
      const r = await verifyBytes(resignXar(parts, await pki.developerIdInstaller('FORGED0001')), 'product.pkg', pki.trust)
      assert.deepEqual(ids(r, 'package.'), [])
      const p = r.package!
      assert.equal(p.format, 'product-archive')
      assert.equal(p.identifier, 'org.pqrs.product')
      assert.deepEqual(p.components.map(c => [c.path, c.identifier, c.version, c.installLocation]), [['Karabiner.pkg', 'org.pqrs.Karabiner-DriverKit-VirtualHIDDevice', '6.10.0', '/']])
      assert.deepEqual(p.scripts, ['Karabiner.pkg/Scripts/postinstall', 'Karabiner.pkg/Scripts/preinstall'])
      assert.deepEqual(r.items!.map(i => i.path), [`Karabiner.pkg/${DAEMON}`, `Karabiner.pkg/${MANAGER}`])
    })

    it('random damage to the real package\'s header, TOC, signatures and members never throws or hangs', async function () {
      const {bytes} = await original(this)
      const path = join(dir, 'fuzzed.pkg')
      // The items themselves are judged by the bundle verifier's own robustness tests; here only the package's reading matters.
      const noItems = async (p: string): Promise<VerifyReport> => ({ok: true, path: p, kind: 'bundle', findings: [], slices: []})
      await fc.assert(fc.asyncProperty(fc.array(fc.tuple(fc.nat(40_000), fc.integer({min: 1, max: 255})), {minLength: 1, maxLength: 4}), async flips => {
        const copy = Buffer.from(bytes)
        for (const [at, x] of flips) copy[at] = copy[at]! ^ x
        await writeFile(path, copy)
        const r = await verifyPackage(path, resolveVerifyOptions({now: NOW}), noItems)
        assert.ok(Array.isArray(r.findings))
      }), {numRuns: 25})
    })

    it('a payload that inflates past the bound is package.too-large, checked without inflating the rest', async function () {
      const path = realPackage(this, PKG_610)
      const r = await verifyPackage(path, resolveVerifyOptions({now: NOW}), p => verifyPath(p, {now: NOW}), {memberBytes: 64 * 1024 * 1024, payloadBytes: 1024 * 1024, itemBytes: 1024 * 1024 * 1024})
      assert.deepEqual(ids(r, 'package.'), ['package.too-large'])
      expectFinding(asReport(path, r), {id: 'package.too-large', severity: 'error', exitCode: FAILED})
      assert.match(r.findings.find(f => f.id === 'package.too-large')!.message, /Payload: inflates past 1048576 bytes/)
    })

    it('an item larger than the staging bound is reported unchecked, not staged in full', async function () {
      const path = realPackage(this, PKG_610)
      const r = await verifyPackage(path, resolveVerifyOptions({now: NOW}), p => verifyPath(p, {now: NOW}), {memberBytes: 64 * 1024 * 1024, payloadBytes: 64 * 1024 * 1024, itemBytes: 256 * 1024})
      assert.deepEqual(ids(r, 'package.'), ['package.item-unchecked'])
      expectFinding(asReport(path, r), {id: 'package.item-unchecked', severity: 'warning', exitCode: ExitCode.ok})
      assert.equal(r.items.length, 2)
    })
  })
})

describe('containers esdctl does not open (zip and tar.gz: verify-archive.test.ts)', function () {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'esdctl-containers-'))
  })
  after(async () => rm(dir, {recursive: true, force: true}))

  for (const [name, bytes, said, how] of [
    ['image.dmg', Buffer.concat([Buffer.alloc(4096, 7), Buffer.from('koly'), Buffer.alloc(508)]), /a disk image \(\.dmg\)/, /hdiutil attach/],
  ] as const) {
    it(`${name}: input.unknown-kind (exit 4) saying what it is and how to check its contents`, async () => {
      const path = join(dir, name)
      await writeFile(path, bytes)
      const r = await verifyPath(path)
      assert.deepEqual(r.findings.map(f => f.id), ['input.unknown-kind'])
      assert.match(r.findings[0]!.message, said)
      assert.match(r.findings[0]!.fix!, how)
    })
  }
})

describe('a plain folder holding bundles and Mach-O files', function () {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'esdctl-folder-'))
  })
  after(async () => rm(dir, {recursive: true, force: true}))

  it('verifies each item it holds in one report: the real Opera bundle, a bare executable, not the text beside them', async function () {
    const opera = join(REAL_BUNDLES_DIR, 'Opera Beta Installer.app')
    if (!existsSync(opera)) skipBecause(this, 'fixtures-absent')
    const folder = join(dir, 'build')
    await cp(opera, join(folder, 'apps', 'Opera Beta Installer.app'), {recursive: true})
    await cp(join(opera, 'Contents', 'MacOS', 'package_copy'), join(folder, 'bin', 'package_copy'))
    await writeFile(join(folder, 'README.txt'), 'not code')
    const r = await verifyPath(folder)
    assert.equal(r.kind, 'folder')
    assert.deepEqual(r.items!.map(i => [i.path, i.kind, i.slices.map(s => s.identifier)]), [
      ['apps/Opera Beta Installer.app', 'bundle', ['com.operasoftware.Installer.OperaNext']],
      ['bin/package_copy', 'macho', ['com.operasoftware.package_copy']],
    ])
    assert.equal(r.items![0]!.notarization?.verified, true)
    assert.equal(r.ok, true)
    assert.match(renderVerifyText(r), /contains apps\/Opera Beta Installer\.app \(bundle\): x86_64 — ok/)
  })

  it('a folder with no code in it: input.unknown-kind', async () => {
    await mkdir(join(dir, 'empty'), {recursive: true})
    await writeFile(join(dir, 'empty', 'notes.txt'), 'x')
    const r = await verifyPath(join(dir, 'empty'))
    assert.deepEqual(r.findings.map(f => f.id), ['input.unknown-kind'])
  })
})
