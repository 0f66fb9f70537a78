import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {existsSync, readdirSync} from 'node:fs'
import {lstat, mkdtemp, readdir, readFile, readlink, rename, rm, truncate, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {deflateSync, gzipSync} from 'node:zlib'
import {Header} from 'tar'
import yazl from 'yazl'
import type {CpioEntry} from '../../src/formats/cpio-odc.js'
import {FormatError} from '../../src/formats/format-error.js'
import {parseXarHeader, readXarToc} from '../../src/formats/xar.js'
import type {XarToc} from '../../src/formats/xar-toc.js'
import type {VerifyReport} from '../../src/verify/report.js'
import {bundleRootOf, scanPayload, type PayloadScanContext} from '../../src/verify/package-payload.js'
import {checkPackageSignature, type PackageSignatureInput} from '../../src/verify/package-signature.js'
import {APPLE_ROOT_ANCHORS, TrustStore} from '../../src/trust/apple-roots.js'
import {resolveVerifyOptions} from '../../src/verify/verify-options.js'
import {verifyArchive} from '../../src/verify/verify-archive.js'
import {DEFAULT_PACKAGE_LIMITS, verifyPackage} from '../../src/verify/verify-package.js'
import {DEFAULT_ARCHIVE_LIMITS} from '../../src/payload/archive-limits.js'
import {realPackage} from '../support/real-shipped.js'
import {createTestPki, signPackageChecksum, type TestPki} from '../support/test-pki.js'
import {assembleXar, resignXar, splitXar} from '../support/xar-writer.js'

// Quick, direct tests of the package checks (the mutation-testing list of area verify-package runs
// this file first): the real Karabiner package read once, its parsed TOC handed to the signature
// check with one thing changed, and copies written to a temporary folder for verifyPackage with a
// verifier of contained items that only records what it was given.

const PKG = 'Karabiner-DriverKit-VirtualHIDDevice-6.10.0.pkg'
const NOW = new Date('2026-06-01T00:00:00Z')
const SIGNER = 'Developer ID Installer: Fumihiko Takayama (G43BCU2T37)'
const TIMESTAMP = '2026-02-09T13:44:10.000Z'

interface Real {
  bytes: Buffer
  heapStart: number
  toc: XarToc
  compressedToc: Buffer
}

const ids = (r: {findings: Array<{id: string}>}) => r.findings.map(f => f.id)

describe('package checks, directly (verify-package mutants)', function () {
  let real: Real
  let pki: TestPki
  let dir: string
  before(async function () {
    const bytes = await readFile(realPackage(this, PKG))
    const header = parseXarHeader(bytes.subarray(0, 28), bytes.length, 'pkg')
    const compressedToc = bytes.subarray(28, header.heapStart)
    real = {bytes, heapStart: header.heapStart, toc: readXarToc(header, compressedToc, 'pkg'), compressedToc}
    pki = await createTestPki()
    dir = await mkdtemp(join(tmpdir(), 'esdctl-pkg-mutants-'))
  })
  after(async () => {
    if (dir) await rm(dir, {recursive: true, force: true})
  })

  /** The signature check's input for the real package, with `change` applied. */
  function input(change: Partial<PackageSignatureInput> = {}): PackageSignatureInput {
    return {
      path: 'k.pkg',
      toc: real.toc,
      compressedToc: real.compressedToc,
      checksumAlgorithm: 'sha1',
      readHeap: async (offset, size) => real.bytes.subarray(real.heapStart + offset, real.heapStart + offset + size),
      ...change,
    }
  }
  const opts = (now = NOW, trust?: TestPki['trust']) => resolveVerifyOptions({now, ...(trust ? {trust} : {})})

  describe('checkPackageSignature', function () {
    it('the real package: no finding, its Developer ID Installer leaf, the secure timestamp and the stored checksum', async () => {
      const s = await checkPackageSignature(input(), opts())
      assert.deepEqual(s.findings, [])
      assert.equal(s.signer, 'developer-id-installer')
      assert.equal(s.leaf?.commonName, SIGNER)
      assert.equal(s.timestamp?.toISOString(), TIMESTAMP)
      assert.equal(s.checksum?.toString('hex'), createHash('sha1').update(real.compressedToc).digest('hex'))
    })

    it('judged in 2050, after the leaf expired: the secure timestamp still vouches for both chains', async () => {
      const s = await checkPackageSignature(input(), opts(new Date('2050-06-01T00:00:00Z')))
      assert.deepEqual(ids(s), [])
    })

    it('no TOC checksum, or the checksum algorithm none: unsigned, nothing else read', async () => {
      let reads = 0
      const readHeap = async () => {
        reads++
        return Buffer.alloc(0)
      }
      const {checksum: _, ...noChecksum} = real.toc
      for (const s of [
        await checkPackageSignature(input({toc: noChecksum, readHeap}), opts()),
        await checkPackageSignature(input({checksumAlgorithm: 'none', readHeap}), opts()),
      ]) {
        assert.deepEqual(ids(s), ['package.unsigned'])
        assert.equal(s.findings[0]!.message, 'k.pkg: the archive has no TOC checksum, so nothing can sign it')
        assert.match(s.findings[0]!.fix!, /productsign --sign "Developer ID Installer/)
        assert.equal(s.signer, 'unsigned')
        assert.equal(s.checksum, undefined)
      }
      assert.equal(reads, 0)
    })

    it('the checksum region unreadable: package.malformed with the reader\'s message; other errors propagate', async () => {
      const s = await checkPackageSignature(input({readHeap: async () => {
        throw new FormatError('xar.truncated', 'k.pkg: the TOC checksum lies past the end')
      }}), opts())
      assert.deepEqual(s.findings.map(f => [f.id, f.message]), [['package.malformed', 'k.pkg: the TOC checksum lies past the end']])
      assert.equal(s.checksum, undefined)
      await assert.rejects(checkPackageSignature(input({readHeap: async () => {
        throw new RangeError('disk')
      }}), opts()), /disk/)
    })

    it('a TOC that does not match its stored checksum: both digests in the message, the signatures still judged', async () => {
      const other = Buffer.from(real.compressedToc)
      other[5] = other[5]! ^ 1
      const s = await checkPackageSignature(input({compressedToc: other}), opts())
      const computed = createHash('sha1').update(other).digest('hex')
      const stored = createHash('sha1').update(real.compressedToc).digest('hex')
      assert.deepEqual(ids(s), ['package.toc-checksum-mismatch'])
      assert.equal(s.findings[0]!.message, `k.pkg: the table of contents does not match its sha1 checksum (stored ${stored}, computed ${computed}); the package was altered after it was built`)
      assert.equal(s.checksum?.toString('hex'), stored)
      assert.equal(s.signer, 'developer-id-installer')
    })

    it('no signature at all: unsigned, saying Gatekeeper refuses it', async () => {
      const {signature: _a, xSignature: _b, ...bare} = real.toc
      const s = await checkPackageSignature(input({toc: bare}), opts())
      assert.deepEqual(ids(s), ['package.unsigned'])
      assert.match(s.findings[0]!.message, /^k\.pkg: the package is not signed; Gatekeeper refuses/)
      assert.equal(s.signer, 'unsigned')
      assert.equal(s.leaf, undefined)
    })

    it('only the CMS signature: its leaf is the signer; only the RSA signature: the same', async () => {
      const {signature: _a, ...cmsOnly} = real.toc
      const c = await checkPackageSignature(input({toc: cmsOnly}), opts())
      assert.deepEqual(ids(c), [])
      assert.equal(c.leaf?.commonName, SIGNER)
      assert.equal(c.signer, 'developer-id-installer')
      assert.equal(c.timestamp?.toISOString(), TIMESTAMP)
      const {xSignature: _b, ...rsaOnly} = real.toc
      const r = await checkPackageSignature(input({toc: rsaOnly}), opts())
      assert.deepEqual(ids(r), [])
      assert.equal(r.leaf?.commonName, SIGNER)
      assert.equal(r.timestamp, undefined)
    })

    it('RSA only, judged after the leaf expired (no timestamp): package.certificate-expired naming the date', async () => {
      const {xSignature: _b, ...rsaOnly} = real.toc
      const s = await checkPackageSignature(input({toc: rsaOnly}), opts(new Date('2050-06-01T00:00:00Z')))
      assert.deepEqual(ids(s), ['package.certificate-expired'])
      assert.match(s.findings[0]!.message, /^k\.pkg: the RSA signature's certificate "Developer ID Installer: Fumihiko Takayama \(G43BCU2T37\)" expired on 2027-\d\d-\d\d and no valid secure timestamp/)
    })

    it('a <signature> of another style: signature-invalid naming the style', async () => {
      const s = await checkPackageSignature(input({toc: {...real.toc, signature: {...real.toc.signature!, style: 'DSA'}}}), opts())
      assert.deepEqual(ids(s), ['package.signature-invalid'])
      assert.equal(s.findings[0]!.message, 'k.pkg: the <signature> style is "DSA", not RSA')
    })

    it('an RSA signature with no certificate: signature-invalid; the CMS leaf is then the signer', async () => {
      const s = await checkPackageSignature(input({toc: {...real.toc, signature: {...real.toc.signature!, certificates: []}}}), opts())
      assert.deepEqual(ids(s), ['package.signature-invalid'])
      assert.equal(s.findings[0]!.message, 'k.pkg: the RSA <signature> carries no certificate in KeyInfo')
      assert.equal(s.leaf?.commonName, SIGNER)
    })

    it('an RSA signature without certificates and no CMS: no signer at all, unsigned', async () => {
      const s = await checkPackageSignature(input({toc: {...real.toc, xSignature: undefined, signature: {...real.toc.signature!, certificates: []}}}), opts())
      assert.deepEqual(ids(s), ['package.signature-invalid'])
      assert.equal(s.signer, 'unsigned')
      assert.equal(s.leaf, undefined)
    })

    it('a fault that is no format error (a broken trust store, a certificate that is not bytes) propagates rather than becoming a finding', async () => {
      await assert.rejects(checkPackageSignature(input(), {...opts(), trust: {} as never}), TypeError)
      const {signature: _a, ...cmsOnly} = real.toc
      await assert.rejects(checkPackageSignature(input({toc: cmsOnly}), {...opts(), trust: {} as never}), TypeError)
      await assert.rejects(checkPackageSignature(input({toc: {...real.toc, signature: {...real.toc.signature!, certificates: [undefined as never]}}}), opts()), TypeError)
    })

    it('an unreadable certificate in KeyInfo: signature-invalid saying so; the rest still read', async () => {
      const certs = real.toc.signature!.certificates
      const s = await checkPackageSignature(input({toc: {...real.toc, signature: {...real.toc.signature!, certificates: [...certs, Buffer.from('3003020101', 'hex')]}}}), opts())
      assert.deepEqual(ids(s), ['package.signature-invalid'])
      assert.match(s.findings[0]!.message, /^k\.pkg: a certificate in the signature's KeyInfo cannot be read \(/)
      assert.equal(s.leaf?.commonName, SIGNER)
    })

    it('the RSA leaf is the first certificate and the rest its chain', async () => {
      const [leaf, ...chain] = real.toc.signature!.certificates
      const reordered = await checkPackageSignature(input({toc: {...real.toc, signature: {...real.toc.signature!, certificates: [...chain, leaf!]}}}), opts())
      assert.ok(ids(reordered).includes('package.signature-invalid'))
      assert.ok(ids(reordered).includes('package.signatures-disagree'))
      const alone = await checkPackageSignature(input({toc: {...real.toc, signature: {...real.toc.signature!, certificates: [leaf!]}}}), opts())
      assert.deepEqual(ids(alone), ['package.untrusted'])
      assert.match(alone.findings[0]!.message, /^k\.pkg: the RSA signature does not chain to a pinned Apple root \(.+\); signer "Developer ID Installer: Fumihiko Takayama \(G43BCU2T37\)"$/)
    })

    it('a region of a signature unreadable: package.malformed with the reader\'s message', async () => {
      for (const [at, what] of [[real.toc.signature!.offset, 'RSA'], [real.toc.xSignature!.offset, 'CMS']] as const) {
        const s = await checkPackageSignature(input({readHeap: async (offset, size) => {
          if (offset === at) throw new FormatError('xar.truncated', `k.pkg: the ${what} region is cut`)
          return real.bytes.subarray(real.heapStart + offset, real.heapStart + offset + size)
        }}), opts())
        assert.deepEqual(s.findings.map(f => [f.id, f.message]), [['package.malformed', `k.pkg: the ${what} region is cut`]])
        assert.equal(s.signer, 'developer-id-installer')
      }
      await assert.rejects(checkPackageSignature(input({readHeap: async (offset, size) => {
        if (offset === real.toc.xSignature!.offset) throw new RangeError('disk')
        return real.bytes.subarray(real.heapStart + offset, real.heapStart + offset + size)
      }}), opts()), /disk/)
    })

    it('the RSA signature, then the CMS signature, over another checksum: each named as not verifying', async () => {
      const flip = (region: {offset: number}, delta: number) => async (offset: number, size: number) => {
        const b = Buffer.from(real.bytes.subarray(real.heapStart + offset, real.heapStart + offset + size))
        if (offset === region.offset) b[delta] = b[delta]! ^ 1
        return b
      }
      const rsa = await checkPackageSignature(input({readHeap: flip(real.toc.signature!, 100)}), opts())
      assert.deepEqual(ids(rsa), ['package.signature-invalid'])
      assert.match(rsa.findings[0]!.message, /^k\.pkg: the RSA signature does not verify over the TOC checksum \(.+\)$/)
      const xs = real.toc.xSignature!
      const der = real.bytes.subarray(real.heapStart + xs.offset, real.heapStart + xs.offset + xs.size)
      const attr = der.indexOf(Buffer.from('06092a864886f70d010904', 'hex'))
      const bad = await checkPackageSignature(input({readHeap: flip(xs, attr + 11 + 4 + 3)}), opts())
      assert.deepEqual(ids(bad), ['package.signature-invalid'])
      assert.equal(bad.findings[0]!.message, 'k.pkg: the CMS signature does not verify over the TOC checksum (the message digest does not match the sha1 of the content)')
    })

    it('a CMS region that is no CMS: signature-invalid, cannot be decoded', async () => {
      const xs = real.toc.xSignature!
      const s = await checkPackageSignature(input({readHeap: async (offset, size) => offset === xs.offset ? Buffer.from('not a cms') : real.bytes.subarray(real.heapStart + offset, real.heapStart + offset + size)}), opts())
      assert.deepEqual(ids(s), ['package.signature-invalid'])
      assert.match(s.findings[0]!.message, /^k\.pkg: the CMS signature cannot be decoded \(/)
      assert.equal(s.leaf?.commonName, SIGNER)
    })

    it('judged against a store without Apple\'s roots: both signatures untrusted, each named', async () => {
      const s = await checkPackageSignature(input(), opts(NOW, pki.trust))
      // Apple's timestamp authority is not in that store either.
      assert.deepEqual(ids(s), ['package.timestamp-invalid', 'package.untrusted', 'package.untrusted'])
      const root = 'the chain ends at the self-signed "Apple Root CA", which is not a trusted root'
      assert.equal(s.findings[0]!.message, `k.pkg: the CMS signature's secure timestamp does not verify (the timestamp authority is not trusted: ${root}); the package's signatures are judged at the current time instead`)
      assert.equal(s.timestamp, undefined)
      s.findings.shift()
      assert.equal(s.findings[0]!.message, `k.pkg: the CMS signature does not chain to a pinned Apple root (${root}); signer "${SIGNER}"`)
      assert.match(s.findings[1]!.message, /^k\.pkg: the RSA signature does not chain to a pinned Apple root/)
      assert.match(s.findings[1]!.fix!, /productsign/)
    })

    it('the RSA signature by a test identity, Apple\'s CMS kept: signatures-disagree naming both signers', async () => {
      const resigned = resignXar(splitXar(real.bytes), await pki.developerIdInstaller('FORGED0001'), {keepCms: true})
      const header = parseXarHeader(resigned.subarray(0, 28), resigned.length, 'r')
      const compressedToc = resigned.subarray(28, header.heapStart)
      const s = await checkPackageSignature({
        path: 'r.pkg', toc: readXarToc(header, compressedToc, 'r'), compressedToc, checksumAlgorithm: 'sha1',
        readHeap: async (offset, size) => resigned.subarray(header.heapStart + offset, header.heapStart + offset + size),
      }, opts(NOW, pki.trust))
      assert.ok(ids(s).includes('package.signatures-disagree'), ids(s).join())
      assert.equal(s.findings.find(f => f.id === 'package.signatures-disagree')!.message, 'r.pkg: the RSA signature is by "Developer ID Installer: esdctl Test Developer (FORGED0001)" but the CMS signature by "Developer ID Installer: Fumihiko Takayama (G43BCU2T37)"')
      assert.equal(s.leaf?.teamId, 'FORGED0001', 'the RSA leaf is the one reported')
    })

    it('signed by a Developer ID Application or an Apple Development leaf: signer-kind other, named', async () => {
      for (const identity of [await pki.developerId('FORGED0001'), await pki.appleDevelopment('FORGED0001')]) {
        const s = await checkPackageSignature(input({toc: {...real.toc, xSignature: undefined, signature: {...real.toc.signature!, certificates: [identity.certDer, ...identity.chainDer]}}}), opts(NOW, pki.trust))
        assert.equal(s.signer, 'other')
        const f = s.findings.find(x => x.id === 'package.signer-kind')
        assert.equal(f?.message, `k.pkg: signed by "${identity.info.commonName}", which is not a Developer ID Installer certificate; Gatekeeper accepts only that for packages shipped outside the Mac App Store`)
      }
    })

    it('signed by a Mac App Store installer certificate: signer mac-installer-distribution, refused for outside the store', async () => {
      const identity = await pki.macInstallerDistribution('FORGED0001')
      const s = await checkPackageSignature(input({toc: {...real.toc, xSignature: undefined, signature: {...real.toc.signature!, certificates: [identity.certDer, ...identity.chainDer]}}}), opts(NOW, pki.trust))
      assert.equal(s.signer, 'mac-installer-distribution')
      assert.ok(ids(s).includes('package.signer-kind'), ids(s).join())
    })

    it('a CMS without its timestamp token (unsigned attributes, outside what is signed): valid, no timestamp; in 2050 both certificates expired', async () => {
      const xs = real.toc.xSignature!
      const der = Buffer.from(real.bytes.subarray(real.heapStart + xs.offset, real.heapStart + xs.offset + xs.size))
      // The one SignerInfo (SEQUENCE at 3760, 4812 bytes) ends with unsignedAttrs [1] (at 4284, 4 + 4288 bytes), inside
      // the SET of SignerInfos (at 3756, 4816 bytes); the containers around them have indefinite lengths.
      assert.deepEqual([...der.subarray(3756, 3764)], [0x31, 0x82, 0x12, 0xd0, 0x30, 0x82, 0x12, 0xcc])
      assert.deepEqual([...der.subarray(4284, 4288)], [0xa1, 0x82, 0x10, 0xc0])
      const cut = 4 + 4288
      const stripped = Buffer.concat([der.subarray(0, 4284), der.subarray(4284 + cut), Buffer.alloc(cut)])
      stripped.writeUInt16BE(4816 - cut, 3758)
      stripped.writeUInt16BE(4812 - cut, 3762)
      const readHeap = async (offset: number, size: number) => offset === xs.offset ? stripped : real.bytes.subarray(real.heapStart + offset, real.heapStart + offset + size)
      const now = await checkPackageSignature(input({readHeap}), opts())
      assert.deepEqual(ids(now), [])
      assert.equal(now.timestamp, undefined)
      const late = await checkPackageSignature(input({readHeap}), opts(new Date('2050-06-01T00:00:00Z')))
      assert.deepEqual(ids(late), ['package.certificate-expired', 'package.certificate-expired'])
      assert.match(late.findings[0]!.message, /^k\.pkg: the CMS signature's certificate/)
    })

    it('a damaged secure timestamp, judged in 2050: both signatures\' certificates expired, none vouched for', async () => {
      const xs = real.toc.xSignature!
      const der = real.bytes.subarray(real.heapStart + xs.offset, real.heapStart + xs.offset + xs.size)
      // The token closes the CMS, and the TSA's signature value closes the token: step back over end-of-contents zeros.
      let end = der.length
      while (der[end - 1] === 0) end--
      const s = await checkPackageSignature(input({readHeap: async (offset, size) => {
        const b = Buffer.from(real.bytes.subarray(real.heapStart + offset, real.heapStart + offset + size))
        if (offset === xs.offset) b[end - 8] = b[end - 8]! ^ 1
        return b
      }}), opts(new Date('2050-06-01T00:00:00Z')))
      assert.deepEqual(ids(s), ['package.timestamp-invalid', 'package.certificate-expired', 'package.certificate-expired'])
      assert.match(s.findings[1]!.message, /^k\.pkg: the CMS signature's certificate "Developer ID Installer: Fumihiko Takayama \(G43BCU2T37\)" expired on/)
      assert.equal(s.timestamp, undefined)
    })

    it('a leaf not valid yet, under a trusted root: untrusted, not expired', async () => {
      const identity = await pki.developerId('FORGED0001', {notBefore: new Date('2040-01-01T00:00:00Z'), notAfter: new Date('2045-01-01T00:00:00Z')})
      const s = await checkPackageSignature(input({toc: {...real.toc, xSignature: undefined, signature: {...real.toc.signature!, certificates: [identity.certDer, ...identity.chainDer]}}}), opts(NOW, pki.trust))
      assert.ok(ids(s).includes('package.untrusted'), ids(s).join())
      assert.ok(!ids(s).includes('package.certificate-expired'), ids(s).join())
    })

    it('the RSA chain judged at the CMS timestamp: a leaf not valid then is untrusted, not expired, even judged after its end', async () => {
      // The real CMS (Apple's chain, a valid secure timestamp from 2025) stays; the RSA signature's KeyInfo names a
      // test leaf valid only from 2040 to 2045, judged in 2050, so at the timestamp (2026-02-09) it was not valid yet under Apple's roots and the test root.
      const identity = await pki.developerId('FORGED0001', {notBefore: new Date('2040-01-01T00:00:00Z'), notAfter: new Date('2045-01-01T00:00:00Z')})
      const toc = {...real.toc, signature: {...real.toc.signature!, certificates: [identity.certDer, ...identity.chainDer]}}
      const s = await checkPackageSignature(input({toc}), opts(new Date('2050-06-01T00:00:00Z'), new TrustStore([...APPLE_ROOT_ANCHORS, ...pki.anchors])))
      assert.ok(s.timestamp, 'the real CMS timestamp is valid')
      const untrusted = s.findings.filter(f => f.id === 'package.untrusted')
      assert.equal(untrusted.length, 1, ids(s).join())
      assert.match(untrusted[0]!.message, /^k\.pkg: the RSA signature does not chain to a pinned Apple root \(.* is valid from 2040-01-01T00:00:00\.000Z to 2045-01-01T00:00:00\.000Z, not at 2026-02-09T13:44:10\.000Z\)/)
      assert.ok(!ids(s).includes('package.certificate-expired'), ids(s).join())
    })

    it('judged at the very millisecond a leaf expires, after its CAs did: untrusted naming the CAs, the leaf not called expired', async () => {
      // Every test CA ends at 2049-12-31T00:00Z; this leaf twelve hours later, still valid at that instant (RFC 5280 §4.1.2.5: inclusive).
      const end = new Date('2049-12-31T12:00:00Z')
      const identity = await pki.developerId('FORGED0001', {notAfter: end})
      const toc = {...real.toc, xSignature: undefined, signature: {...real.toc.signature!, certificates: [identity.certDer, ...identity.chainDer]}}
      const s = await checkPackageSignature(input({toc}), opts(end, pki.trust))
      assert.ok(ids(s).includes('package.untrusted'), ids(s).join())
      assert.ok(!ids(s).includes('package.certificate-expired'), ids(s).join())
      assert.match(s.findings.find(f => f.id === 'package.untrusted')!.message, /Test Developer ID Certification Authority" is valid from .* to 2049-12-31T00:00:00\.000Z, not at 2049-12-31T12:00:00\.000Z/)
    })

    it('a test Developer ID Installer chain judged after it expired: certificate-expired only where the chain reached its root', async () => {
      const identity = await pki.developerIdInstaller('FORGED0001')
      const toc = {...real.toc, xSignature: undefined, signature: {...real.toc.signature!, certificates: [identity.certDer, ...identity.chainDer]}}
      const late = new Date('2050-06-01T00:00:00Z')
      const trusted = await checkPackageSignature(input({toc}), opts(late, pki.trust))
      assert.ok(ids(trusted).includes('package.certificate-expired'), ids(trusted).join())
      const apple = await checkPackageSignature(input({toc}), opts(late))
      assert.ok(ids(apple).includes('package.untrusted'), ids(apple).join())
      assert.ok(!ids(apple).includes('package.certificate-expired'))
      const inTime = await checkPackageSignature(input({toc}), opts(NOW, pki.trust))
      assert.ok(!ids(inTime).includes('package.certificate-expired'))
      assert.ok(!ids(inTime).includes('package.untrusted'))
    })
  })

  describe('checkPackageSignature, with CMS signatures of the test PKI', function () {
    const LATE = new Date('2050-06-01T00:00:00Z')
    /** The real TOC with only its `<x-signature>` (or both, with `rsa`), the CMS region holding `cms`. */
    function withCms(cms: Buffer, rsa = false): PackageSignatureInput {
      const xs = real.toc.xSignature!
      const toc = rsa ? real.toc : {...real.toc, signature: undefined}
      return input({toc, readHeap: async (offset, size) => offset === xs.offset ? cms : real.bytes.subarray(real.heapStart + offset, real.heapStart + offset + size)})
    }
    const stored = () => real.bytes.subarray(real.heapStart, real.heapStart + 20)

    it('timestamped by the test TSA: the timestamp is the package\'s; a leaf not valid at that time is untrusted, not expired', async () => {
      const installer = await pki.developerIdInstaller('FORGED0001')
      const at = new Date('2026-01-01T00:00:00Z')
      const s = await checkPackageSignature(withCms(await signPackageChecksum(stored(), installer, {timestamp: at})), opts(NOW, pki.trust))
      assert.deepEqual(s.findings, [])
      assert.equal(s.timestamp?.toISOString(), at.toISOString())
      assert.equal(s.signer, 'developer-id-installer')
      const future = await pki.developerId('FORGED0001', {notBefore: new Date('2030-01-01T00:00:00Z'), notAfter: new Date('2031-01-01T00:00:00Z')})
      const early = await checkPackageSignature(withCms(await signPackageChecksum(stored(), future, {timestamp: at})), opts(new Date('2040-01-01T00:00:00Z'), pki.trust))
      assert.deepEqual(ids(early), ['package.untrusted', 'package.signer-kind'])
      assert.match(early.findings[0]!.message, /^k\.pkg: the CMS signature does not chain to a pinned Apple root \(.*\); signer "Developer ID Application: esdctl Test Developer \(FORGED0001\)"$/)
    })

    it('a CMS without certificates: its signature cannot be checked and it has no signer; with Apple\'s RSA signature beside it, that one is the signer', async () => {
      const cms = await signPackageChecksum(stored(), await pki.developerIdInstaller('FORGED0001'), {withoutCertificates: true})
      const alone = await checkPackageSignature(withCms(cms), opts(NOW, pki.trust))
      assert.deepEqual(ids(alone), ['package.signature-invalid', 'package.untrusted'])
      assert.equal(alone.findings[1]!.message, 'k.pkg: the CMS signature does not chain to a pinned Apple root (the signer certificate is not in the CMS certificate set)')
      assert.equal(alone.leaf, undefined)
      assert.equal(alone.signer, 'unsigned')
      const both = await checkPackageSignature(withCms(cms, true), opts())
      assert.deepEqual(ids(both), ['package.signature-invalid', 'package.untrusted'])
      assert.equal(both.leaf?.commonName, SIGNER)
      assert.equal(both.signer, 'developer-id-installer')
    })

    it('a signer without a common name is named by its SHA-256: wrong kind, expired, untrusted', async () => {
      const nameless = await pki.developerId('FORGED0001', {withoutCommonName: true})
      assert.equal(nameless.info.commonName, undefined)
      const cms = await signPackageChecksum(stored(), nameless)
      const s = await checkPackageSignature(withCms(cms), opts(NOW, pki.trust))
      assert.deepEqual(s.findings.map(f => [f.id, f.message]), [
        ['package.signer-kind', `k.pkg: signed by "${nameless.info.sha256}", which is not a Developer ID Installer certificate; Gatekeeper accepts only that for packages shipped outside the Mac App Store`],
      ])
      const late = await checkPackageSignature(withCms(cms), opts(LATE, pki.trust))
      assert.equal(late.findings[0]!.id, 'package.certificate-expired')
      assert.match(late.findings[0]!.message, new RegExp(`^k\\.pkg: the CMS signature's certificate "${nameless.info.sha256}" expired on 2049-12-31 `))
      const apple = await checkPackageSignature(withCms(cms), opts())
      assert.equal(apple.findings[0]!.id, 'package.untrusted')
      assert.match(apple.findings[0]!.message, /^k\.pkg: the CMS signature does not chain to a pinned Apple root \([^)]*\)$/)
    })
  })

  describe('verifyPackage', function () {
    const seen: string[] = []
    const record = async (p: string): Promise<VerifyReport> => {
      seen.push(p)
      return {ok: true, path: p, kind: 'bundle', findings: [], slices: []}
    }
    async function write(name: string, bytes: Buffer): Promise<string> {
      const path = join(dir, name)
      await writeFile(path, bytes)
      return path
    }

    it('a path that cannot be opened: input.unreadable naming its error code', async () => {
      const path = join(dir, 'absent.pkg')
      const r = await verifyPackage(path, opts(), record)
      assert.deepEqual(r.findings.map(f => [f.id, f.message]), [['input.unreadable', `${path}: cannot be read (ENOENT)`]])
      assert.deepEqual(r.items, [])
    })

    it('a file that is no xar: package.malformed naming the file', async () => {
      const path = await write('junk.pkg', Buffer.alloc(64, 0x41))
      const r = await verifyPackage(path, opts(), record)
      assert.deepEqual(r.findings.map(f => [f.id, f.message]), [['package.malformed', `${path}: does not start with "xar!"`]])
      assert.deepEqual(r.items, [])
    })

    it('the real package, its items given to the verifier: report fields and the ticket', async () => {
      seen.length = 0
      const path = await write('real.pkg', real.bytes)
      const r = await verifyPackage(path, opts(), record)
      assert.deepEqual(r.findings, [])
      assert.equal(seen.length, 2)
      assert.deepEqual(r.package, {
        format: 'component-package', signer: 'developer-id-installer',
        notarization: r.notarization, scripts: ['Scripts/postinstall', 'Scripts/preinstall'],
        components: [{path: '', identifier: 'org.pqrs.Karabiner-DriverKit-VirtualHIDDevice', version: '6.10.0', installLocation: '/', scripts: ['Scripts/postinstall', 'Scripts/preinstall']}],
        identifier: 'org.pqrs.Karabiner-DriverKit-VirtualHIDDevice', version: '6.10.0', installLocation: '/',
        signerName: SIGNER, teamId: 'G43BCU2T37', timestamp: TIMESTAMP,
      })
      assert.equal(r.notarization?.stapled, true)
      assert.equal(r.notarization?.verified, true)
    })

    /** The real package with `edit` applied to its TOC (and heap), re-signed by a test identity (no CMS, no ticket). */
    async function edited(name: string, edit: (parts: ReturnType<typeof splitXar>) => void): Promise<string> {
      const parts = splitXar(real.bytes)
      edit(parts)
      return write(name, resignXar(parts, await pki.developerIdInstaller('FORGED0001')))
    }
    /** Without the 2 MB Payload member, where a test is about the others: it keeps the test quick. */
    const withoutPayload = (p: ReturnType<typeof splitXar>) => {
      p.tocXml = p.tocXml.replace(/<file id="2">[\s\S]*?<\/file>/, '')
    }
    const verifyEdited = async (name: string, edit: (parts: ReturnType<typeof splitXar>) => void, payload = false) => {
      const path = await edited(name, p => {
        if (!payload) withoutPayload(p)
        edit(p)
      })
      return {path, r: await verifyPackage(path, opts(NOW, pki.trust), record)}
    }
    const PACKAGE_INFO_EXTRACTED = '604965f93d6c612f7649b5363fe67435d6f678c0'
    const PACKAGE_INFO_ARCHIVED = '99aab3a7b4a0f39653ca6c9a574a420bf0937848'
    const SCRIPTS_SHA1 = 'c99cd9acffb50be870968fcc95a4778f5484ca10'

    it('re-signed by a trusted test identity: no finding, that signer reported, not stapled', async () => {
      const {r} = await verifyEdited('resigned.pkg', () => {})
      assert.deepEqual(r.findings, [])
      assert.equal(r.package?.teamId, 'FORGED0001')
      assert.equal(r.package?.timestamp, undefined)
      assert.equal(r.package?.notarization.stapled, false)
    })

    it('a member checksum of an unknown style: named, the other checksum still checked', async () => {
      const {path, r} = await verifyEdited('style.pkg', p => {
        p.tocXml = p.tocXml.replace(`<extracted-checksum style="sha1">${PACKAGE_INFO_EXTRACTED}`, `<extracted-checksum style="md7">${PACKAGE_INFO_EXTRACTED}`)
          .replace(`<archived-checksum style="sha1">${PACKAGE_INFO_ARCHIVED}`, `<archived-checksum style="sha1">${'0'.repeat(40)}`)
      })
      assert.deepEqual(r.findings.map(f => [f.id, f.path, f.message]), [
        ['package.checksum-mismatch', `${path}:PackageInfo`, `${path}:PackageInfo: the extracted checksum uses the unknown style "md7", so it cannot be checked`],
        ['package.checksum-mismatch', `${path}:PackageInfo`, `${path}:PackageInfo: the archived checksum is ${PACKAGE_INFO_ARCHIVED} but the table of contents says ${'0'.repeat(40)}; the member was altered after the package was built`],
      ])
      assert.equal(r.findings[1]!.fix, 'Rebuild and sign the package again; ship it unmodified.')
      assert.equal(r.package?.identifier, 'org.pqrs.Karabiner-DriverKit-VirtualHIDDevice')
    })

    it('members read in heap order: Scripts (offset 2036512) is judged before PackageInfo (2037091) whatever the TOC order', async () => {
      const {path, r} = await verifyEdited('order.pkg', p => {
        p.tocXml = p.tocXml.replace(`<extracted-checksum style="sha1">${PACKAGE_INFO_EXTRACTED}`, `<extracted-checksum style="sha1">${'1'.repeat(40)}`)
          .replace(`<extracted-checksum style="sha1">${SCRIPTS_SHA1}`, `<extracted-checksum style="sha1">${'2'.repeat(40)}`)
      })
      assert.deepEqual(r.findings.map(f => f.message), [
        `${path}:Scripts: the extracted checksum is ${SCRIPTS_SHA1} but the table of contents says ${'2'.repeat(40)}; the member was altered after the package was built`,
        `${path}:PackageInfo: the extracted checksum is ${PACKAGE_INFO_EXTRACTED} but the table of contents says ${'1'.repeat(40)}; the member was altered after the package was built`,
      ])
    })

    it('a member whose TOC size differs from what it decodes to: named with both sizes', async () => {
      const {path, r} = await verifyEdited('size.pkg', p => {
        p.tocXml = p.tocXml.replace('<size>914</size>', '<size>915</size>')
      })
      assert.deepEqual(r.findings.map(f => [f.id, f.message]), [['package.checksum-mismatch', `${path}:PackageInfo: decodes to 914 bytes but the table of contents says 915`]])
      assert.equal(r.findings[0]!.fix, 'Rebuild and sign the package again; ship it unmodified.')
    })

    it('a member past the end of the archive: package.malformed for it, the rest read', async () => {
      const {path, r} = await verifyEdited('past.pkg', p => {
        p.tocXml = p.tocXml.replace('<offset>2036512</offset>', '<offset>2037500</offset>')
      })
      assert.deepEqual(r.findings.map(f => [f.id, f.path]), [['package.malformed', `${path}:Scripts`]])
      assert.equal(r.findings[0]!.message, `${path}: a member's data (heap offset 2037500, 579 bytes) lies past the end of the archive`)
      assert.deepEqual(r.package?.scripts, [])
      assert.equal(r.package?.identifier, 'org.pqrs.Karabiner-DriverKit-VirtualHIDDevice')
    })

    it('a member nothing reads (Bom) past the end, or in an unknown encoding: package.malformed from its checksum pass', async () => {
      const past = await verifyEdited('bom-past.pkg', p => {
        p.tocXml = p.tocXml.replace('<offset>9492</offset>', '<offset>2037000</offset>')
      })
      assert.deepEqual(past.r.findings.map(f => [f.id, f.path, f.message]), [['package.malformed', `${past.path}:Bom`, `${past.path}: a member's data (heap offset 2037000, 3088 bytes) lies past the end of the archive`]])
      const encoding = await verifyEdited('bom-encoding.pkg', p => {
        p.tocXml = p.tocXml.replace('<encoding style="application/x-gzip"/>\n    <extracted-checksum style="sha1">5e4dfc', '<encoding style="application/x-lzma"/>\n    <extracted-checksum style="sha1">5e4dfc')
      })
      assert.deepEqual(encoding.r.findings.map(f => [f.id, f.path]), [['package.malformed', `${encoding.path}:Bom`]])
    })

    it('a Distribution of exactly 1 MiB is read', async () => {
      const head = '<?xml version="1.0" encoding="utf-8"?>\n<installer-gui-script minSpecVersion="2"><product id="org.pqrs.big" version="1"/></installer-gui-script>\n<!--'
      const distribution = Buffer.from(head + ' '.repeat(1024 * 1024 - head.length - 4) + '-->\n')
      assert.equal(distribution.length, 1024 * 1024)
      const sha1 = createHash('sha1').update(distribution).digest('hex')
      const {r} = await verifyEdited('mib.pkg', p => {
        p.tocXml = p.tocXml.replace('</toc>', `<file id="101"><name>Distribution</name><type>file</type><data><offset>${p.heap.length}</offset><length>${distribution.length}</length><size>${distribution.length}</size>` +
          `<encoding style="application/octet-stream"/><archived-checksum style="sha1">${sha1}</archived-checksum><extracted-checksum style="sha1">${sha1}</extracted-checksum></data></file></toc>`)
        p.heap = Buffer.concat([p.heap, distribution])
      })
      assert.deepEqual(r.findings, [])
      assert.equal(r.package?.identifier, 'org.pqrs.big')
    })

    it('a member in an encoding esdctl does not read: package.malformed, named', async () => {
      const {path, r} = await verifyEdited('encoding.pkg', p => {
        p.tocXml = p.tocXml.replace('<encoding style="application/x-gzip"/>\n    <extracted-checksum style="sha1">604965', '<encoding style="application/x-lzma"/>\n    <extracted-checksum style="sha1">604965')
      })
      assert.deepEqual(r.findings.map(f => [f.id, f.path]), [['package.malformed', `${path}:PackageInfo`]])
      assert.match(r.findings[0]!.message, /application\/x-lzma/)
      assert.equal(r.package?.identifier, undefined)
    })

    it('a PackageInfo that is not one: package.payload-unreadable after its checksums are checked', async () => {
      const {path, r} = await verifyEdited('not-info.pkg', p => {
        // Scripts' bytes named PackageInfo: a cpio archive, not XML; its own checksums still match.
        p.tocXml = p.tocXml.replace('<name>Scripts</name>\n   <name>Scripts</name>', '<name>PackageInfo</name>').replace(/<name>PackageInfo<\/name>\n   <name>PackageInfo<\/name>/, '<name>Other</name>')
      })
      assert.deepEqual(r.findings.map(f => [f.id, f.path]), [['package.payload-unreadable', `${path}:PackageInfo`]])
      assert.ok(r.findings[0]!.message.startsWith(`${path}:PackageInfo: `), r.findings[0]!.message)
      const bad = await verifyEdited('not-info-sum.pkg', p => {
        p.tocXml = p.tocXml.replace(`<extracted-checksum style="sha1">${SCRIPTS_SHA1}`, `<extracted-checksum style="sha1">${'3'.repeat(40)}`)
          .replace('<name>Scripts</name>\n   <name>Scripts</name>', '<name>PackageInfo</name>').replace(/<name>PackageInfo<\/name>\n   <name>PackageInfo<\/name>/, '<name>Other</name>')
      })
      assert.deepEqual(bad.r.findings.map(f => f.id), ['package.checksum-mismatch', 'package.payload-unreadable'])
    })

    it('a Distribution larger than 1 MiB: package.too-large, not read into memory', async () => {
      const {path, r} = await verifyEdited('big-distribution.pkg', p => {
        p.tocXml = p.tocXml.replace('<name>Payload</name>\n   <name>Payload</name>', '<name>Distribution</name>')
      }, true)
      assert.deepEqual(r.findings.map(f => [f.id, f.message]), [['package.too-large', `${path}:Distribution: larger than 1048576 bytes`]])
      assert.deepEqual(seen.filter(s => s.includes('big-distribution')), [])
    })

    /** A member of the real package's heap region `from` (its <data> element) under another name, or fresh bytes at the heap's end. */
    const dataOf = (p: ReturnType<typeof splitXar>, id: string) => p.tocXml.match(new RegExp(`<file id="${id}">\\s*(<data>[\\s\\S]*?</data>)`))![1]!
    const appended = (p: ReturnType<typeof splitXar>, bytes: Buffer, sums: 'both' | 'extracted' = 'both') => {
      const sha1 = createHash('sha1').update(bytes).digest('hex')
      const data = `<data><offset>${p.heap.length}</offset><length>${bytes.length}</length><size>${bytes.length}</size><encoding style="application/octet-stream"/>` +
        `${sums === 'both' ? `<archived-checksum style="sha1">${sha1}</archived-checksum>` : ''}<extracted-checksum style="sha1">${sha1}</extracted-checksum></data>`
      p.heap = Buffer.concat([p.heap, bytes])
      return data
    }
    /**
     * A product archive: Distribution, the real component in K.pkg, a minimal component M.pkg (a
     * PackageInfo with an identifier only and one checksum), and look-alikes that are no component:
     * Outer/Inner.pkg (nested: its PackageInfo, Scripts and Payload are the real ones), Empty (no
     * PackageInfo) and Stray (a file, not a folder, with a PackageInfo under it).
     */
    function productArchive(p: ReturnType<typeof splitXar>): void {
      const first = p.tocXml.indexOf('<file ')
      const last = p.tocXml.lastIndexOf('</file>') + '</file>'.length
      const distribution = appended(p, Buffer.from('<?xml version="1.0" encoding="utf-8"?>\n<installer-gui-script minSpecVersion="2"><product id="org.pqrs.product" version="9.1"/></installer-gui-script>\n'))
      const minimal = appended(p, Buffer.from('<pkg-info format-version="2" identifier="org.min"/>'), 'extracted')
      const inner = `<file id="102"><name>PackageInfo</name><type>file</type>${dataOf(p, '4')}</file><file id="103"><name>Scripts</name><type>file</type>${dataOf(p, '3')}</file>${p.tocXml.includes('<file id="2">') ? `<file id="104"><name>Payload</name><type>file</type>${dataOf(p, '2')}</file>` : ''}`
      p.tocXml = `${p.tocXml.slice(0, first)}<file id="98"><name>Empty</name><type>directory</type></file>` +
        `<file id="97"><name>Stray</name><type>file</type><file id="96"><name>PackageInfo</name><type>file</type></file></file>` +
        `<file id="99"><name>Outer</name><type>directory</type><file id="100"><name>Inner.pkg</name><type>directory</type>${inner}</file></file>` +
        `<file id="105"><name>K.pkg</name><type>directory</type>${p.tocXml.slice(first, last)}</file>` +
        `<file id="106"><name>M.pkg</name><type>directory</type><file id="107"><name>PackageInfo</name><type>file</type>${minimal}</file></file>` +
        `<file id="101"><name>Distribution</name><type>file</type>${distribution}</file>${p.tocXml.slice(last)}`
    }

    it('a product archive: the Distribution\'s product id and version, each component in its folder, nothing from look-alikes', async () => {
      seen.length = 0
      const {r} = await verifyEdited('product.pkg', productArchive, true)
      assert.deepEqual(r.findings, [])
      assert.equal(r.package?.format, 'product-archive')
      assert.equal(r.package?.identifier, 'org.pqrs.product')
      assert.equal(r.package?.version, '9.1')
      assert.equal(r.package?.installLocation, '/')
      assert.deepEqual(r.package?.components, [
        {path: 'K.pkg', identifier: 'org.pqrs.Karabiner-DriverKit-VirtualHIDDevice', version: '6.10.0', installLocation: '/', scripts: ['K.pkg/Scripts/postinstall', 'K.pkg/Scripts/preinstall']},
        {path: 'M.pkg', identifier: 'org.min', scripts: []},
      ])
      assert.deepEqual(r.package?.scripts, ['K.pkg/Scripts/postinstall', 'K.pkg/Scripts/preinstall'])
      assert.deepEqual(r.items.map(i => i.path), [
        'K.pkg/Payload/Library/Application Support/org.pqrs/Karabiner-DriverKit-VirtualHIDDevice/Applications/Karabiner-VirtualHIDDevice-Daemon.app',
        'K.pkg/Payload/Applications/.Karabiner-VirtualHIDDevice-Manager.app',
      ])
    })

    it('a stapled ticket after a product archive (folders without data) or a package without a CMS, its trailer cut: notarization.malformed', async () => {
      const stapled = splitXar(real.bytes).stapled
      for (const [name, edit] of [['cut-product.pkg', productArchive], ['cut-rsa-only.pkg', () => {}]] as const) {
        const path = await edited(name, p => {
          withoutPayload(p)
          edit(p)
        })
        await writeFile(path, Buffer.concat([await readFile(path), stapled.subarray(0, stapled.length - 5)]))
        const r = await verifyPackage(path, opts(NOW, pki.trust), record)
        assert.deepEqual(ids(r), ['notarization.malformed'], name)
      }
    })

    it('the real ticket stapled to a re-signed package: it does not list the new TOC checksum, named as such', async () => {
      const path = await edited('restapled.pkg', withoutPayload)
      const bytes = await readFile(path)
      await writeFile(path, Buffer.concat([bytes, splitXar(real.bytes).stapled]))
      const heapStart = 28 + Number(bytes.readBigUInt64BE(8))
      const checksum = bytes.subarray(heapStart, heapStart + 20).toString('hex')
      // Apple's roots: the ticket is Apple's (the package's test signer is then untrusted, which is not the point here).
      const r = await verifyPackage(path, opts(), record)
      const f = r.findings.find(x => x.id.startsWith('notarization.'))
      assert.ok(f, ids(r).join())
      assert.equal(f.path, `${path} (stapled ticket)`)
      assert.ok(f.message.startsWith(`${path} (stapled ticket): the stapled ticket does not list ${path} (its table-of-contents checksum) (its hashes ${checksum}; `), f.message)
      assert.equal(r.notarization?.stapled, true)
    })

    it('the TOC checksum or the CMS past the end of the archive: package.malformed naming which region', async () => {
      const {path, r} = await verifyEdited('checksum-past.pkg', p => {
        p.tocXml = p.tocXml.replace('<offset>0</offset>\n   <size>20</size>', '<offset>99999999</offset>\n   <size>20</size>')
      })
      assert.deepEqual(r.findings.map(f => [f.id, f.message]), [['package.malformed', `${path}: the TOC checksum (heap offset 99999999, 20 bytes) lies past the end of the archive`]])
      const parts = splitXar(real.bytes)
      parts.tocXml = parts.tocXml.replace('<offset>276</offset>', '<offset>99999999</offset>')
      const cms = await write('cms-past.pkg', assembleXar({...parts, stapled: Buffer.alloc(0)}))
      const c = await verifyPackage(cms, opts(), record)
      assert.deepEqual(c.findings.map(f => f.id), ['package.toc-checksum-mismatch', 'package.malformed'])
      assert.equal(c.findings[1]!.message, `${cms}: the CMS signature (heap offset 99999999, 9216 bytes) lies past the end of the archive`)
    })

    it('a signature region ending exactly at the archive\'s end is read; one byte further is malformed', async () => {
      const identity = await pki.developerIdInstaller('FORGED0001')
      const build = (gap: number) => {
        const parts = splitXar(real.bytes)
        withoutPayload(parts)
        const at = parts.heap.length
        parts.tocXml = parts.tocXml.replace('<offset>20</offset>\n   <size>256</size>', `<offset>${at + gap}</offset>\n   <size>256</size>`)
        parts.heap = Buffer.concat([parts.heap, Buffer.alloc(256)])
        const out = resignXar(parts, identity)
        const heapStart = 28 + Number(out.readBigUInt64BE(8))
        out.copy(out, heapStart + at, heapStart + 20, heapStart + 276)
        return out
      }
      const exact = await verifyPackage(await write('sig-at-end.pkg', build(0)), opts(NOW, pki.trust), record)
      assert.deepEqual(exact.findings, [])
      const path = await write('sig-past-end.pkg', build(1))
      const past = await verifyPackage(path, opts(NOW, pki.trust), record)
      assert.deepEqual(past.findings.map(f => [f.id, f.message]), [['package.malformed', `${path}: the RSA signature (heap offset 2037514, 256 bytes) lies past the end of the archive`]])
    })

    it('a verifier of contained items that fails: its error propagates, nothing is left open', async () => {
      const open = readdirSync('/dev/fd').length
      const path = await write('verifier-fails.pkg', real.bytes)
      await assert.rejects(verifyPackage(path, opts(), async () => {
        throw new RangeError('verifier broke')
      }), /verifier broke/)
      await verifyPackage(await write('junk-again.pkg', Buffer.alloc(64, 0x41)), opts(), record)
      assert.equal(readdirSync('/dev/fd').length, open, 'every package file is closed again')
    })

    it('another package put at the path while the Payload is judged: the members after it are still read from the package opened', async function () {
      const path = await write('swapped.pkg', real.bytes)
      const other = await write('other.pkg', await readFile(realPackage(this, 'Karabiner-DriverKit-VirtualHIDDevice-6.0.0.pkg')))
      let swapped = false
      const r = await verifyPackage(path, opts(), async p => {
        if (!swapped) await rename(other, path)
        swapped = true
        return record(p)
      })
      assert.ok(swapped)
      assert.deepEqual(r.findings, [])
      assert.deepEqual(r.package?.scripts, ['Scripts/postinstall', 'Scripts/preinstall'])
      assert.equal(r.package?.version, '6.10.0')
      assert.equal(r.notarization?.verified, true)
    })

    it('the package cut short while the Payload is judged: each member after the cut is package.malformed, it cannot be read', async () => {
      const archiveEnd = real.bytes.length - splitXar(real.bytes).stapled.length
      const path = await write('shrinks.pkg', real.bytes.subarray(0, archiveEnd))
      const scriptsAt = real.heapStart + 2036512
      const r = await verifyPackage(path, opts(), async p => {
        await truncate(path, scriptsAt)
        return record(p)
      })
      const cut = (member: string) => [
        'package.malformed', `${path}:${member}`,
        `${path}: a member's data cannot be read (${path}: file shrank while reading a member's data)`,
      ]
      assert.deepEqual(r.findings.map(f => [f.id, f.path, f.message]), [cut('Scripts'), cut('PackageInfo')])
    })

    it('an unsigned package with no PackageInfo: package.unsigned, and a report with nothing it does not have', async () => {
      const parts = splitXar(real.bytes)
      withoutPayload(parts)
      parts.tocXml = parts.tocXml.replace(/<signature style="RSA">[\s\S]*?<\/signature>\s*/, '').replace(/<x-signature[\s\S]*?<\/x-signature>\s*/, '')
        .replace(/<file id="4">[\s\S]*?<\/file>/, '')
      createHash('sha1').update(deflateSync(Buffer.from(parts.tocXml, 'utf8'))).digest().copy(parts.heap, 0)
      const path = await write('unsigned.pkg', assembleXar({...parts, stapled: Buffer.alloc(0)}))
      const r = await verifyPackage(path, opts(), record)
      assert.deepEqual(ids(r), ['package.unsigned'])
      assert.deepEqual(r.package, {format: 'component-package', signer: 'unsigned', notarization: {stapled: false, verified: false, cdhashes: []}, scripts: [], components: []})
    })

    it('without its stapled ticket: not stapled, no finding', async () => {
      const path = await write('unstapled.pkg', real.bytes.subarray(0, real.bytes.length - splitXar(real.bytes).stapled.length))
      const r = await verifyPackage(path, opts(), record)
      assert.deepEqual(r.findings, [])
      assert.deepEqual(r.notarization, {stapled: false, verified: false, cdhashes: []})
    })

    it('only the ticket region\'s opening trailer left: notarization.malformed; nothing after the archive: no ticket', async () => {
      const archiveEnd = real.bytes.length - splitXar(real.bytes).stapled.length
      const r = await verifyPackage(await write('opening.pkg', real.bytes.subarray(0, archiveEnd + 16)), opts(), record)
      assert.deepEqual(ids(r), ['notarization.malformed'])
      const short = await verifyPackage(await write('short.pkg', real.bytes.subarray(0, archiveEnd + 15)), opts(), record)
      assert.deepEqual(ids(short), [])
      assert.equal(short.notarization?.stapled, false)
    })

    it('the ticket trailer cut off: notarization.malformed, the archive itself still whole', async () => {
      const path = await write('cut.pkg', real.bytes.subarray(0, real.bytes.length - 5))
      const r = await verifyPackage(path, opts(), record)
      assert.deepEqual(ids(r), ['notarization.malformed'])
      assert.match(r.findings[0]!.message, /closing trailer is missing/)
      assert.equal(r.findings[0]!.fix, 'Download the package again, or staple it again (xcrun stapler staple <pkg>).')
      assert.deepEqual(r.notarization, {stapled: true, verified: false, cdhashes: []})
      assert.equal(r.package?.signer, 'developer-id-installer')
    })

    it('the default bounds: 16 GiB for a member and for a payload, 2 GiB for one item', () => {
      assert.deepEqual(DEFAULT_PACKAGE_LIMITS, {memberBytes: 16 * 2 ** 30, payloadBytes: 16 * 2 ** 30, itemBytes: 2 * 2 ** 30})
    })

    it('a Payload and Scripts past the payload bound: package.too-large, each named by its member', async () => {
      const path = await write('bounded.pkg', real.bytes)
      const r = await verifyPackage(path, opts(), record, {...DEFAULT_PACKAGE_LIMITS, payloadBytes: 100})
      assert.deepEqual(r.findings.map(f => [f.id, f.message]), [
        ['package.too-large', `${path}:Payload: inflates past 100 bytes`],
        ['package.too-large', `${path}:Scripts: inflates past 100 bytes`],
      ])
    })

    it('a Scripts member that starts like a cpio archive but is not one: payload-unreadable, named by its member', async () => {
      const bad = Buffer.concat([Buffer.from('070707zzzzzz', 'latin1'), Buffer.alloc(80, 0x30)])
      const {path, r} = await verifyEdited('bad-scripts.pkg', p => {
        p.tocXml = p.tocXml.replace(dataOf(p, '3'), appended(p, bad))
      })
      assert.deepEqual(r.findings.map(f => [f.id, f.message]), [['package.payload-unreadable', `${path}:Scripts: member 0 has a name of 0 bytes`]])
    })

    it('a Payload that starts like a cpio archive but is not one: payload-unreadable, named by its member', async () => {
      const bad = Buffer.concat([Buffer.from('070707zzzzzz', 'latin1'), Buffer.alloc(80, 0x30)])
      const {path, r} = await verifyEdited('bad-payload.pkg', p => {
        p.tocXml = p.tocXml.replace(dataOf(p, '2'), appended(p, bad))
      }, true)
      assert.deepEqual(r.findings.map(f => [f.id, f.message]), [['package.payload-unreadable', `${path}:Payload: member 0 has a name of 0 bytes`]])
    })

    it('a PackageInfo or a Distribution whose root element is another: payload-unreadable naming the member and the element', async () => {
      const {path, r} = await verifyEdited('wrong-roots.pkg', p => {
        p.tocXml = p.tocXml.replace(dataOf(p, '4'), appended(p, Buffer.from('<pkg-inf/>')))
          .replace('<file id="4">', `<file id="90"><name>Distribution</name><type>file</type>${appended(p, Buffer.from('<foo/>'))}</file><file id="4">`)
      })
      assert.deepEqual(r.findings.map(f => [f.id, f.message]), [
        ['package.payload-unreadable', `${path}:PackageInfo: the root element is <pkg-inf>, not <pkg-info>`],
        ['package.payload-unreadable', `${path}:Distribution: the root element is <foo>, not <installer-gui-script>`],
      ])
    })

    it('a PackageInfo with a version and no identifier: the component carries only what it says', async () => {
      const {r} = await verifyEdited('no-identifier.pkg', p => {
        p.tocXml = p.tocXml.replace(dataOf(p, '4'), appended(p, Buffer.from('<pkg-info format-version="2" version="1.0" install-location="/opt/x"/>')))
      })
      assert.deepEqual(r.findings, [])
      assert.deepEqual(r.package?.components, [{path: '', version: '1.0', installLocation: '/opt/x', scripts: ['Scripts/postinstall', 'Scripts/preinstall']}])
      assert.equal(r.package?.identifier, undefined)
    })

    it('a Payload whose bundle is not stored together: the scan\'s finding is in the package\'s findings', async () => {
      const cpio = (name: string, body: Buffer) => {
        const octal = (n: number, width: number) => n.toString(8).padStart(width, '0')
        const header = `070707${octal(1, 6)}${octal(1, 6)}${octal(0o100644, 6)}${octal(0, 6)}${octal(0, 6)}${octal(1, 6)}${octal(0, 6)}${octal(0, 11)}${octal(name.length + 1, 6)}${octal(body.length, 11)}`
        return Buffer.concat([Buffer.from(header, 'latin1'), Buffer.from(`${name}\0`, 'latin1'), body])
      }
      const payload = Buffer.concat([cpio('A.app/x', Buffer.from('x')), cpio('B', Buffer.from('b')), cpio('A.app/y', Buffer.from('y')), cpio('TRAILER!!!', Buffer.alloc(0))])
      const {path, r} = await verifyEdited('split.pkg', p => {
        p.tocXml = p.tocXml.replace(dataOf(p, '2'), appended(p, payload))
      }, true)
      assert.deepEqual(r.findings.map(f => [f.id, f.path, f.message]), [
        ['package.item-unchecked', `${path}:Payload/A.app`, `${path}: the members of Payload/A.app are not stored together, so esdctl checked the bundle without A.app/y`],
      ])
      assert.deepEqual(r.items.map(i => i.path), ['Payload/A.app'])
    })

    it('16 bytes or more after an unstapled archive that are no trailer: no ticket, no finding', async () => {
      const archiveEnd = real.bytes.length - splitXar(real.bytes).stapled.length
      const r = await verifyPackage(await write('padded.pkg', Buffer.concat([real.bytes.subarray(0, archiveEnd), Buffer.alloc(32)])), opts(), record)
      assert.deepEqual(r.findings, [])
      assert.equal(r.notarization?.stapled, false)
    })

    it('the file cut short under the stapled ticket, or under the bytes after the heap: package.malformed naming what was being read', async () => {
      const stapled = splitXar(real.bytes).stapled
      const archiveEnd = real.bytes.length - stapled.length
      const cases = [
        ['ticket-shrinks.pkg', real.bytes, archiveEnd + 20, 'the stapled ticket'],
        ['tail-shrinks.pkg', real.bytes.subarray(0, real.bytes.length - 5), archiveEnd + 2, 'the bytes after the heap'],
      ] as const
      for (const [name, bytes, keep, what] of cases) {
        const path = await write(name, bytes)
        const r = await verifyPackage(path, opts(), async p => {
          await truncate(path, keep)
          return record(p)
        })
        assert.deepEqual(r.findings.map(f => [f.id, f.message]), [['package.malformed', `${path}: file shrank while reading ${what}`]], name)
      }
    })

    describe('small archives: where the heap ends, the trailers and the archive\'s end', function () {
      /** A 16-byte stapler trailer: `t8lr`, version 1, `type` (1 terminator, 2 ticket), `length`. */
      const trailer = (type: number, length: number) => {
        const b = Buffer.alloc(16)
        b.write('t8lr', 0, 'latin1')
        b.writeUInt16LE(1, 4)
        b.writeUInt16LE(type, 6)
        b.writeUInt32LE(length, 8)
        return b
      }
      const CHECKSUM = '<checksum style="sha1"><offset>0</offset><size>20</size></checksum>'
      const tocXml = (inner: string, comment = '') => `<?xml version="1.0" encoding="UTF-8"?>\n<xar>\n <toc>${inner}</toc>${comment ? `<!--${comment}-->` : ''}\n</xar>\n`
      /** An unsigned xar with no members; with `CHECKSUM`, its heap starts with the TOC's SHA-1. */
      const small = (inner: string, after: Buffer, stapled: Buffer = Buffer.alloc(0)) => {
        const xml = tocXml(inner)
        const heap: Buffer = inner.includes('<checksum') ? Buffer.concat([createHash('sha1').update(deflateSync(Buffer.from(xml, 'utf8'))).digest(), after]) : after
        return assembleXar({tocXml: xml, heap, stapled})
      }
      const run = async (name: string, bytes: Buffer) => {
        const path = await write(name, bytes)
        return {path, r: await verifyPackage(path, opts(), record)}
      }

      it('a heap of 15 bytes that end like a ticket trailer: too short to hold one, no ticket read', async () => {
        // The trailer's first byte is the compressed TOC's last (the low byte of its Adler-32): this comment makes it "t".
        const bytes = assembleXar({tocXml: tocXml('', 'zzzzzzzc'), heap: trailer(2, 1).subarray(1), stapled: Buffer.alloc(0)})
        assert.equal(bytes.subarray(-16, -12).toString('latin1'), 't8lr')
        const {r} = await run('heap15.pkg', bytes)
        assert.deepEqual(ids(r), ['package.unsigned'])
        assert.equal(r.notarization?.stapled, false)
      })

      it('a heap of exactly one ticket trailer: read as a stapled ticket (here one that cannot be read)', async () => {
        const {path, r} = await run('heap16.pkg', small('', trailer(2, 1)))
        assert.deepEqual(ids(r), ['package.unsigned', 'notarization.malformed'])
        assert.match(r.findings[1]!.message, new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(stapled ticket\\): a stapled notarization ticket that cannot be read`))
      })

      it('a ticket trailer claiming bytes inside the TOC: the archive runs to the file\'s end, its checksum is read', async () => {
        const {r} = await run('inside-toc.pkg', small(CHECKSUM, trailer(2, 30)))
        assert.deepEqual(ids(r), ['package.unsigned', 'notarization.malformed'])
      })

      it('a ticket whose archive ends exactly where the heap starts: the TOC checksum lies past the archive\'s end', async () => {
        const {path, r} = await run('at-heap.pkg', small(CHECKSUM, trailer(2, 4)))
        assert.deepEqual(r.findings.map(f => [f.id, f.message]).slice(0, 1), [['package.malformed', `${path}: the TOC checksum (heap offset 0, 20 bytes) lies past the end of the archive`]])
      })

      it('no TOC checksum and the real ticket stapled: the ticket is read, but covers nothing here', async () => {
        const {r} = await run('no-checksum-stapled.pkg', small('', Buffer.alloc(0), splitXar(real.bytes).stapled))
        assert.deepEqual(ids(r), ['package.unsigned'])
        assert.equal(r.notarization?.stapled, true)
        assert.equal(r.notarization?.verified, false)
        assert.ok(r.notarization?.cdhashes.length, 'the ticket was read')
      })

      it('the heap ends with its TOC checksum, then a terminator and a ticket without its closing trailer: notarization.malformed', async () => {
        const {r} = await run('checksum-last.pkg', small(CHECKSUM, Buffer.concat([trailer(1, 0), Buffer.alloc(100, 0x41)])))
        assert.deepEqual(ids(r), ['package.unsigned', 'notarization.malformed'])
      })
    })
  })
})

describe('payload scanning, directly (verify-package mutants)', function () {
  const MACHO = Buffer.from([0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1])
  const APPLE_DOUBLE = Buffer.from([0x00, 0x05, 0x16, 0x07, 0, 2, 0, 0])

  /** A cpio member; a file's body comes in the chunks given (to test reads across chunk edges). */
  function member(path: string, kind: CpioEntry['kind'], chunks: Buffer[] = [], linkTarget?: string): CpioEntry {
    const size = chunks.reduce((n, c) => n + c.length, 0)
    return {path, mode: kind === 'dir' ? 0o40755 : 0o100644, kind, size, ...(linkTarget === undefined ? {} : {linkTarget}), body: async function* () {
      yield* chunks
    }}
  }
  async function* stream(entries: CpioEntry[], then?: Error): AsyncGenerator<CpioEntry> {
    yield* entries
    if (then) throw then
  }

  interface Seen {
    path: string
    files: Record<string, string>
  }
  /** A verifier that records the staged tree (files as hex) and answers `answer` with the staged path in its texts. */
  function recorder(answer: (staged: string) => Partial<VerifyReport> = () => ({})) {
    const seen: Seen[] = []
    const verifyItem = async (staged: string): Promise<VerifyReport> => {
      const files: Record<string, string> = {}
      const st = await lstat(staged)
      if (st.isDirectory()) {
        for (const rel of (await readdir(staged, {recursive: true})).map(String).sort()) {
          const s = await lstat(join(staged, rel))
          files[rel] = s.isSymbolicLink() ? `-> ${await readlink(join(staged, rel))}` : s.isDirectory() ? 'dir' : (await readFile(join(staged, rel))).toString('hex')
        }
      } else {
        files['.'] = (await readFile(staged)).toString('hex')
      }
      seen.push({path: staged, files})
      return {ok: true, path: staged, kind: st.isDirectory() ? 'bundle' : 'macho', findings: [], slices: [], ...answer(staged)}
    }
    return {seen, verifyItem}
  }
  const ctx = (verifyItem: (p: string) => Promise<VerifyReport>, more: Partial<PayloadScanContext> = {}): PayloadScanContext => ({pkgPath: 'k.pkg', prefix: 'Payload', verifyItem, ...more})

  it('bundleRootOf: the outermost folder with a bundle extension, for each extension macOS treats as a bundle', () => {
    for (const ext of ['app', 'appex', 'xpc', 'systemextension', 'dext', 'framework', 'bundle', 'plugin', 'kext']) {
      assert.equal(bundleRootOf(`Library/X.${ext}/Contents/Info.plist`), `Library/X.${ext}`)
      assert.equal(bundleRootOf(`Library/X.${ext}`), `Library/X.${ext}`)
    }
    assert.equal(bundleRootOf('A.app/Contents/PlugIns/B.appex/Contents/MacOS/B'), 'A.app')
    for (const path of ['Library/X.apps/y', 'Library/Xapp/y', 'usr/local/bin/tool', 'Library/app', 'X.app.bak/y']) assert.equal(bundleRootOf(path), undefined, path)
  })

  it('a bundle: its members staged together under its own name, judged once, the copy removed', async () => {
    const {seen, verifyItem} = recorder()
    const r = await scanPayload(stream([
      member('Applications', 'dir'),
      member('Applications/X.app', 'dir'),
      member('Applications/X.app/Contents', 'dir'),
      member('Applications/X.app/Contents/Info.plist', 'file', [Buffer.from('ab', 'hex'), Buffer.from('cdef01', 'hex')]),
      member('Applications/X.app/Contents/Current', 'symlink', [], 'Info.plist'),
      member('Applications/readme', 'file', [Buffer.from('text')]),
    ]), ctx(verifyItem))
    assert.deepEqual(seen.map(s => s.files), [{'Contents': 'dir', 'Contents/Current': '-> Info.plist', 'Contents/Info.plist': 'abcdef01'}])
    assert.ok(seen[0]!.path.endsWith('/X.app'))
    assert.equal(existsSync(seen[0]!.path), false, 'the temporary copy is removed')
    assert.deepEqual(r.findings, [])
    assert.deepEqual(r.items, [{path: 'Payload/Applications/X.app', kind: 'bundle', slices: [], findings: []}])
  })

  it('a symlink without a target cannot be staged: the bundle is unchecked', async () => {
    const {seen, verifyItem} = recorder()
    const r = await scanPayload(stream([member('X.app/Contents/L', 'symlink')]), ctx(verifyItem))
    assert.equal(seen.length, 0)
    assert.deepEqual(r.items.map(i => i.findings.map(f => f.id)), [['package.item-unchecked']])
  })

  it('AppleDouble files (._name with its magic) in a bundle are left out; a ._ file without the magic, or the magic under another name, is kept', async () => {
    const {seen, verifyItem} = recorder()
    await scanPayload(stream([
      member('X.app/Contents/._Info.plist', 'file', [APPLE_DOUBLE.subarray(0, 2), APPLE_DOUBLE.subarray(2)]),
      member('X.app/Contents/._other', 'file', [Buffer.from('00051608', 'hex')]),
      member('X.app/Contents/AD', 'file', [APPLE_DOUBLE]),
      member('X.app/Contents/._short', 'file', [Buffer.from('0005', 'hex')]),
    ]), ctx(verifyItem))
    assert.deepEqual(Object.keys(seen[0]!.files), ['Contents', 'Contents/._other', 'Contents/._short', 'Contents/AD'])
    assert.equal(seen[0]!.files['Contents/AD'], APPLE_DOUBLE.toString('hex'))
  })

  it('a Mach-O file outside a bundle, its magic split over chunks: staged whole and judged as macho; other files are not', async () => {
    const {seen, verifyItem} = recorder()
    const r = await scanPayload(stream([
      member('usr/bin/tool', 'file', [MACHO.subarray(0, 1), MACHO.subarray(1, 3), MACHO.subarray(3)]),
      member('usr/bin/script', 'file', [Buffer.from('#!/bin/sh\n')]),
      member('usr/bin/tiny', 'file', [MACHO.subarray(0, 4)]),
      member('usr/bin/three', 'file', [MACHO.subarray(0, 3)]),
      member('usr/bin/empty', 'file', []),
    ]), ctx(verifyItem))
    assert.deepEqual(seen.map(s => s.files['.']), [MACHO.toString('hex'), MACHO.subarray(0, 4).toString('hex')])
    assert.ok(seen[0]!.path.endsWith('/tool'))
    assert.deepEqual(r.items.map(i => [i.path, i.kind]), [['Payload/usr/bin/tool', 'macho'], ['Payload/usr/bin/tiny', 'macho']])
    assert.equal(existsSync(seen[0]!.path), false)
  })

  it('a bundle whose members are not stored together: checked without the late ones, each named (package or archive)', async () => {
    for (const [more, id, where] of [[{}, 'package.item-unchecked', 'Payload/X.app'], [{prefix: '', uncheckedId: 'archive.item-unchecked'}, 'archive.item-unchecked', 'X.app']] as const) {
      const {seen, verifyItem} = recorder()
      const r = await scanPayload(stream([
        member('X.app/Contents/a', 'file', [Buffer.from('01', 'hex')]),
        member('other', 'file', [Buffer.from('02', 'hex')]),
        member('X.app/Contents/b', 'file', [Buffer.from('03', 'hex')]),
        member('X.app/Contents/c', 'file', [Buffer.from('04', 'hex')]),
      ]), ctx(verifyItem, more))
      assert.deepEqual(seen.map(s => Object.keys(s.files)), [['Contents', 'Contents/a']])
      assert.deepEqual(r.findings.map(f => [f.id, f.path, f.message]), [
        [id, `k.pkg:${where}`, `k.pkg: the members of ${where} are not stored together, so esdctl checked the bundle without X.app/Contents/b`],
        [id, `k.pkg:${where}`, `k.pkg: the members of ${where} are not stored together, so esdctl checked the bundle without X.app/Contents/c`],
      ])
      assert.equal(r.items.length, 1)
    }
  })

  it('two bundles one after the other: each judged on its own', async () => {
    const {seen, verifyItem} = recorder()
    const r = await scanPayload(stream([
      member('A.app/x', 'file', [Buffer.from('01', 'hex')]),
      member('B.app/y', 'file', [Buffer.from('02', 'hex')]),
    ]), ctx(verifyItem))
    assert.deepEqual(seen.map(s => s.files), [{x: '01'}, {y: '02'}])
    assert.deepEqual(r.items.map(i => i.path), ['Payload/A.app', 'Payload/B.app'])
  })

  it('members that are not files: outside a bundle never judged as executables, inside one not staged', async () => {
    const {seen, verifyItem} = recorder()
    const outside = await scanPayload(stream([member('dev', 'other', [MACHO]), member('folder', 'dir', [MACHO]), member('link', 'symlink', [MACHO], 'x')]), ctx(verifyItem))
    assert.deepEqual(outside, {items: [], findings: []})
    assert.equal(seen.length, 0)
    await scanPayload(stream([member('A.app', 'dir'), member('A.app/fifo', 'other', [Buffer.from('zz')]), member('A.app/f', 'file', [Buffer.from('01', 'hex')])]), ctx(verifyItem))
    assert.deepEqual(seen.map(x => x.files), [{f: '01'}])
  })

  it('a body that fails with an error that is no staging error (no code): it propagates, in a bundle and for a bare executable', async () => {
    const {verifyItem} = recorder()
    const failing = (path: string, first: Buffer): CpioEntry => ({...member(path, 'file', [first]), body: async function* () {
      yield first
      throw new RangeError(`body of ${path} broke`)
    }})
    await assert.rejects(scanPayload(stream([failing('A.app/f', Buffer.from('0102', 'hex'))]), ctx(verifyItem)), /body of A\.app\/f broke/)
    await assert.rejects(scanPayload(stream([failing('tool', MACHO)]), ctx(verifyItem)), /body of tool broke/)
  })

  it('a bundle keeps the first reason it could not be taken out, whatever follows', async () => {
    const {verifyItem} = recorder()
    const r = await scanPayload(stream([
      member('L.app/L', 'symlink', [], '/etc'),
      member('L.app/L/x', 'file', [Buffer.from('01', 'hex')]),
      member('L.app/big', 'file', [Buffer.alloc(6)]),
    ]), ctx(verifyItem, {maxItemBytes: 5}))
    assert.equal(r.items.length, 1)
    assert.match(r.items[0]!.findings[0]!.message, /lies under a symbolic link/)
    assert.doesNotMatch(r.items[0]!.findings[0]!.message, /larger than/)
  })

  it('an item larger than the bound, or a member under a link, or one that cannot be written: unchecked, saying why', async () => {
    const {seen, verifyItem} = recorder()
    const r = await scanPayload(stream([
      member('Big.app/a', 'file', [Buffer.alloc(6)]),
      member('Link.app/L', 'symlink', [], '/etc'),
      member('Link.app/L/passwd', 'file', [Buffer.from('01', 'hex')]),
      member('Clash.app/f', 'file', [Buffer.from('01', 'hex')]),
      member('Clash.app/f/g', 'dir'),
      member('big-tool', 'file', [MACHO]),
    ]), ctx(verifyItem, {maxItemBytes: 5}))
    assert.deepEqual(seen, [])
    assert.deepEqual(r.items.map(i => [i.path, i.kind, i.findings.map(f => f.id)]), [
      ['Payload/Big.app', 'bundle', ['package.item-unchecked']],
      ['Payload/Link.app', 'bundle', ['package.item-unchecked']],
      ['Payload/Clash.app', 'bundle', ['package.item-unchecked']],
      ['Payload/big-tool', 'macho', ['package.item-unchecked']],
    ])
    const messages = r.items.map(i => i.findings[0]!.message)
    assert.match(messages[0]!, /^k\.pkg:Payload\/Big\.app: could not be taken out of the payload for checking \(.*larger than 5 bytes\)$/)
    assert.match(messages[1]!, /lies under a symbolic link/)
    assert.match(messages[2]!, /^k\.pkg:Payload\/Clash\.app: could not be taken out of the payload for checking \(.*E[A-Z]+/)
    assert.match(messages[3]!, /larger than 5 bytes/)
    assert.deepEqual(r.items.map(i => i.slices), [[], [], [], []])
    const archive = await scanPayload(stream([member('Big.app/a', 'file', [Buffer.alloc(6)])]), ctx(verifyItem, {maxItemBytes: 5, prefix: '', uncheckedId: 'archive.item-unchecked'}))
    assert.deepEqual(archive.items.map(i => [i.path, i.findings[0]!.id]), [['Big.app', 'archive.item-unchecked']])
    assert.match(archive.items[0]!.findings[0]!.message, /^k\.pkg:Big\.app: could not be taken out of the archive for checking/)
  })

  it('the verifier\'s findings, fix and profile name the item inside the package, not the temporary copy', async () => {
    const {verifyItem} = recorder(staged => ({
      findings: [{id: 'seal.modified', severity: 'error', path: `${staged}/Contents/x`, message: `${staged}/Contents/x and ${staged}: changed`, fix: `re-sign ${staged}`}, {id: 'seal.added', severity: 'error', path: staged, message: 'no path'}],
      profile: {path: `${staged}/Contents/embedded.provisionprofile`} as VerifyReport['profile'],
      notarization: {stapled: true, verified: true, cdhashes: ['ab']},
    }))
    const r = await scanPayload(stream([member('X.app/Contents/x', 'file', [Buffer.from('01', 'hex')])]), ctx(verifyItem))
    const item = r.items[0]!
    assert.deepEqual(item.findings, [
      {id: 'seal.modified', severity: 'error', path: 'k.pkg:Payload/X.app/Contents/x', message: 'k.pkg:Payload/X.app/Contents/x and k.pkg:Payload/X.app: changed', fix: 're-sign k.pkg:Payload/X.app'},
      {id: 'seal.added', severity: 'error', path: 'k.pkg:Payload/X.app', message: 'no path'},
    ])
    assert.equal(item.profile?.path, 'k.pkg:Payload/X.app/Contents/embedded.provisionprofile')
    assert.deepEqual(item.notarization, {stapled: true, verified: true, cdhashes: ['ab']})
    assert.equal(item.kind, 'bundle')
  })

  it('an item the verifier cannot judge: unchecked, with its reasons joined and how to check it on a Mac', async () => {
    const {verifyItem} = recorder(staged => ({kind: 'unknown', findings: [{id: 'input.unknown-kind', severity: 'error', path: staged, message: `${staged}: one`}, {id: 'input.unknown-kind', severity: 'error', path: staged, message: 'two'}]}))
    const r = await scanPayload(stream([member('tool', 'file', [MACHO])]), ctx(verifyItem))
    assert.deepEqual(r.items.map(i => [i.path, i.kind, i.slices, i.findings.map(f => [f.id, f.message, f.fix])]), [['Payload/tool', 'macho', [], [[
      'package.item-unchecked', 'k.pkg:Payload/tool: esdctl cannot verify this kind of item yet (k.pkg:Payload/tool: one; two)', 'Check it on a Mac: codesign --verify --deep --strict <path>.',
    ]]]])
  })

  it('a payload that breaks off mid-bundle: the bundle is still judged and removed, then the error propagates', async () => {
    const {seen, verifyItem} = recorder()
    await assert.rejects(scanPayload(stream([member('X.app/a', 'file', [Buffer.from('01', 'hex')])], new FormatError('cpio.truncated', 'cut')), ctx(verifyItem)), /cut/)
    assert.deepEqual(seen.map(s => s.files), [{a: '01'}])
    assert.equal(existsSync(seen[0]!.path), false)
    // A verifier that fails, on the last item or one before: its error propagates, and the copy is still removed.
    for (const entries of [[member('X.app/a', 'file', [Buffer.from('01', 'hex')])], [member('X.app/a', 'file', [Buffer.from('01', 'hex')]), member('other', 'file', [])]]) {
      let staged = ''
      await assert.rejects(scanPayload(stream(entries), ctx(async p => {
        staged = p
        throw new RangeError('verifier broke')
      })), /verifier broke/)
      assert.equal(existsSync(staged), false)
    }
  })

  it('a body that fails with something other than a staging error: it propagates', async () => {
    const failing: CpioEntry = {path: 'X.app/a', mode: 0o100644, kind: 'file', size: 8, body: async function* () {
      yield Buffer.from('0102', 'hex')
      throw new FormatError('cpio.truncated', 'body cut')
    }}
    const {verifyItem} = recorder()
    await assert.rejects(scanPayload(stream([failing]), ctx(verifyItem)), /body cut/)
    const bare: CpioEntry = {...failing, path: 'tool', body: async function* () {
      yield MACHO
      throw new FormatError('cpio.truncated', 'bare cut')
    }}
    await assert.rejects(scanPayload(stream([bare]), ctx(verifyItem)), /bare cut/)
  })
})

describe('archives, directly (verify-package mutants)', function () {
  const MACHO = Buffer.from([0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1])
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'esdctl-archive-mutants-'))
  })
  after(async () => rm(dir, {recursive: true, force: true}))

  const seen: string[] = []
  const record = async (p: string): Promise<VerifyReport> => {
    seen.push(p)
    return {ok: true, path: p, kind: 'macho', findings: [{id: 'signature.missing', severity: 'error', path: p, message: `${p}: unsigned`}], slices: []}
  }

  /** A .zip of `files` (a name ending in / is a folder), written uncompressed. */
  async function zip(name: string, files: Array<[string, Buffer?]>): Promise<string> {
    const z = new yazl.ZipFile()
    for (const [path, data] of files) {
      if (path.endsWith('/')) z.addEmptyDirectory(path)
      else z.addBuffer(data ?? Buffer.alloc(0), path, {compress: false})
    }
    z.end()
    const parts: Buffer[] = []
    for await (const c of z.outputStream) parts.push(c as Buffer)
    const out = join(dir, name)
    await writeFile(out, Buffer.concat(parts))
    return out
  }
  /** A gzip'd tarball of `files`. */
  async function tarball(name: string, files: Array<[string, Buffer]>): Promise<string> {
    const blocks: Buffer[] = []
    for (const [path, data] of files) {
      const header = new Header({path, type: 'File', size: data.length, mode: 0o755, mtime: new Date(0)})
      header.encode()
      blocks.push(header.block!, data, Buffer.alloc((512 - (data.length % 512)) % 512))
    }
    const out = join(dir, name)
    await writeFile(out, gzipSync(Buffer.concat([...blocks, Buffer.alloc(1024)])))
    return out
  }

  it('a zip: code items checked, __MACOSX/ AppleDouble files counted (plural) and not checked, a lookalike folder checked', async () => {
    seen.length = 0
    const path = await zip('a.zip', [['__MACOSX/'], ['__MACOSX/._tool', MACHO], ['__MACOSX/sub/._x', MACHO], ['tool', MACHO], ['__MACOSXY/tool2', MACHO], ['notes.txt', Buffer.from('text')]])
    const r = await verifyArchive(path, 'zip', record)
    assert.deepEqual(r.items.map(i => i.path), ['tool', '__MACOSXY/tool2'])
    assert.equal(seen.length, 2)
    assert.deepEqual(r.findings.map(f => [f.id, f.path]), [['signature.missing', `${path}:tool`], ['signature.missing', `${path}:__MACOSXY/tool2`], ['archive.apple-double', path]])
    assert.equal(r.findings[2]!.message, `${path}: 2 AppleDouble files under __MACOSX/ carry extended attributes and resource forks (ditto --sequesterRsrc); they are not code and esdctl does not check them`)
  })

  it('one AppleDouble file: said in the singular; the folder entry alone counts for nothing', async () => {
    const one = await zip('one.zip', [['__MACOSX/'], ['__MACOSX/._tool', MACHO], ['tool', MACHO]])
    const r = await verifyArchive(one, 'zip', record)
    assert.match(r.findings.find(f => f.id === 'archive.apple-double')!.message, /: 1 AppleDouble file under __MACOSX\//)
    const none = await zip('none.zip', [['__MACOSX/'], ['tool', MACHO]])
    assert.deepEqual((await verifyArchive(none, 'zip', record)).findings.map(f => f.id), ['signature.missing'])
  })

  it('an archive without code: input.unknown-kind saying what to point esdctl at', async () => {
    const path = await zip('text.zip', [['notes.txt', Buffer.from('text')], ['__MACOSX/._notes.txt', MACHO]])
    const r = await verifyArchive(path, 'zip', record)
    assert.deepEqual(r.findings.map(f => f.id), ['archive.apple-double', 'input.unknown-kind'])
    assert.equal(r.findings[1]!.message, `${path}: an archive with no app-like bundle, no Mach-O file, no .pkg and no .provisionprofile in it`)
    assert.equal(r.findings[1]!.fix, 'Point esdctl at an archive, folder or package that holds the .app, executable, .pkg or .provisionprofile.')
  })

  it('a tarball read as one; its damage is archive.malformed with the tarball\'s own fix, a zip\'s with ditto\'s', async () => {
    const path = await tarball('t.tar.gz', [['bin/tool', MACHO]])
    const r = await verifyArchive(path, 'tar', record)
    assert.deepEqual(r.items.map(i => i.path), ['bin/tool'])
    const gz = await readFile(path)
    const cut = join(dir, 'cut.tar.gz')
    await writeFile(cut, gz.subarray(0, gz.length - 12))
    const bad = await verifyArchive(cut, 'tar', record)
    assert.deepEqual(bad.findings.map(f => f.id), ['archive.malformed'])
    assert.ok(bad.findings[0]!.message.startsWith(`${cut}: `), bad.findings[0]!.message)
    assert.equal(bad.findings[0]!.fix, 'The archive is damaged (a truncated download or a changed byte): download or build it again (tar -czf <name>.tar.gz <name>.app).')
    assert.deepEqual(bad.items, [])
    const zipped = await readFile(await zip('z.zip', [['tool', MACHO]]))
    const zcut = join(dir, 'cut.zip')
    await writeFile(zcut, zipped.subarray(0, zipped.length - 30))
    const zbad = await verifyArchive(zcut, 'zip', record)
    assert.deepEqual(zbad.findings.map(f => f.id), ['archive.malformed'])
    assert.match(zbad.findings[0]!.fix!, /ditto -c -k --keepParent/)
  })

  it('ditto interleaves __MACOSX/ entries with the bundle\'s own: the bundle stays one item, its members stored together', async () => {
    // ditto -c -k --sequesterRsrc writes each file's AppleDouble entry right after it, so the
    // __MACOSX folder entry can fall between two members of one bundle.
    seen.length = 0
    const path = await zip('interleaved.zip', [
      ['App.app/Contents/MacOS/tool', MACHO], ['__MACOSX/'], ['__MACOSX/App.app/Contents/MacOS/._tool', MACHO], ['App.app/Contents/Info.plist', Buffer.from('<plist/>')],
    ])
    const r = await verifyArchive(path, 'zip', record)
    assert.deepEqual(r.items.map(i => i.path), ['App.app'])
    assert.equal(seen.length, 1)
    assert.deepEqual(r.findings.map(f => f.id), ['signature.missing', 'archive.apple-double'])
  })

  it('a format error from inside the scan: a finding whose message names the archive first; too-large codes keep their id', async () => {
    const path = await zip('tool.zip', [['tool', MACHO]])
    const damaged = await verifyArchive(path, 'zip', async () => { throw new FormatError('macho.truncated', 'the slice ends early') })
    assert.deepEqual(damaged.findings.map(f => [f.id, f.path, f.message]), [['archive.malformed', path, `${path}: the slice ends early`]])
    assert.match(damaged.findings[0]!.fix!, /ditto -c -k --keepParent/)
    const large = await verifyArchive(path, 'zip', async () => { throw new FormatError('payload.too-large', `${path}: past the bound`) })
    assert.deepEqual(large.findings.map(f => [f.id, f.message]), [['archive.too-large', `${path}: past the bound`]])
  })

  it('an error that is not about the bytes (an I/O failure) is thrown, not reported as damage', async () => {
    const path = await zip('tool.zip', [['tool', MACHO]])
    const io = Object.assign(new Error('EIO: i/o error, read'), {code: 'EIO'})
    await assert.rejects(verifyArchive(path, 'zip', async () => { throw io }), e => e === io)
  })

  it('past a bound: archive.too-large, the message naming the archive once', async () => {
    const path = await tarball('big.tar.gz', [['bin/tool', MACHO], ['bin/other', MACHO]])
    const r = await verifyArchive(path, 'tar', record, {...DEFAULT_ARCHIVE_LIMITS, maxEntries: 1})
    assert.deepEqual(r.findings.map(f => f.id), ['archive.too-large'])
    assert.equal(r.findings[0]!.fix, undefined)
    assert.ok(r.findings[0]!.message.startsWith(`${path}: `))
    assert.ok(!r.findings[0]!.message.startsWith(`${path}: ${path}`), r.findings[0]!.message)
  })
})
