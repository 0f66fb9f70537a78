// The profile checks driven directly with a profile reading and verified slices, so that every
// rule and text is pinned (issue 14, area verify-checks). verify-profile and verify-bundle reach
// the same code through real CMS profiles and bundles, more slowly.
import {strict as assert} from 'node:assert'
import type {CertificateInfo} from '../../src/formats/certificate.js'
import type {CmsVerification} from '../../src/trust/cms.js'
import type {ProfileReading, ProvisioningProfile} from '../../src/trust/provisioning-profile.js'
import {checkProfileAuthorises, checkProfileItself, EXPIRY_WARNING_DAYS, profileReport} from '../../src/verify/check-profile.js'
import type {Finding} from '../../src/verify/finding.js'
import {APPLICATION_IDENTIFIER, ENDPOINT_SECURITY, TEAM_IDENTIFIER} from '../../src/verify/restricted-entitlements.js'
import type {VerifiedSlice} from '../../src/verify/verify-binary.js'

const TEAM = 'ESDTEST001'
const NOW = new Date('2026-11-26T12:00:00Z')
const DAY = 86_400_000
const P = 'B.app/Contents/embedded.provisionprofile'
const NEW_PROFILE = 'Create a new Developer ID provisioning profile for this App ID in the Apple Developer portal (Certificates, Identifiers & Profiles), download it and embed it as Contents/embedded.provisionprofile, then sign the bundle again.'

const cert = (sha256: string, commonName?: string): CertificateInfo => ({
  der: Buffer.alloc(0), sha1: '00', sha256, subject: {}, issuer: {}, teamId: TEAM, notBefore: NOW, notAfter: NOW, serialHex: '01', isCA: false,
  role: 'developer-id', appleExtensionOids: [], ...(commonName ? {commonName} : {}),
})
const LEAF = cert('AA', `Developer ID Application: Test (${TEAM})`)
const cms = (over: Partial<CmsVerification> = {}): CmsVerification => ({
  certificates: [], digestAlgorithm: 'sha256', signatureValid: true, validatedAt: NOW, validatedAtSource: 'signing-time', chain: {trusted: true, chain: []}, ...over,
})
const profile = (over: Partial<ProvisioningProfile> = {}): ProvisioningProfile => ({
  name: 'ESD Profile', uuid: 'U-1', teamIds: [TEAM], applicationIdentifierPrefix: [TEAM], appId: `${TEAM}.com.example.esd`, expirationDate: new Date(NOW.getTime() + 365 * DAY),
  platforms: ['OSX'], isXcodeManaged: false, provisionsAllDevices: true, provisionedDevices: [], developerCertificates: [LEAF],
  entitlements: {[APPLICATION_IDENTIFIER]: `${TEAM}.com.example.esd`, [TEAM_IDENTIFIER]: TEAM, [ENDPOINT_SECURITY]: true}, kind: 'developer-id', plist: {}, ...over,
})
const reading = (over: Partial<ProfileReading> = {}, p: Partial<ProvisioningProfile> = {}): ProfileReading => ({profile: profile(p), cms: cms(), problems: [], ...over})
const brief = (fs: Finding[]) => fs.map(f => ({id: f.id, path: f.path, message: f.message, fix: f.fix, field: f.field}))

describe('verify checks: a provisioning profile', () => {
  describe('on its own', () => {
    const itself = (r: ProfileReading, now = NOW) => brief(checkProfileItself(P, r, now))

    it('a sound Developer ID profile for macOS has no finding', () => {
      assert.deepEqual(itself(reading()), [])
      assert.deepEqual(itself(reading({}, {platforms: []})), [])
    })

    it('each problem of the plist is profile.malformed on its field', () => {
      assert.deepEqual(itself(reading({problems: [{field: 'UUID', message: 'missing'}, {field: 'Name', message: 'not a string'}]})), [
        {id: 'profile.malformed', path: P, message: `${P}: UUID: missing`, fix: NEW_PROFILE, field: 'UUID'},
        {id: 'profile.malformed', path: P, message: `${P}: Name: not a string`, fix: NEW_PROFILE, field: 'Name'},
      ])
    })

    it("Apple's signature: invalid, and not chaining to Apple, with and without a reason", () => {
      assert.deepEqual(itself(reading({cms: cms({signatureValid: false, signatureError: 'bad digest', chain: {trusted: false, chain: [], error: 'no anchor'}})})), [
        {id: 'profile.signature-invalid', path: P, field: '(signature)', message: `${P}: Apple's signature over the profile does not verify (bad digest); the profile was edited or damaged`, fix: 'Download the profile again from the Apple Developer portal; never edit a profile by hand.'},
        {id: 'profile.untrusted', path: P, field: '(signature)', message: `${P}: the profile is not signed by Apple (no anchor)`, fix: 'Use a profile downloaded from the Apple Developer portal.'},
      ])
      assert.deepEqual(itself(reading({cms: cms({signatureValid: false, chain: {trusted: false, chain: []}})})).map(f => f.message), [
        `${P}: Apple's signature over the profile does not verify; the profile was edited or damaged`,
        `${P}: the profile is not signed by Apple`,
      ])
    })

    it('the DER-Encoded-Profile: its own signature and chain first, then its agreement with the plist', () => {
      const der = (over: Partial<CmsVerification>, matchesPlist: boolean) => reading({derProfile: {cms: cms(over), matchesPlist, mismatches: matchesPlist ? [] : ['UUID', 'TeamIdentifier']}})
      const invalid = {id: 'profile.der-signature-invalid', path: P, field: 'DER-Encoded-Profile', message: `${P}: the DER-Encoded-Profile inside the profile does not verify against Apple Root CA - G3`, fix: 'Download the profile again from the Apple Developer portal.'}
      assert.deepEqual(itself(der({signatureValid: false}, false)), [invalid])
      assert.deepEqual(itself(der({chain: {trusted: false, chain: []}}, true)), [invalid])
      assert.deepEqual(itself(der({}, false)), [
        {id: 'profile.der-mismatch', path: P, field: 'DER-Encoded-Profile', message: `${P}: the DER-Encoded-Profile disagrees with the plist (UUID, TeamIdentifier)`, fix: 'Download the profile again from the Apple Developer portal.'},
      ])
      assert.deepEqual(itself(der({}, true)), [])
    })

    it(`expired at its expiration instant; a warning under ${EXPIRY_WARNING_DAYS} days before, with the days rounded up`, () => {
      const at = (ms: number) => reading({}, {expirationDate: new Date(NOW.getTime() + ms)})
      assert.equal(EXPIRY_WARNING_DAYS, 30)
      assert.deepEqual(itself(at(0)), [
        {id: 'profile.expired', path: P, field: 'ExpirationDate', fix: NEW_PROFILE, message: `${P}: the provisioning profile "ESD Profile" expired on 2026-11-26; macOS no longer honours its entitlements and kills the daemon at launch (Killed: 9)`},
      ])
      assert.deepEqual(itself(at(1)), [
        {id: 'profile.expires-soon', path: P, field: 'ExpirationDate', fix: NEW_PROFILE, message: `${P}: the provisioning profile "ESD Profile" expires on 2026-11-26, in 1 days; after that the daemon is killed at launch`},
      ])
      assert.match(itself(at(30 * DAY - 1))[0]!.message, /expires on 2026-12-26, in 30 days;/)
      assert.deepEqual(itself(at(30 * DAY)), [])
      assert.deepEqual(itself(reading({}, {expirationDate: undefined})), [])
    })

    it('a profile for another platform, a development profile, and the kinds that cannot authorise', () => {
      assert.deepEqual(itself(reading({}, {platforms: ['iOS', 'tvOS']})), [
        {id: 'profile.platform', path: P, field: 'Platform', message: `${P}: the profile is for iOS, tvOS, not macOS (OSX)`, fix: 'Create a macOS profile (Developer ID, platform macOS) for this App ID.'},
      ])
      assert.deepEqual(itself(reading({}, {kind: 'development', provisionedDevices: ['a', 'b']})), [
        {id: 'profile.development', path: P, field: 'ProvisionedDevices', message: `${P}: a development profile: the daemon runs only on the 2 Mac(s) it lists and is killed on every other`, fix: 'For shipping, use a Developer ID provisioning profile (it provisions all devices).'},
      ])
      assert.deepEqual(itself(reading({}, {kind: 'app-store'})), [
        {id: 'profile.kind', path: P, field: 'ProvisionsAllDevices', message: `${P}: an app-store profile cannot authorise software installed outside the Mac App Store`, fix: 'Use a Developer ID provisioning profile.'},
      ])
      assert.match(itself(reading({}, {kind: 'enterprise'}))[0]!.message, /: an enterprise profile cannot/)
      assert.match(itself(reading({}, {kind: 'unknown'}))[0]!.message, /: an unknown profile cannot/)
    })
  })

  describe('authorising the main executable', () => {
    const EXE = 'B.app/Contents/MacOS/esd'
    const ENTS = {[APPLICATION_IDENTIFIER]: `${TEAM}.com.example.esd`, [TEAM_IDENTIFIER]: TEAM, [ENDPOINT_SECURITY]: true}
    const slice = (over: {entitlements?: Record<string, unknown>; teamId?: string; leaf?: CertificateInfo | null; intact?: boolean; arch?: string} = {}): VerifiedSlice => {
      const s: VerifiedSlice = {
        report: {arch: over.arch ?? 'arm64', flags: ['runtime'], signer: 'developer-id', entitlements: (over.entitlements ?? ENTS) as VerifiedSlice['report']['entitlements'], teamId: over.teamId ?? TEAM},
        cdhashes: [],
        intact: over.intact ?? true,
      }
      if (over.leaf !== null) s.signerCertificate = over.leaf ?? LEAF
      return s
    }
    const authorise = (p: Partial<ProvisioningProfile>, slices: VerifiedSlice[]) => brief(checkProfileAuthorises(profile(p), EXE, slices))

    it('a profile that allows what the executable claims has no finding', () => {
      assert.deepEqual(authorise({}, [slice(), slice({arch: 'x86_64'})]), [])
      assert.deepEqual(authorise({appId: `${TEAM}.*`}, [slice()]), [])
      assert.deepEqual(authorise({developerCertificates: []}, [slice()]), [])
      assert.deepEqual(authorise({}, [slice({leaf: null})]), [])
    })

    it('a slice whose signature is broken is not judged on its claims', () => {
      assert.deepEqual(authorise({appId: 'OTHER.x'}, [slice({intact: false, entitlements: {}})]), [])
    })

    it('the application identifier: missing, or not covered by the profile (or the profile has none)', () => {
      const noAppId = {[TEAM_IDENTIFIER]: TEAM, [ENDPOINT_SECURITY]: true}
      assert.deepEqual(authorise({}, [slice({entitlements: noAppId})]), [
        {id: 'profile.app-id-missing', path: EXE, field: undefined, message: `${EXE} [arm64]: the entitlements lack ${APPLICATION_IDENTIFIER}, so macOS cannot match the binary to the profile`, fix: `Add ${APPLICATION_IDENTIFIER} = ${TEAM}.com.example.esd to the entitlements and sign again.`},
      ])
      assert.equal(authorise({appId: undefined}, [slice({entitlements: noAppId})])[0]!.fix, `Add ${APPLICATION_IDENTIFIER} = TEAMID.bundle.id to the entitlements and sign again.`)
      assert.deepEqual(authorise({appId: `${TEAM}.com.example.other`}, [slice()]), [
        {id: 'profile.app-id-mismatch', path: EXE, field: undefined, message: `${EXE} [arm64]: application identifier ${TEAM}.com.example.esd is not covered by the profile's ${TEAM}.com.example.other; macOS finds no matching profile (-413) and kills the daemon`, fix: `Sign with ${APPLICATION_IDENTIFIER} = ${TEAM}.com.example.other, or make a profile for App ID ${TEAM}.com.example.esd.`},
      ])
      assert.deepEqual(authorise({appId: undefined}, [slice()]).map(f => [f.id, f.message, f.fix]), [[
        'profile.app-id-mismatch',
        `${EXE} [arm64]: application identifier ${TEAM}.com.example.esd is not covered by the profile's (none); macOS finds no matching profile (-413) and kills the daemon`,
        `Sign with ${APPLICATION_IDENTIFIER} = the profile's App ID, or make a profile for App ID ${TEAM}.com.example.esd.`,
      ]])
    })

    it('the team ids: every one named must agree, and each source is named', () => {
      const fix = 'Sign with a certificate of the team that owns the profile, and use that team id in the entitlements.'
      const other = {...LEAF, teamId: 'OTHERTEAM9'}
      assert.deepEqual(authorise({developerCertificates: []}, [slice({leaf: other})]), [
        {id: 'profile.team-mismatch', path: EXE, field: undefined, fix, message: `${EXE} [arm64]: the team ids disagree: profile ${TEAM}, CodeDirectory ${TEAM}, signing certificate (OU) OTHERTEAM9, ${TEAM_IDENTIFIER} ${TEAM}, application identifier prefix ${TEAM}`},
      ])
      // Sources that name no team are left out, not counted as a disagreement.
      const noLeafTeam: CertificateInfo = {...LEAF}
      delete noLeafTeam.teamId
      assert.deepEqual(authorise({teamIds: []}, [slice({leaf: noLeafTeam, entitlements: {[APPLICATION_IDENTIFIER]: `${TEAM}.com.example.esd`, [ENDPOINT_SECURITY]: true}})]), [])
      assert.deepEqual(authorise({}, [slice({entitlements: {...ENTS, [TEAM_IDENTIFIER]: ['x']}})]).map(f => f.id), ['profile.entitlement-not-allowed'])
      assert.deepEqual(authorise({}, [slice({teamId: 'OTHERTEAM9'})]).map(f => f.id), ['profile.team-mismatch'])
      assert.deepEqual(authorise({teamIds: ['OTHERTEAM9']}, [slice()]).map(f => f.id), ['profile.team-mismatch'])
    })

    it('each restricted claim the profile does not allow, with the fix for its kind', () => {
      const ents = {...ENTS, 'com.apple.developer.networking.vpn.api': ['allow-vpn'], 'com.apple.security.cs.allow-jit': true}
      const found = authorise({entitlements: {[APPLICATION_IDENTIFIER]: `${TEAM}.*`}}, [slice({entitlements: ents})])
      const line = (key: string) => `${EXE} [arm64]: claims ${key} but the profile "ESD Profile" does not allow it; macOS kills the daemon at launch (Killed: 9)`
      assert.deepEqual(found.map(f => [f.id, f.message, f.fix]), [
        ['profile.entitlement-not-allowed', line(TEAM_IDENTIFIER), `Download a new profile for the App ID (current profiles list ${TEAM_IDENTIFIER}), or sign without ${TEAM_IDENTIFIER}.`],
        ['profile.entitlement-not-allowed', line(ENDPOINT_SECURITY), 'Ask Apple for the Endpoint Security entitlement for your team, enable it on the App ID, and download a new Developer ID profile.'],
        ['profile.entitlement-not-allowed', line('com.apple.developer.networking.vpn.api'), 'Enable com.apple.developer.networking.vpn.api on the App ID and download a new profile, or remove it from the entitlements.'],
      ])
      // The team identifier needs allowing only when it is claimed.
      const noTeamClaim = {[APPLICATION_IDENTIFIER]: `${TEAM}.com.example.esd`, [ENDPOINT_SECURITY]: true}
      assert.deepEqual(authorise({entitlements: {[ENDPOINT_SECURITY]: true}}, [slice({entitlements: noTeamClaim})]), [])
    })

    it('a signing certificate the profile does not list, by name or else by digest', () => {
      const fix = 'Sign with a certificate the profile lists, or regenerate the profile to include the certificate you sign with.'
      const others = [cert('BB'), cert('CC')]
      assert.deepEqual(authorise({developerCertificates: others}, [slice()]), [
        {id: 'profile.certificate-not-listed', path: EXE, field: undefined, fix, message: `${EXE} [arm64]: signed by "Developer ID Application: Test (${TEAM})", which is not among the profile's 2 developer certificate(s)`},
      ])
      assert.equal(authorise({developerCertificates: others}, [slice({leaf: cert('DD')})])[0]!.message, `${EXE} [arm64]: signed by "DD", which is not among the profile's 2 developer certificate(s)`)
      assert.deepEqual(authorise({developerCertificates: [cert('BB'), cert('AA')]}, [slice()]), [])
    })
  })

  it('the report of a profile carries its first team, App ID and expiry only when present', () => {
    const p = profile({teamIds: [TEAM, 'SECOND0001']})
    assert.deepEqual(profileReport(P, p), {
      path: P, name: 'ESD Profile', uuid: 'U-1', kind: 'developer-id', platforms: ['OSX'], entitlements: p.entitlements,
      teamId: TEAM, appId: `${TEAM}.com.example.esd`, expires: p.expirationDate!.toISOString(),
    })
    assert.deepEqual(Object.keys(profileReport(P, profile({teamIds: [], appId: undefined, expirationDate: undefined}))).sort(), ['entitlements', 'kind', 'name', 'path', 'platforms', 'uuid'])
  })
})
