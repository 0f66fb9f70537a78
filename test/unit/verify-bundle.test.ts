import {strict as assert} from 'node:assert'
import {copyFile, mkdir, readFile, rm, unlink, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import * as plist from 'plist'
import {ExitCode} from '../../src/exit-codes.js'
import {parseFileLayout} from '../../src/formats/macho.js'
import {ENDPOINT_SECURITY} from '../../src/verify/restricted-entitlements.js'
import type {VerifyReport} from '../../src/verify/report.js'
import {verifyPath} from '../../src/verify/verify-path.js'
import {buildBundle, type BundleSpec} from '../support/bundle-builder.js'
import {expectFinding} from '../support/expect-finding.js'
import {buildProfilePlist, type ProfileSpec} from '../support/profile-builder.js'
import {signProfile} from '../support/test-pki.js'
import {signingKitSuite} from '../support/signing-kit-suite.js'

const TEAM = 'ESDTEST001'
const OTHER_TEAM = 'OTHERTEAM9'
const BUNDLE_ID = 'com.example.esd'
const NOW = new Date('2026-11-26T12:00:00Z')
const IN_A_YEAR = new Date('2027-11-26T12:00:00Z')
const FAILED = ExitCode.verificationFailed

function errorIds(r: VerifyReport): string[] {
  return r.findings.filter(f => f.severity === 'error').map(f => f.id).sort()
}

describe('verify: app-like bundles (test PKI, full ES case and every mismatch)', function () {
  this.timeout(60_000)
  const suite = signingKitSuite(TEAM, NOW, 'esdctl-bundle-')
  let n = 0

  async function bundle(spec: Partial<BundleSpec> = {}): Promise<string> {
    const dir = join(suite.work, `b${n++}`)
    return buildBundle({dir, name: 'esd', bundleId: BUNDLE_ID, teamId: TEAM, version: '1.2.3', codeSize: 64 * 1024, identity: suite.leaf, ...spec})
  }

  async function profile(spec: Partial<ProfileSpec> = {}): Promise<Buffer> {
    const full: ProfileSpec = {
      teamId: TEAM,
      appId: `${TEAM}.${BUNDLE_ID}`,
      kind: 'developer-id',
      expires: IN_A_YEAR,
      developerCertificates: [suite.leaf.certDer],
      entitlements: {
        'com.apple.application-identifier': `${TEAM}.${BUNDLE_ID}`,
        'com.apple.developer.team-identifier': TEAM,
        'keychain-access-groups': [`${TEAM}.*`],
        [ENDPOINT_SECURITY]: true,
      },
      ...spec,
    }
    return signProfile(buildProfilePlist(full), suite.pki.profileSigner)
  }

  const exe = (app: string) => join(app, 'Contents', 'MacOS', 'esd')

  it('accepts the full positive case: Developer ID bundle with the ES entitlement and a matching profile', async () => {
    const app = await bundle({profile: await profile()})
    const r = await verifyPath(app, suite.opts)
    assert.deepEqual(errorIds(r), [])
    assert.equal(r.ok, true)
    assert.equal(r.kind, 'bundle')
    assert.equal(r.slices[0]!.signer, 'developer-id')
    assert.equal(r.slices[0]!.signerSha256, suite.leaf.info.sha256)
    assert.equal(r.slices[0]!.teamId, TEAM)
    assert.equal(r.slices[0]!.entitlements[ENDPOINT_SECURITY], true)
    assert.equal(r.profile?.kind, 'developer-id')
    assert.equal(r.profile?.appId, `${TEAM}.${BUNDLE_ID}`)
  })

  it('does not trust the test root in production: the default store holds only Apple roots', async () => {
    const app = await bundle({profile: await profile()})
    const r = await verifyPath(app, {now: NOW})
    expectFinding(r, {id: 'cms.untrusted', severity: 'error', exitCode: FAILED})
    expectFinding(r, {id: 'profile.untrusted', severity: 'error', exitCode: FAILED})
  })

  it('checks every slice of a universal main executable', async () => {
    const app = await bundle({profile: await profile(), arch: ['x86_64', 'arm64']})
    const clean = await verifyPath(app, suite.opts)
    assert.deepEqual(errorIds(clean), [])
    assert.deepEqual(clean.slices.map(s => s.arch), ['x86_64', 'arm64'])
    const bytes = await readFile(exe(app))
    const second = parseFileLayout(bytes.subarray(0, 4096), bytes.length).slices[1]!
    bytes[second.offset + 8192]! ^= 0x01
    await writeFile(exe(app), bytes)
    const r = await verifyPath(app, suite.opts)
    assert.deepEqual(errorIds(r), ['signature.code-modified'])
    assert.match(r.findings[0]!.message, /\[arm64\]/)
  })

  describe('tampering: each change gives its own finding', () => {
    let pristine: string
    before(async () => {
      pristine = await bundle({profile: await profile(), extraFiles: {'Resources/esd.conf': Buffer.from('threads=4\n')}})
    })

    async function copyOf(): Promise<string> {
      const dir = join(suite.work, `t${n++}`)
      const {cp} = await import('node:fs/promises')
      await cp(pristine, join(dir, 'esd.app'), {recursive: true, verbatimSymlinks: true})
      return join(dir, 'esd.app')
    }

    async function flip(path: string, at: (b: Buffer) => number): Promise<void> {
      const b = await readFile(path)
      b[at(b)]! ^= 0x01
      await writeFile(path, b)
    }

    it('the pristine copy passes', async () => {
      assert.deepEqual(errorIds(await verifyPath(await copyOf(), suite.opts)), [])
    })

    it('a byte in a code page → signature.code-modified', async () => {
      const app = await copyOf()
      await flip(exe(app), () => 5000)
      const r = await verifyPath(app, suite.opts)
      assert.deepEqual(errorIds(r), ['signature.code-modified'])
      expectFinding(r, {id: 'signature.code-modified', severity: 'error', exitCode: FAILED})
    })

    it('a byte in Info.plist → signature.info-plist-modified', async () => {
      const app = await copyOf()
      const p = join(app, 'Contents', 'Info.plist')
      await flip(p, b => b.indexOf('1.2.3') + 2)
      const r = await verifyPath(app, suite.opts)
      assert.deepEqual(errorIds(r), ['signature.info-plist-modified'])
      const f = expectFinding(r, {id: 'signature.info-plist-modified', severity: 'error', exitCode: FAILED})
      // Named by the file that changed, not the executable whose signature binds it.
      assert.equal(f.path, p)
      assert.match(f.message, /MacOS\/esd \[\w+\]: Info\.plist changed after signing \(its hash no longer matches special slot −1\); macOS rejects the signature$/)
      assert.equal(f.fix, 'Sign the file again (codesign --force --sign …) after the last change to it, and ship exactly the signed bytes.')
    })

    it('a byte in the entitlements → signature.entitlements-modified', async () => {
      const app = await copyOf()
      await flip(exe(app), b => b.indexOf('endpoint-security') + 3)
      expectFinding(await verifyPath(app, suite.opts), {id: 'signature.entitlements-modified', severity: 'error', exitCode: FAILED})
    })

    it('a byte in the CMS → cms.signature-invalid (or undecodable)', async () => {
      const app = await copyOf()
      const b = await readFile(exe(app))
      const marker = b.lastIndexOf(Buffer.from([0xfa, 0xde, 0x0b, 0x01]))
      b[marker + 8 + (b.readUInt32BE(marker + 4) - 8) - 20]! ^= 0x01
      await writeFile(exe(app), b)
      const r = errorIds(await verifyPath(app, suite.opts))
      assert.ok(r.includes('cms.signature-invalid') || r.includes('cms.malformed'), r.join(','))
    })

    it('a byte in a sealed resource → seal.modified', async () => {
      const app = await copyOf()
      await flip(join(app, 'Contents', 'Resources', 'esd.conf'), () => 0)
      const r = await verifyPath(app, suite.opts)
      assert.deepEqual(errorIds(r), ['seal.modified'])
      expectFinding(r, {id: 'seal.modified', severity: 'error', exitCode: FAILED})
    })

    it('a byte in CodeResources → signature.code-resources-modified', async () => {
      const app = await copyOf()
      const seal = join(app, 'Contents', '_CodeSignature', 'CodeResources')
      await flip(seal, b => b.indexOf('<key>files2</key>') - 30)
      const f = expectFinding(await verifyPath(app, suite.opts), {id: 'signature.code-resources-modified', severity: 'error', exitCode: FAILED})
      assert.equal(f.path, seal)
      assert.match(f.message, /\[\w+\]: CodeResources \(the bundle seal\) changed after signing \(its hash no longer matches special slot −3\); macOS rejects the signature$/)
    })

    it('an added file → seal.added', async () => {
      const app = await copyOf()
      await writeFile(join(app, 'Contents', 'Resources', 'extra.txt'), 'x')
      const r = await verifyPath(app, suite.opts)
      assert.deepEqual(errorIds(r), ['seal.added'])
      expectFinding(r, {id: 'seal.added', severity: 'error', exitCode: FAILED})
    })

    it('a removed file → seal.missing', async () => {
      const app = await copyOf()
      await unlink(join(app, 'Contents', 'Resources', 'esd.conf'))
      const r = await verifyPath(app, suite.opts)
      assert.deepEqual(errorIds(r), ['seal.missing'])
      expectFinding(r, {id: 'seal.missing', severity: 'error', exitCode: FAILED})
    })

    it('a copy of the daemon in Contents/MacOS → bundle.nested-restricted with the fix', async () => {
      const app = await copyOf()
      await copyFile(exe(app), join(app, 'Contents', 'MacOS', 'esd2'))
      const r = await verifyPath(app, suite.opts)
      const f = expectFinding(r, {id: 'bundle.nested-restricted', severity: 'error', exitCode: FAILED})
      assert.match(f.message, /MacOS\/esd2 claims com\.apple\.developer\.endpoint-security\.client but is not the bundle's main executable; macOS will kill it \(Killed: 9\)/)
      assert.match(f.fix!, /its own bundle, App ID and provisioning profile/)
    })

    it('a removed profile → profile.missing', async () => {
      const app = await copyOf()
      await unlink(join(app, 'Contents', 'embedded.provisionprofile'))
      expectFinding(await verifyPath(app, suite.opts), {id: 'profile.missing', severity: 'error', exitCode: FAILED})
    })

    /** Rewrites the copy's Info.plist through `edit` (the signature then no longer matches it, as after any hand edit). */
    async function editInfo(app: string, edit: (info: Record<string, unknown>) => void): Promise<void> {
      const path = join(app, 'Contents', 'Info.plist')
      const info = plist.parse(await readFile(path, 'utf8')) as Record<string, unknown>
      edit(info)
      await writeFile(path, plist.build(info as Parameters<typeof plist.build>[0]))
    }

    it('a removed Info.plist → bundle.info-plist-missing; one that is no plist → bundle.info-plist-malformed', async () => {
      const gone = await copyOf()
      await unlink(join(gone, 'Contents', 'Info.plist'))
      expectFinding(await verifyPath(gone, suite.opts), {id: 'bundle.info-plist-missing', severity: 'error', exitCode: FAILED})
      const garbled = await copyOf()
      await writeFile(join(garbled, 'Contents', 'Info.plist'), 'CFBundleExecutable = esd;\n')
      expectFinding(await verifyPath(garbled, suite.opts), {id: 'bundle.info-plist-malformed', severity: 'error', exitCode: FAILED})
    })

    it('Info.plist without CFBundleExecutable or CFBundleIdentifier → the missing key is named', async () => {
      const noExe = await copyOf()
      await editInfo(noExe, info => delete info['CFBundleExecutable'])
      expectFinding(await verifyPath(noExe, suite.opts), {id: 'bundle.executable-key-missing', severity: 'error', exitCode: FAILED})
      const noId = await copyOf()
      await editInfo(noId, info => delete info['CFBundleIdentifier'])
      expectFinding(await verifyPath(noId, suite.opts), {id: 'bundle.identifier-missing', severity: 'error', exitCode: FAILED})
    })

    it('CFBundleExecutable leading out of Contents/MacOS → bundle.bad-executable-name', async () => {
      const app = await copyOf()
      await editInfo(app, info => (info['CFBundleExecutable'] = '../Resources/esd.conf'))
      expectFinding(await verifyPath(app, suite.opts), {id: 'bundle.bad-executable-name', severity: 'error', exitCode: FAILED})
    })

    it('the main executable removed → bundle.executable-missing; replaced by a wrapper script → macho.not-macho', async () => {
      const gone = await copyOf()
      await unlink(exe(gone))
      expectFinding(await verifyPath(gone, suite.opts), {id: 'bundle.executable-missing', severity: 'error', exitCode: FAILED})
      const script = await copyOf()
      await writeFile(exe(script), '#!/bin/sh\nexec /opt/esd/libexec/esd "$@"\n')
      const f = expectFinding(await verifyPath(script, suite.opts), {id: 'macho.not-macho', severity: 'error', exitCode: FAILED})
      assert.match(f.fix!, /put it back in the bundle and sign the bundle again/)
    })

    it('folders nested deeper than any real bundle → bundle.unreadable, without walking them all', async () => {
      const app = await copyOf()
      await mkdir(join(app, 'Contents', 'Resources', ...Array.from({length: 70}, (_, i) => `d${i}`)), {recursive: true})
      expectFinding(await verifyPath(app, suite.opts), {id: 'bundle.unreadable', severity: 'error', exitCode: FAILED})
    })

    it('the seal removed → seal.absent; replaced by something that is no seal → seal.malformed', async () => {
      const gone = await copyOf()
      await unlink(join(gone, 'Contents', '_CodeSignature', 'CodeResources'))
      expectFinding(await verifyPath(gone, suite.opts), {id: 'seal.absent', severity: 'error', exitCode: FAILED})
      const garbled = await copyOf()
      await writeFile(join(garbled, 'Contents', '_CodeSignature', 'CodeResources'), '<?xml version="1.0"?><plist version="1.0"><array/></plist>')
      expectFinding(await verifyPath(garbled, suite.opts), {id: 'seal.malformed', severity: 'error', exitCode: FAILED})
    })
  })

  describe('how the main executable is signed against its bundle', () => {
    it('signed without binding Info.plist or the seal → signature.info-plist-unbound, signature.code-resources-unbound', async () => {
      const noInfo = await bundle({profile: await profile(), signOverrides: {infoPlist: undefined}})
      const whole = 'Sign the whole bundle (codesign … path/to/<name>.app), not just the executable inside it.'
      const info = expectFinding(await verifyPath(noInfo, suite.opts), {id: 'signature.info-plist-unbound', severity: 'error', exitCode: FAILED})
      assert.match(info.message, /MacOS\/esd \[\w+\]: the signature does not bind Info\.plist \(special slot −1 is empty\), so the bundle is not sealed$/)
      assert.equal(info.fix, whole)
      const noSeal = await bundle({profile: await profile(), signOverrides: {codeResources: undefined}})
      const seal = expectFinding(await verifyPath(noSeal, suite.opts), {id: 'signature.code-resources-unbound', severity: 'error', exitCode: FAILED})
      assert.match(seal.message, /MacOS\/esd \[\w+\]: the signature does not bind CodeResources \(the bundle seal\) \(special slot −3 is empty\), so the bundle is not sealed$/)
      assert.equal(seal.fix, whole)
    })

    it("signed with an identifier other than CFBundleIdentifier → bundle.identifier-mismatch (a warning)", async () => {
      const app = await bundle({profile: await profile(), signOverrides: {identifier: 'com.example.esd-tool'}})
      const f = expectFinding(await verifyPath(app, suite.opts), {id: 'bundle.identifier-mismatch', severity: 'warning', exitCode: ExitCode.ok})
      assert.match(f.message, /CFBundleIdentifier is com\.example\.esd but the executable is signed as com\.example\.esd-tool/)
    })

    it('the executable inside a bundle given alone → entitlements.verify-the-bundle (information: its profile is in the bundle)', async () => {
      const app = await bundle({profile: await profile()})
      const f = expectFinding(await verifyPath(exe(app), suite.opts), {id: 'entitlements.verify-the-bundle', severity: 'info', exitCode: ExitCode.ok})
      assert.match(f.message, /verify the bundle \(.*esd\.app\) to check it/)
    })

    it('no CFBundleShortVersionString nor CFBundleVersion → bundle.version-missing (a warning)', async () => {
      const app = await bundle({profile: await profile(), version: ''})
      expectFinding(await verifyPath(app, suite.opts), {id: 'bundle.version-missing', severity: 'warning', exitCode: ExitCode.ok})
    })
  })

  it('a directory sealed as nested code that is no bundle is named as not verified in depth, never as modified', async () => {
    // The seal names Kit.framework as nested code; on disk it becomes a plain folder.
    const nested = await bundle({profile: await profile(), nestedBundles: ['Frameworks/Kit.framework']})
    const kit = join(nested, 'Contents', 'Frameworks', 'Kit.framework')
    await rm(kit, {recursive: true})
    await mkdir(join(kit, 'Stuff'), {recursive: true})
    await writeFile(join(kit, 'Stuff', 'a.txt'), 'a')
    const r = await verifyPath(nested, suite.opts)
    assert.deepEqual(errorIds(r), [])
    const f = expectFinding(r, {id: 'seal.nested-bundle-unchecked', severity: 'warning', exitCode: ExitCode.ok})
    assert.match(f.message, /Kit\.framework is sealed as nested code .* not a recognisable bundle/)
  })

  it('a second executable sealed in the bundle still dies if it claims ES', async () => {
    const app = await bundle({profile: await profile(), extraExecutables: [{name: 'esd-helper', identical: true}]})
    assert.deepEqual(errorIds(await verifyPath(app, suite.opts)), ['bundle.nested-restricted'])
  })

  describe('profile against the signed executable', () => {
    it('expired profile → profile.expired; within 30 days → warning', async () => {
      const app = await bundle({profile: await profile({expires: new Date('2026-11-01T00:00:00Z')})})
      expectFinding(await verifyPath(app, suite.opts), {id: 'profile.expired', severity: 'error', exitCode: FAILED})
      const soon = await bundle({profile: await profile({expires: new Date('2026-12-10T00:00:00Z')})})
      const r = await verifyPath(soon, suite.opts)
      assert.deepEqual(errorIds(r), [])
      expectFinding(r, {id: 'profile.expires-soon', severity: 'warning', exitCode: ExitCode.ok})
    })

    it('app id not covered → profile.app-id-mismatch; a TEAM.* wildcard covers it', async () => {
      const wrong = await bundle({profile: await profile({appId: `${TEAM}.com.example.other`, entitlements: {'com.apple.application-identifier': `${TEAM}.com.example.other`, [ENDPOINT_SECURITY]: true, 'com.apple.developer.team-identifier': TEAM}})})
      expectFinding(await verifyPath(wrong, suite.opts), {id: 'profile.app-id-mismatch', severity: 'error', exitCode: FAILED})
      const wild = await bundle({profile: await profile({appId: `${TEAM}.*`, entitlements: {'com.apple.application-identifier': `${TEAM}.*`, [ENDPOINT_SECURITY]: true, 'com.apple.developer.team-identifier': TEAM}})})
      assert.deepEqual(errorIds(await verifyPath(wild, suite.opts)), [])
    })

    it('entitlements without com.apple.application-identifier → profile.app-id-missing', async () => {
      const app = await bundle({profile: await profile(), entitlements: {'com.apple.developer.team-identifier': TEAM, [ENDPOINT_SECURITY]: true}})
      const f = expectFinding(await verifyPath(app, suite.opts), {id: 'profile.app-id-missing', severity: 'error', exitCode: FAILED})
      assert.match(f.fix!, new RegExp(`com\\.apple\\.application-identifier = ${TEAM}\\.${BUNDLE_ID.replace(/\./g, '\\.')}`))
    })

    it('ES not allowed by the profile → profile.entitlement-not-allowed naming ES', async () => {
      const app = await bundle({profile: await profile({entitlements: {'com.apple.application-identifier': `${TEAM}.${BUNDLE_ID}`, 'com.apple.developer.team-identifier': TEAM}})})
      const r = await verifyPath(app, suite.opts)
      assert.deepEqual(errorIds(r), ['profile.entitlement-not-allowed'])
      assert.match(expectFinding(r, {id: 'profile.entitlement-not-allowed', severity: 'error', exitCode: FAILED}).message, /endpoint-security/)
    })

    it('the code claims com.apple.developer.team-identifier but the profile does not list it → not allowed, naming it', async () => {
      const app = await bundle({profile: await profile({entitlements: {'com.apple.application-identifier': `${TEAM}.${BUNDLE_ID}`, [ENDPOINT_SECURITY]: true}})})
      const r = await verifyPath(app, suite.opts)
      assert.deepEqual(errorIds(r), ['profile.entitlement-not-allowed'])
      const f = r.findings.find(x => x.id === 'profile.entitlement-not-allowed')!
      assert.match(f.message, /claims com\.apple\.developer\.team-identifier but the profile/)
      assert.match(f.fix!, /team-identifier/)
    })

    it('another team\'s profile → profile.team-mismatch', async () => {
      const other = await suite.pki.developerId(OTHER_TEAM)
      const app = await bundle({profile: await profile({teamId: OTHER_TEAM, developerCertificates: [other.certDer]})})
      expectFinding(await verifyPath(app, suite.opts), {id: 'profile.team-mismatch', severity: 'error', exitCode: FAILED})
    })

    it('signing certificate not in DeveloperCertificates → profile.certificate-not-listed', async () => {
      const other = await suite.pki.developerId(TEAM, {commonName: 'Developer ID Application: Someone Else (ESDTEST001)'})
      const app = await bundle({profile: await profile({developerCertificates: [other.certDer]})})
      const r = await verifyPath(app, suite.opts)
      assert.deepEqual(errorIds(r), ['profile.certificate-not-listed'])
      expectFinding(r, {id: 'profile.certificate-not-listed', severity: 'error', exitCode: FAILED})
    })

    it('a development profile only warns that it runs on the listed Macs', async () => {
      const dev = await suite.pki.appleDevelopment(TEAM)
      const app = await bundle({identity: dev, profile: await profile({kind: 'development', devices: ['00008103-000A1B2C3D4E5F60'], developerCertificates: [dev.certDer]})})
      const r = await verifyPath(app, suite.opts)
      assert.equal(r.profile?.kind, 'development')
      assert.equal(r.slices[0]!.signer, 'apple-development')
      assert.deepEqual(errorIds(r), [])
      expectFinding(r, {id: 'profile.development', severity: 'warning', exitCode: ExitCode.ok})
    })

    it('an iOS profile → profile.platform', async () => {
      const app = await bundle({profile: await profile({platform: ['iOS']})})
      expectFinding(await verifyPath(app, suite.opts), {id: 'profile.platform', severity: 'error', exitCode: FAILED})
    })
  })

  describe('signing mode', () => {
    it('get-task-allow in a Developer ID build and no hardened runtime → warnings', async () => {
      const app = await bundle({
        profile: await profile(),
        hardenedRuntime: false,
        entitlements: {'com.apple.application-identifier': `${TEAM}.${BUNDLE_ID}`, 'com.apple.developer.team-identifier': TEAM, [ENDPOINT_SECURITY]: true, 'com.apple.security.get-task-allow': true},
      })
      const r = await verifyPath(app, suite.opts)
      assert.deepEqual(errorIds(r), [])
      expectFinding(r, {id: 'entitlements.get-task-allow', severity: 'warning', exitCode: ExitCode.ok})
      expectFinding(r, {id: 'signature.hardened-runtime-missing', severity: 'warning', exitCode: ExitCode.ok})
    })

    it('an expired signing certificate: fatal without a timestamp, fine with one made in time', async () => {
      const expired = await suite.pki.developerId(TEAM, {notBefore: new Date('2024-01-01T00:00:00Z'), notAfter: new Date('2026-01-01T00:00:00Z')})
      const p = await profile({developerCertificates: [expired.certDer]})
      const bare = await bundle({identity: expired, profile: p, timestamp: false, signedAt: new Date('2025-06-01T00:00:00Z')})
      expectFinding(await verifyPath(bare, suite.opts), {id: 'cms.certificate-expired', severity: 'error', exitCode: FAILED})
      const stamped = await bundle({identity: expired, profile: p, timestamp: true, signedAt: new Date('2025-06-01T00:00:00Z')})
      assert.deepEqual(errorIds(await verifyPath(stamped, suite.opts)), [])
    })
  })
})
