// The signature checks' rarer inputs, each built on purpose (issue 14, area verify-checks): a CMS
// whose signer certificate is missing, a chain that fails on dates while the leaf has not expired,
// Apple's 100.9.2 hash list naming the wrong algorithm or digest, and a file that changes between
// the read of its signature and the hashing of its pages.
import {strict as assert} from 'node:assert'
import {writeFile} from 'node:fs/promises'
import {truncateSync, writeSync, openSync, closeSync} from 'node:fs'
import {join} from 'node:path'
import {PageHashPool} from '../../src/io/page-hash-pool.js'
import type {Finding} from '../../src/verify/finding.js'
import {verifyPath} from '../../src/verify/verify-path.js'
import {buildCms, makeCertificate} from '../support/cms-builder.js'
import {buildSignedMachO} from '../support/macho-writer.js'
import type {SignOptions} from '../support/signature-writer.js'
import {OID, signCodeDirectories} from '../support/test-pki.js'
import {signingKitSuite} from '../support/signing-kit-suite.js'

const TEAM = 'ESDTEST001'
const NOW = new Date('2026-11-26T12:00:00Z')
const CODE_SIZE = 40_000

describe('verify checks: rare signatures and files that change while read', () => {
  const kit = signingKitSuite(TEAM, NOW, 'esdctl-sigmut-')
  let n = 0

  /** A thin arm64 Developer ID executable of CODE_SIZE bytes of code (10 pages), its CMS made by `cms`. */
  async function binary(sign: Partial<SignOptions>, cms: SignOptions['cms']): Promise<string> {
    const path = join(kit.work, `bin${n++}`)
    await writeFile(path, await buildSignedMachO({arch: 'arm64', codeSize: CODE_SIZE}, {identifier: 'com.example.esd', teamId: TEAM, flags: 0x10000, cms, ...sign}))
    return path
  }

  /** The findings with the file written `<file>`. */
  async function findings(path: string, opts: Parameters<typeof verifyPath>[1] = {}): Promise<Finding[]> {
    const r = await verifyPath(path, {trust: kit.pki.trust, now: NOW, ...opts})
    return r.findings.map(f => ({...f, path: f.path.split(path).join('<file>'), message: f.message.split(path).join('<file>')}))
  }

  const UNTRUSTED_FIX = 'Sign with a certificate issued by Apple (Developer ID Application for software shipped outside the App Store).'
  const CDHASH_FIX = 'Sign again with a current codesign; the signature does not vouch for every CodeDirectory it carries.'

  describe('the CMS', () => {
    it('a CMS without its signer certificate: invalid and untrusted, saying why, and naming no signer', async () => {
      const signer = await makeCertificate({cn: 'esdctl absent signer'})
      const other = await makeCertificate({cn: 'esdctl bystander'})
      const path = await binary({}, async cds => buildCms({signer, content: cds[0]!, attached: false, certificates: [other.der]}))
      const cms = (await findings(path)).filter(f => f.id.startsWith('cms.'))
      assert.deepEqual(cms.map(f => [f.id, f.message]), [
        ['cms.signature-invalid', '<file> [arm64]: the CMS signature does not verify over the CodeDirectory (the signer certificate is not in the CMS certificate set); the signature was altered or belongs to other code'],
        ['cms.untrusted', '<file> [arm64]: the signing certificate does not chain to a trusted Apple root (the signer certificate is not in the CMS certificate set)'],
      ])
      assert.equal(cms[1]!.fix, UNTRUSTED_FIX)
    })

    it('a chain that reaches the anchor but fails on a kit.leaf not yet valid is untrusted, not expired', async () => {
      const early = await kit.pki.developerId(TEAM, {notBefore: new Date(NOW.getTime() + 86_400_000), notAfter: new Date('2030-01-01T00:00:00Z')})
      const path = await binary({}, cds => signCodeDirectories({codeDirectories: cds, identity: early, signingTime: NOW}))
      const cms = (await findings(path)).filter(f => f.id.startsWith('cms.'))
      assert.deepEqual(cms.map(f => f.id), ['cms.untrusted'])
      assert.match(cms[0]!.message, /is valid from 2026-11-27T12:00:00\.000Z to 2030-01-01T00:00:00\.000Z, not at 2026-11-26T12:00:00\.000Z\); signer "Developer ID Application: /)
    })

    it('a kit.leaf whose validity ends at this very moment has not expired, even when its chain fails on another date', async () => {
      // A window that ends now but opens a second later: the chain fails on notBefore, never on notAfter.
      const odd = await kit.pki.developerId(TEAM, {notBefore: new Date(NOW.getTime() + 1000), notAfter: NOW})
      const path = await binary({}, cds => signCodeDirectories({codeDirectories: cds, identity: odd, signingTime: NOW}))
      assert.deepEqual((await findings(path)).filter(f => f.id.startsWith('cms.')).map(f => f.id), ['cms.untrusted'])
    })

    describe("Apple's 100.9.2 list must name each CodeDirectory with its own algorithm and its full hash", () => {
      const forged = (forge: (e: Array<{oid: string; digest: Buffer}>) => Array<{oid: string; digest: Buffer}>) =>
        binary({hashTypes: [1, 2]}, cds => signCodeDirectories({codeDirectories: cds, identity: kit.leaf, signingTime: NOW, forgeDigests: forge}))
      const mismatch = async (path: string) => (await findings(path)).filter(f => f.id.startsWith('cms.'))

      it('the list as codesign writes it passes', async () => {
        assert.deepEqual(await mismatch(await forged(e => e)), [])
      })

      it('the SHA-256 CodeDirectory\'s hash under another algorithm is not listed', async () => {
        const path = await forged(([sha1, sha256]) => [sha1!, {oid: OID.sha384, digest: sha256!.digest}])
        const found = await mismatch(path)
        assert.deepEqual(found.map(f => [f.id, f.message, f.fix]), [
          ['cms.cdhashes-mismatch', '<file> [arm64]: the signed hash list (1.2.840.113635.100.9.2) does not include the sha256 CodeDirectory', CDHASH_FIX],
        ])
      })

      it('a SHA-256 entry whose digest is not the CodeDirectory\'s is not listed', async () => {
        const path = await forged(([sha1, sha256]) => [sha1!, {oid: sha256!.oid, digest: Buffer.alloc(32, 0x5a)}])
        assert.deepEqual((await mismatch(path)).map(f => f.message), [
          '<file> [arm64]: the signed hash list (1.2.840.113635.100.9.2) does not include the sha256 CodeDirectory',
        ])
      })
    })
  })

  describe('a file changed between reading its signature and hashing its pages', () => {
    /**
     * Verifies with a one-worker pool whose acquire() first runs `change`: the moment the pages are
     * about to be hashed, after the signature was read and the file opened again for its pages.
     */
    async function verifyChangingAt(path: string, change: () => void): Promise<Finding[]> {
      const pool = PageHashPool.start(1)
      const acquire = pool.acquire.bind(pool)
      let changed = 0
      pool.acquire = () => {
        change()
        changed++
        return acquire()
      }
      try {
        const found = await findings(path, {pageHashing: {parallel: 1, pool}})
        assert.equal(changed, 1, 'the pages were hashed through the given pool, once')
        return found
      } finally {
        await pool.close()
      }
    }

    it('cut short: input.unreadable, saying the file changed while read, and nothing about the signature', async () => {
      const path = await binary({}, cds => signCodeDirectories({codeDirectories: cds, identity: kit.leaf, signingTime: NOW}))
      const found = await verifyChangingAt(path, () => truncateSync(path, 5000))
      assert.deepEqual(found.map(f => f.id), ['input.unreadable'])
      const [f] = found
      assert.equal(f!.path, '<file>')
      assert.match(f!.message, /^<file> \[arm64\]: the signed code pages could not be read, the file changed while esdctl read it \(<file>: .+\)$/)
      assert.equal(f!.fix, 'Verify it again once nothing is writing to it.')
    })

    it('rewritten in place: the changed page is found, the file does not pass', async () => {
      const path = await binary({}, cds => signCodeDirectories({codeDirectories: cds, identity: kit.leaf, signingTime: NOW}))
      const found = await verifyChangingAt(path, () => {
        const fd = openSync(path, 'r+')
        try {
          writeSync(fd, Buffer.alloc(16, 0xcc), 0, 16, 3 * 4096 + 100)
        } finally {
          closeSync(fd)
        }
      })
      assert.deepEqual(found.map(f => f.id), ['signature.code-modified'])
      assert.match(found[0]!.message, /^<file> \[arm64\]: 1 of 10 code pages do not match their signed hashes: page 3 \(bytes 12288–16383\)\./)
    })
  })
})
