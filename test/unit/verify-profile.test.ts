import assert from 'node:assert/strict'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {ExitCode} from '../../src/exit-codes.js'
import {readProvisioningProfile} from '../../src/trust/provisioning-profile.js'
import {TrustStore} from '../../src/trust/trust-store.js'
import {verifyPath} from '../../src/verify/verify-path.js'
import {expectFinding} from '../support/expect-finding.js'
import {realProfile} from '../support/real-artifacts.js'
import {skipBecause} from '../support/skip.js'
import {createTestPki, signProfile} from '../support/test-pki.js'

const FAILED = ExitCode.verificationFailed
/** Before every real profile here expired (credctl's expired on 2026-03-06). */
const EARLY_2026 = new Date('2026-01-15T00:00:00Z')

describe('esdctl verify on a real profile file', () => {
  it('translatium (2021, NumericString Version): refused for a daemon as expired and app-store, never as malformed', async function () {
    const path = realProfile('translatium-5c695e9')
    if (!path) skipBecause(this, 'fixtures-absent')
    const r = await verifyPath(path!, {now: new Date('2026-01-15T00:00:00Z')})
    assert.equal(r.ok, false)
    assert.deepEqual(r.findings.map(f => f.id).sort(), ['profile.expired', 'profile.kind'])
    const kind = expectFinding(r, {id: 'profile.kind', severity: 'error', exitCode: FAILED})
    assert.match(kind.message, /: an app-store profile cannot authorise/)
    assert.equal(r.profile?.kind, 'app-store')
  })

  describe('real profiles, damaged or re-signed in a temporary folder', () => {
    let dir: string
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'esdctl-profile-'))
    })
    after(() => rm(dir, {recursive: true, force: true}))

    function fixture(ctx: Mocha.Context, name: Parameters<typeof realProfile>[0]): string {
      const path = realProfile(name)
      if (!path) skipBecause(ctx, 'fixtures-absent')
      return path!
    }

    async function written(name: string, bytes: Buffer): Promise<string> {
      const path = join(dir, name)
      await writeFile(path, bytes)
      return path
    }

    it("a letter of the profile's Name changed: Apple's signature no longer verifies → profile.signature-invalid", async function () {
      const bytes = await readFile(fixture(this, 'processmonitor-devid-es'))
      const at = bytes.indexOf('<key>Name</key>')
      const name = bytes.indexOf('<string>', at) + '<string>'.length
      bytes[name] = bytes[name]! ^ 0x20
      const r = await verifyPath(await written('edited.provisionprofile', bytes), {now: EARLY_2026})
      expectFinding(r, {id: 'profile.signature-invalid', severity: 'error', exitCode: FAILED})
      assert.deepEqual(r.findings.map(f => f.id), ['profile.signature-invalid'])
    })

    it('cut short: not a profile at all → profile.malformed', async function () {
      const bytes = await readFile(fixture(this, 'processmonitor-devid-es'))
      const r = await verifyPath(await written('cut.provisionprofile', bytes.subarray(0, bytes.length >> 1)), {now: EARLY_2026})
      expectFinding(r, {id: 'profile.malformed', severity: 'error', exitCode: FAILED})
    })

    it('a development profile, before it expired → profile.development (a warning: it runs only on the listed Mac)', async function () {
      const r = await verifyPath(fixture(this, 'credctl-development-expired'), {now: EARLY_2026})
      const f = expectFinding(r, {id: 'profile.development', severity: 'warning', exitCode: ExitCode.ok})
      assert.match(f.message, /only on the 1 Mac\(s\) it lists/)
    })

    /**
     * Karabiner's real profile, its plist changed by `edit` and signed again by the test profile
     * signer; Apple's own DER-Encoded-Profile inside stays as Apple made it unless `edit` changes it.
     * Judged against Apple's roots and the test root together, so only the edit can fail it.
     */
    async function resignedKarabiner(ctx: Mocha.Context, edit: (plist: string) => string) {
      const pki = await createTestPki()
      const trust = new TrustStore([...TrustStore.apple().anchors, ...pki.anchors])
      const original = await readProvisioningProfile(await readFile(fixture(ctx, 'karabiner-daemon-devid')), {trust, now: EARLY_2026})
      const xml = edit(original.cms.content!.toString('utf8'))
      const path = await written('resigned.provisionprofile', await signProfile(Buffer.from(xml, 'utf8'), pki.profileSigner, {signingTime: EARLY_2026}))
      return verifyPath(path, {trust, now: EARLY_2026})
    }

    it('re-signed unchanged, it passes: the set-up the next two cases rely on', async function () {
      const r = await resignedKarabiner(this, xml => xml)
      assert.deepEqual(r.findings, [])
    })

    it("the plist's Name edited, Apple's DER-Encoded-Profile kept → profile.der-mismatch naming Name", async function () {
      const r = await resignedKarabiner(this, xml => xml.replace('<string>Developer ID Karabiner-VirtualHIDDevice-Daemon</string>', '<string>Developer ID Something Else</string>'))
      const f = expectFinding(r, {id: 'profile.der-mismatch', severity: 'error', exitCode: FAILED})
      assert.match(f.message, /disagrees with the plist \(Name\)/)
    })

    it("a byte inside Apple's DER-Encoded-Profile changed → profile.der-signature-invalid", async function () {
      const r = await resignedKarabiner(this, xml => xml.replace(/(<key>DER-Encoded-Profile<\/key>\s*<data>)([^<]+)(<\/data>)/, (_, open: string, data: string, close: string) => {
        const der = Buffer.from(data.replace(/\s+/g, ''), 'base64')
        const at = der.indexOf('Karabiner')
        der[at] = der[at]! ^ 0x20
        return `${open}${der.toString('base64')}${close}`
      }))
      expectFinding(r, {id: 'profile.der-signature-invalid', severity: 'error', exitCode: FAILED})
      assert.deepEqual(r.findings.map(f => f.id), ['profile.der-signature-invalid'])
    })
  })
})
