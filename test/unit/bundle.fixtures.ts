import {copyFile, mkdtemp, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {CodesignAdapter} from '../../src/adapters/codesign.js'
import {buildAppBundle} from '../../src/bundle/build-bundle.js'
import type {PlistDict} from '../../src/formats/property-list.js'
import {TrustStore} from '../../src/trust/trust-store.js'
import {buildProfilePlist, defaultProfileEntitlements} from '../support/profile-builder.js'
import {ARTIFACTS, realArtifact} from '../support/real-artifacts.js'
import {createTestPki, signProfile, type TestIdentity} from '../support/test-pki.js'
import {createCodesignDouble} from '../doubles/codesign/codesign-double.js'

/** Shared by the bundle and payload tests: a real Mach-O named like a daemon and test-PKI profiles. */
export const TEAM = 'ABCDE12345'
export const BUNDLE_ID = 'com.example.thed'
export const ES = 'com.apple.developer.endpoint-security.client'
const DAY = 86_400_000

export interface Fixture {
  dir: string
  executable: string
  trust: TrustStore
  identity: TestIdentity
  profile(opts?: {appId?: string; entitlements?: PlistDict; expires?: Date; platform?: string[]; extraCertificates?: Buffer[]}): Promise<string>
}

export async function makeFixture(): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'esdctl-bundle-'))
  const executable = join(dir, 'thed')
  await copyFile(await realArtifact(ARTIFACTS.esbuild), executable)
  const pki = await createTestPki()
  const identity = await pki.developerId(TEAM)
  let count = 0
  return {
    dir,
    executable,
    trust: new TrustStore(pki.anchors),
    identity,
    async profile(opts = {}) {
      const appId = opts.appId ?? `${TEAM}.${BUNDLE_ID}`
      const expires = opts.expires ?? new Date(Date.now() + 365 * DAY)
      const xml = buildProfilePlist({
        teamId: TEAM,
        appId,
        entitlements: opts.entitlements ?? {...defaultProfileEntitlements(TEAM, appId), [ES]: true},
        kind: 'developer-id',
        created: new Date(expires.getTime() - 400 * DAY),
        expires,
        developerCertificates: [identity.certDer, ...(opts.extraCertificates ?? [])],
        ...(opts.platform ? {platform: opts.platform} : {}),
      })
      const path = join(dir, `profile-${++count}.provisionprofile`)
      await writeFile(path, await signProfile(xml, undefined, {signingTime: new Date(expires.getTime() - 400 * DAY)}))
      return path
    },
  }
}

/**
 * The vendor's flow up to `esdctl payload`: `esdctl bundle` lays out thed.app (version 1.4.2) in
 * `out` and signs it, here through the codesign double with the fixture's test-PKI identity, so the
 * result verifies against `fx.trust` as install would judge it. Returns the .app path.
 */
export async function signedApp(fx: Fixture, out: string): Promise<string> {
  const double = createCodesignDouble({identities: [fx.identity]})
  try {
    return (await buildAppBundle({executable: fx.executable, profile: await fx.profile(), bundleId: BUNDLE_ID, version: '1.4.2', out}, {trust: fx.trust, codesign: new CodesignAdapter({executable: double.codesignPath})})).app
  } finally {
    double.cleanup()
  }
}
