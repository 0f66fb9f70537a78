import {readFile, stat} from 'node:fs/promises'
import {isFormatError} from '../formats/format-error.js'
import type {PlistDict, PlistValue} from '../formats/property-list.js'
import {readProvisioningProfile, type ProvisioningProfile} from '../trust/provisioning-profile.js'
import type {TrustStore} from '../trust/trust-store.js'
import {checkProfileItself} from '../verify/check-profile.js'
import {profileAllows, wildcardMatch} from '../verify/entitlement-match.js'
import {APPLICATION_IDENTIFIER, ENDPOINT_SECURITY, isRestrictedEntitlement, TEAM_IDENTIFIER} from '../verify/restricted-entitlements.js'
import type {Finding} from '../verify/finding.js'
import {BuildRefusal} from './bundle-error.js'

const MAX_PROFILE_BYTES = 1024 * 1024
const NEW_PROFILE = 'Create or download the Developer ID provisioning profile for this App ID in the Apple Developer portal and pass it with --profile.'

export interface Authorisation {
  profile: ProvisioningProfile
  profileBytes: Buffer
  teamId: string
  entitlements: PlistDict
  identity: string
  /** What verify would warn about the profile itself (profile.development, …); bundle passes them on. */
  warnings: Finding[]
}

/**
 * Reads the profile and decides, before anything is written, what the bundle will claim: the
 * profile must be valid on its own, be for macOS, cover the bundle id, allow every restricted
 * entitlement asked for and list the certificate that will sign. A development profile (it lists
 * the Macs it runs on: ProvisionedDevices) is refused unless `allowDevelopment` says a build for
 * those Macs (a lab) is meant; it then comes back among the warnings.
 */
export async function authorise(opts: {
  profilePath: string
  bundleId: string
  requested: string[] | undefined
  identity: string | undefined
  trust: TrustStore
  now: Date
  allowDevelopment?: boolean
}): Promise<Authorisation> {
  const {profilePath: path} = opts
  const profileBytes = await readProfileBytes(path)
  let reading
  try {
    reading = await readProvisioningProfile(profileBytes, {trust: opts.trust, now: opts.now})
  } catch (e) {
    if (!isFormatError(e)) throw e
    throw new BuildRefusal('bundle.profile-unreadable', path, '(file)', `is not a provisioning profile (${e.message})`, NEW_PROFILE)
  }
  const own = checkProfileItself(path, reading, opts.now)
  const error = own.find(f => f.severity === 'error')
  if (error) {
    throw new BuildRefusal(`bundle.${error.id}`, path, error.field ?? '(profile)', error.message.startsWith(`${path}: `) ? error.message.slice(path.length + 2) : error.message, error.fix ?? NEW_PROFILE)
  }
  const development = own.find(f => f.id === 'profile.development')
  if (development && !opts.allowDevelopment) {
    throw new BuildRefusal('bundle.profile-development', path, development.field ?? 'ProvisionedDevices',
      `${development.message.startsWith(`${path}: `) ? development.message.slice(path.length + 2) : development.message}; --profile must be a Developer ID profile to ship`,
      'Use the Developer ID provisioning profile for this App ID, or pass --allow-development-profile for a build meant only for the Macs the profile lists (a lab).')
  }
  const profile = reading.profile
  if (profile.platforms.length === 0) {
    throw new BuildRefusal('bundle.profile-platform', path, 'Platform', 'lists no platform; esdctl cannot tell it is a macOS profile', 'Use a macOS (OSX) Developer ID profile.')
  }
  const teamId = profile.teamIds[0]
  if (!teamId || !/^[A-Z0-9]{10}$/.test(teamId)) {
    throw new BuildRefusal('bundle.profile-team', path, 'TeamIdentifier', `has no usable team id (${JSON.stringify(teamId ?? null)})`, NEW_PROFILE)
  }
  const appId = `${teamId}.${opts.bundleId}`
  if (!profile.appId || !profile.appId.startsWith(`${teamId}.`) || !wildcardMatch(profile.appId, appId)) {
    throw new BuildRefusal('bundle.app-id-mismatch', path, `Entitlements.${APPLICATION_IDENTIFIER}`,
      `the profile's App ID ${profile.appId ?? '(none)'} does not cover bundle id ${opts.bundleId} (${appId}); macOS would find no matching profile and kill the daemon`,
      `Pass the bundle id the App ID was registered for, or make a profile for App ID ${appId}.`)
  }
  const entitlements: PlistDict = {[APPLICATION_IDENTIFIER]: appId, [TEAM_IDENTIFIER]: teamId}
  for (const [key, value] of requestedEntitlements(opts.requested)) {
    if (isRestrictedEntitlement(key) && !profileAllows(profile.entitlements[key], value)) {
      throw new BuildRefusal('bundle.entitlement-not-allowed', path, `Entitlements.${key}`,
        `the profile "${profile.name}" does not allow ${key}${value === true ? '' : ` = ${JSON.stringify(value)}`}; macOS would kill the daemon at launch (Killed: 9)`,
        key === ENDPOINT_SECURITY
          ? 'Ask Apple for the Endpoint Security entitlement for your team, enable it on the App ID, and download a new Developer ID profile.'
          : `Enable ${key} on the App ID and download a new profile, or do not ask for it.`)
    }
    entitlements[key] = value
  }
  return {profile, profileBytes, teamId, entitlements, identity: chooseIdentity(path, profile, opts.identity), warnings: own.filter(f => f.severity === 'warning')}
}

async function readProfileBytes(path: string): Promise<Buffer> {
  let size
  try {
    const info = await stat(path)
    if (!info.isFile()) throw new BuildRefusal('bundle.profile-unreadable', path, '(file)', 'is not a regular file', NEW_PROFILE)
    size = info.size
  } catch (e) {
    if (e instanceof BuildRefusal) throw e
    throw new BuildRefusal('bundle.profile-unreadable', path, '(file)', `cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`, NEW_PROFILE)
  }
  if (size > MAX_PROFILE_BYTES) {
    throw new BuildRefusal('bundle.profile-unreadable', path, '(file)', `is ${size} bytes, more than a provisioning profile can be (${MAX_PROFILE_BYTES})`, NEW_PROFILE)
  }
  return readFile(path)
}

/**
 * `KEY` and `KEY=true` claim true, `KEY=false` false, `KEY=a,b` a list of strings; Endpoint Security
 * must be claimed true. The identifiers are derived, never asked for. Throws BuildRefusal (exit 4).
 */
export function requestedEntitlements(requested: string[] | undefined): [string, PlistValue][] {
  const out: [string, PlistValue][] = []
  for (const item of requested ?? [ENDPOINT_SECURITY]) {
    const eq = item.indexOf('=')
    const key = eq < 0 ? item : item.slice(0, eq)
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(key)) {
      throw new BuildRefusal('bundle.bad-entitlement', '--entitlement', key || '(empty)', `${JSON.stringify(item)} is not an entitlement key`, 'Pass a reverse-DNS entitlement key, e.g. com.apple.developer.endpoint-security.client.')
    }
    if (key === APPLICATION_IDENTIFIER || key === TEAM_IDENTIFIER) {
      throw new BuildRefusal('bundle.bad-entitlement', '--entitlement', key, 'is derived from the profile and the bundle id and cannot be given', `Drop --entitlement ${key}.`)
    }
    if (out.some(([k]) => k === key)) {
      throw new BuildRefusal('bundle.bad-entitlement', '--entitlement', key, 'is given more than once', 'Give each entitlement once; list values as KEY=a,b.')
    }
    const value = eq < 0 ? 'true' : item.slice(eq + 1)
    // Boolean entitlements (most restricted ones) are written KEY, KEY=true or KEY=false; anything else is a list.
    const parsed: PlistValue = value === 'true' ? true : value === 'false' ? false : value.split(',').filter(Boolean)
    if (key === ENDPOINT_SECURITY && parsed !== true) {
      throw new BuildRefusal('bundle.bad-entitlement', '--entitlement', key, `${JSON.stringify(item)} would deny the daemon Endpoint Security: es_new_client fails without ${key} = true, and a bundle exists only to carry it`, `Claim it as --entitlement ${key} (true, the default), or build without esdctl bundle if the program is no Endpoint Security client.`)
    }
    out.push([key, parsed])
  }
  return out
}

/**
 * codesign takes a certificate's SHA-1 or a part of its common name. Signing with a certificate the
 * profile does not list gets the daemon killed, so the choice must match one of them.
 */
function chooseIdentity(path: string, profile: ProvisioningProfile, identity: string | undefined): string {
  const certs = profile.developerCertificates
  if (identity === undefined) {
    if (certs.length === 1) return certs[0]!.sha1
    throw new BuildRefusal('bundle.identity-ambiguous', path, 'DeveloperCertificates',
      `lists ${certs.length} certificates, so esdctl cannot pick the signing identity`, 'Pass --identity with the name or SHA-1 of the Developer ID Application certificate to sign with.')
  }
  if (identity.length === 0 || /[\0\n\r]/.test(identity)) {
    throw new BuildRefusal('bundle.bad-identity', '--identity', 'identity', `${JSON.stringify(identity)} is not a usable identity`, 'Pass a certificate name or SHA-1.')
  }
  if (certs.length === 0) return identity
  const upper = identity.toUpperCase()
  const listed = certs.some(c => c.sha1 === upper || (c.commonName !== undefined && c.commonName.includes(identity)))
  if (!listed) {
    throw new BuildRefusal('bundle.identity-not-listed', path, 'DeveloperCertificates',
      `does not list a certificate matching --identity ${JSON.stringify(identity)} (it lists ${certs.map(c => c.commonName ?? c.sha1).join(', ')}); the signed daemon would be killed at launch`,
      'Sign with a certificate the profile lists, or regenerate the profile to include it.')
  }
  return identity
}
