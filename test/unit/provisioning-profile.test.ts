import assert from 'node:assert/strict'
import {readFile} from 'node:fs/promises'
import fc from 'fast-check'
import {FormatError} from '../../src/formats/format-error.js'
import {readProvisioningProfile} from '../../src/trust/provisioning-profile.js'
import {TrustStore} from '../../src/trust/apple-roots.js'
import {realProfile} from '../support/real-artifacts.js'
import {skipBecause} from '../support/skip.js'
import {signedRegions, within} from '../support/cms-regions.js'

type ProfileName = Parameters<typeof realProfile>[0]

const NOW = new Date('2026-01-15T00:00:00Z')

async function loadOrSkip(ctx: Mocha.Context, name: ProfileName): Promise<Buffer> {
  const path = realProfile(name)
  if (!path) {
    skipBecause(ctx, 'fixtures-absent')
  }
  return readFile(path!)
}

function read(bytes: Buffer) {
  return readProvisioningProfile(bytes, {trust: TrustStore.apple(), now: NOW})
}

describe('readProvisioningProfile on real Apple-signed profiles', function () {
  it('processmonitor: a Developer ID profile allowing Endpoint Security, signed by the original WWDR CA', async function () {
    const r = await read(await loadOrSkip(this, 'processmonitor-devid-es'))
    assert.deepEqual(r.problems, [])
    const p = r.profile
    assert.equal(p.name, 'Process Monitor')
    assert.equal(p.appIdName, 'Process Monitor')
    assert.equal(p.uuid, '221ad78e-29a9-4403-b4e4-fdbd1237a705')
    assert.deepEqual(p.teamIds, ['VBG97UB4TA'])
    assert.equal(p.teamName, 'Objective-See, LLC')
    assert.equal(p.appId, 'VBG97UB4TA.com.objective-see.processmonitor')
    assert.equal(p.expirationDate?.toISOString(), '2037-10-10T01:17:43.000Z')
    assert.equal(p.kind, 'developer-id')
    assert.equal(p.provisionsAllDevices, true)
    assert.deepEqual(p.platforms, ['OSX'])
    assert.equal(p.entitlements['com.apple.developer.endpoint-security.client'], true)
    assert.equal(p.developerCertificates[0]?.commonName, 'Developer ID Application: Objective-See, LLC (VBG97UB4TA)')
    assert.equal(r.cms.signatureValid, true, r.cms.signatureError)
    assert.equal(r.cms.digestAlgorithm, 'sha1')
    assert.equal(r.cms.validatedAtSource, 'signing-time')
    assert.equal(r.cms.chain.trusted, true, r.cms.chain.error)
    assert.equal(r.cms.chain.anchor, 'Apple Root CA')
    assert.equal(r.cms.chain.chain[0]?.commonName, 'Mac OS X Provisioning Profile Signing')
    assert.equal(r.derProfile, undefined)
  })

  it('karabiner: a Developer ID profile whose DER-Encoded-Profile verifies to Apple Root CA - G3 and matches', async function () {
    const r = await read(await loadOrSkip(this, 'karabiner-daemon-devid'))
    assert.deepEqual(r.problems, [])
    assert.equal(r.profile.name, 'Developer ID Karabiner-VirtualHIDDevice-Daemon')
    assert.deepEqual(r.profile.teamIds, ['G43BCU2T37'])
    assert.equal(r.profile.appId, 'G43BCU2T37.org.pqrs.Karabiner-VirtualHIDDevice-Daemon')
    assert.equal(r.profile.expirationDate?.toISOString(), '2042-05-11T12:28:36.000Z')
    assert.equal(r.profile.kind, 'developer-id')
    assert.equal(r.cms.signatureValid, true, r.cms.signatureError)
    assert.equal(r.cms.chain.trusted, true, r.cms.chain.error)
    const der = r.derProfile
    assert.ok(der)
    assert.equal(der.cms.signatureValid, true, der.cms.signatureError)
    assert.equal(der.cms.chain.trusted, true, der.cms.chain.error)
    assert.equal(der.cms.chain.anchor, 'Apple Root CA - G3')
    assert.deepEqual(der.mismatches, [])
    assert.equal(der.matchesPlist, true)
  })

  it('credctl: an Xcode-managed development profile for one Mac, expired', async function () {
    const r = await read(await loadOrSkip(this, 'credctl-development-expired'))
    assert.deepEqual(r.problems, [])
    assert.equal(r.profile.name, 'Mac Team Provisioning Profile: com.crzy.credctl')
    assert.deepEqual(r.profile.teamIds, ['JWR3NGC3Z6'])
    assert.equal(r.profile.appId, 'JWR3NGC3Z6.com.crzy.credctl')
    assert.equal(r.profile.kind, 'development')
    assert.equal(r.profile.isXcodeManaged, true)
    assert.deepEqual(r.profile.provisionedDevices, ['00006000-000E19D101D8801E'])
    assert.equal(r.profile.expirationDate?.toISOString(), '2026-03-06T15:45:11.000Z')
    assert.equal(r.profile.developerCertificates[0]?.role, 'apple-development')
    assert.equal(r.cms.signatureValid, true, r.cms.signatureError)
    assert.equal(r.cms.chain.trusted, true, r.cms.chain.error)
    assert.equal(r.derProfile?.matchesPlist, true)
  })

  it('translatium: a 2021 App Store profile whose DER-Encoded-Profile stores Version and TimeToLive as NumericString', async function () {
    const r = await read(await loadOrSkip(this, 'translatium-5c695e9'))
    assert.deepEqual(r.problems, [])
    assert.equal(r.profile.kind, 'app-store')
    assert.deepEqual(r.profile.teamIds, ['VKST52VQVP'])
    assert.equal(r.profile.expirationDate?.toISOString().slice(0, 10), '2022-08-09')
    assert.equal(r.cms.signatureValid, true, r.cms.signatureError)
    assert.equal(r.derProfile?.cms.signatureValid, true, r.derProfile?.cms.signatureError)
    assert.equal(r.derProfile?.cms.chain.trusted, true, r.derProfile?.cms.chain.error)
    assert.deepEqual(r.derProfile?.mismatches, [])
  })

  it('a tampered plist byte invalidates the signature', async function () {
    const bytes = Buffer.from(await loadOrSkip(this, 'processmonitor-devid-es'))
    const at = bytes.indexOf('Process Monitor')
    assert.ok(at > 0)
    bytes[at] = 'Q'.charCodeAt(0)
    const r = await read(bytes)
    assert.equal(r.profile.appIdName, 'Qrocess Monitor')
    assert.equal(r.cms.signatureValid, false)
    assert.match(r.cms.signatureError ?? '', /message digest/)
  })

  it('a damaged GeneralizedTime (asn1js throws a plain Error there) gives a result or a FormatError', async function () {
    // Found by the fuzz property below: asn1js throws instead of reporting, and it escaped once.
    const bytes = Buffer.from(await loadOrSkip(this, 'processmonitor-devid-es'))
    bytes[1087] = 89
    bytes[409] = 0
    const outcome = await read(bytes).then(() => 'result', (e: unknown) => (e instanceof FormatError ? 'format-error' : e))
    assert.ok(outcome === 'result' || outcome === 'format-error', String(outcome))
  })

  it('an untrusted store leaves the chain untrusted', async function () {
    const r = await readProvisioningProfile(await loadOrSkip(this, 'karabiner-daemon-devid'), {trust: new TrustStore([]), now: NOW})
    assert.equal(r.cms.chain.trusted, false)
    assert.equal(r.derProfile?.cms.chain.trusted, false)
  })

  it('rejects bytes that are not a CMS with a plist with FormatError', async function () {
    await assert.rejects(read(Buffer.from('<plist/>')), FormatError)
  })

  for (const name of ['karabiner-daemon-devid', 'processmonitor-devid-es'] as const) {
    it(`${name}: random mutations inside Apple's signed bytes always invalid, elsewhere a result or FormatError only (200 runs)`, async function () {
      const original = await loadOrSkip(this, name)
      const regions = signedRegions(original)
      const signed = (at: number) => within(at, regions.content) || within(at, regions.signedAttributes) || within(at, regions.signatureValue)
      const edits = (min: number, max: number, most: number) => fc.array(fc.tuple(fc.integer({min, max}), fc.integer({min: 0, max: 255})), {minLength: 1, maxLength: most})
      const mutation = fc.oneof(
        fc.record({kind: fc.constant('truncate' as const), at: fc.nat({max: original.length})}),
        fc.record({kind: fc.constant('edit' as const), edits: edits(0, original.length - 1, 8)}),
        fc.record({kind: fc.constant('edit' as const), edits: edits(regions.signedAttributes[0], regions.signatureValue[1] - 1, 4)}),
      )
      await fc.assert(
        fc.asyncProperty(mutation, async m => {
          let bytes: Buffer
          let mustFail: boolean
          if (m.kind === 'truncate') {
            bytes = original.subarray(0, m.at)
            mustFail = m.at < regions.signatureValue[1]
          } else {
            bytes = Buffer.from(original)
            for (const [at, value] of m.edits) bytes[at] = value
            mustFail = m.edits.some(([at]) => bytes[at] !== original[at] && signed(at))
          }
          let r
          try {
            r = await read(bytes)
          } catch (e) {
            if (!(e instanceof FormatError)) throw e
            return
          }
          if (mustFail) assert.equal(r.cms.signatureValid, false, 'a change inside the signed bytes was accepted')
          assert.ok(Array.isArray(r.problems))
        }),
        {numRuns: 200},
      )
    })
  }
})
