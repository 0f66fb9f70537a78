import type {ProfileReading, ProvisioningProfile} from '../trust/provisioning-profile.js'
import {withArticle} from './article.js'
import {finding, type Finding} from './finding.js'
import {profileAllows, wildcardMatch} from './entitlement-match.js'
import type {ProfileReport} from './report.js'
import {APPLICATION_IDENTIFIER, claimedCapabilities, claimedRestricted, TEAM_IDENTIFIER} from './restricted-entitlements.js'
import type {VerifiedSlice} from './verify-binary.js'

const DAY = 86_400_000
export const EXPIRY_WARNING_DAYS = 30
const NEW_PROFILE = 'Create a new Developer ID provisioning profile for this App ID in the Apple Developer portal (Certificates, Identifiers & Profiles), download it and embed it as Contents/embedded.provisionprofile, then sign the bundle again.'

export function profileReport(path: string, p: ProvisioningProfile): ProfileReport {
  const r: ProfileReport = {path, name: p.name, uuid: p.uuid, kind: p.kind, platforms: p.platforms, entitlements: p.entitlements}
  if (p.teamIds[0]) r.teamId = p.teamIds[0]
  if (p.appId) r.appId = p.appId
  if (p.expirationDate) r.expires = p.expirationDate.toISOString()
  return r
}

/** Checks a profile on its own: Apple's signature, its validity period, platform and kind. */
export function checkProfileItself(path: string, reading: ProfileReading, now: Date): Finding[] {
  const {profile: p, cms} = reading
  const out: Finding[] = []
  for (const problem of reading.problems) {
    out.push(finding('profile.malformed', path, `${path}: ${problem.field}: ${problem.message}`, NEW_PROFILE, problem.field))
  }
  if (!cms.signatureValid) {
    out.push(finding('profile.signature-invalid', path, `${path}: Apple's signature over the profile does not verify${cms.signatureError ? ` (${cms.signatureError})` : ''}; the profile was edited or damaged`, 'Download the profile again from the Apple Developer portal; never edit a profile by hand.', '(signature)'))
  }
  if (!cms.chain.trusted) {
    out.push(finding('profile.untrusted', path, `${path}: the profile is not signed by Apple${cms.chain.error ? ` (${cms.chain.error})` : ''}`, 'Use a profile downloaded from the Apple Developer portal.', '(signature)'))
  }
  if (reading.derProfile) {
    if (!reading.derProfile.cms.signatureValid || !reading.derProfile.cms.chain.trusted) {
      out.push(finding('profile.der-signature-invalid', path, `${path}: the DER-Encoded-Profile inside the profile does not verify against Apple Root CA - G3`, 'Download the profile again from the Apple Developer portal.', 'DER-Encoded-Profile'))
    } else if (!reading.derProfile.matchesPlist) {
      out.push(finding('profile.der-mismatch', path, `${path}: the DER-Encoded-Profile disagrees with the plist (${reading.derProfile.mismatches.join(', ')})`, 'Download the profile again from the Apple Developer portal.', 'DER-Encoded-Profile'))
    }
  }
  if (p.expirationDate) {
    const left = p.expirationDate.getTime() - now.getTime()
    const date = p.expirationDate.toISOString().slice(0, 10)
    if (left <= 0) {
      out.push(finding('profile.expired', path, `${path}: the provisioning profile "${p.name}" expired on ${date}; macOS no longer honours its entitlements and kills the daemon at launch (Killed: 9)`, NEW_PROFILE, 'ExpirationDate'))
    } else if (left < EXPIRY_WARNING_DAYS * DAY) {
      out.push(finding('profile.expires-soon', path, `${path}: the provisioning profile "${p.name}" expires on ${date}, in ${Math.ceil(left / DAY)} days; after that the daemon is killed at launch`, NEW_PROFILE, 'ExpirationDate'))
    }
  }
  if (p.platforms.length > 0 && !p.platforms.includes('OSX')) {
    out.push(finding('profile.platform', path, `${path}: the profile is for ${p.platforms.join(', ')}, not macOS (OSX)`, 'Create a macOS profile (Developer ID, platform macOS) for this App ID.', 'Platform'))
  }
  if (p.kind === 'development') {
    out.push(finding('profile.development', path, `${path}: a development profile: the daemon runs only on the ${p.provisionedDevices.length} Mac(s) it lists and is killed on every other`, 'For shipping, use a Developer ID provisioning profile (it provisions all devices).', 'ProvisionedDevices'))
  } else if (p.kind !== 'developer-id') {
    out.push(finding('profile.kind', path, `${path}: ${withArticle(p.kind)} profile cannot authorise software installed outside the Mac App Store`, 'Use a Developer ID provisioning profile.', 'ProvisionsAllDevices'))
  }
  return out
}

/**
 * Checks that the profile authorises what the main executable claims, slice by slice: application
 * identifier, one team everywhere, every restricted entitlement allowed, and the signing certificate listed.
 */
export function checkProfileAuthorises(p: ProvisioningProfile, exePath: string, slices: VerifiedSlice[]): Finding[] {
  const out: Finding[] = []
  const profileTeam = p.teamIds[0]
  for (const s of slices) {
    if (!s.intact) continue
    const where = `${exePath} [${s.report.arch}]`
    const ents = s.report.entitlements
    const appId = ents[APPLICATION_IDENTIFIER]
    if (typeof appId !== 'string') {
      out.push(finding('profile.app-id-missing', exePath, `${where}: the entitlements lack ${APPLICATION_IDENTIFIER}, so macOS cannot match the binary to the profile`, `Add ${APPLICATION_IDENTIFIER} = ${p.appId ?? 'TEAMID.bundle.id'} to the entitlements and sign again.`))
    } else if (!p.appId || !wildcardMatch(p.appId, appId)) {
      out.push(finding('profile.app-id-mismatch', exePath, `${where}: application identifier ${appId} is not covered by the profile's ${p.appId ?? '(none)'}; macOS finds no matching profile (-413) and kills the daemon`, `Sign with ${APPLICATION_IDENTIFIER} = ${p.appId ?? 'the profile\'s App ID'}, or make a profile for App ID ${appId}.`))
    }
    const teams = new Map<string, string | undefined>([
      ['profile', profileTeam],
      ['CodeDirectory', s.report.teamId],
      ['signing certificate (OU)', s.signerCertificate?.teamId],
      [TEAM_IDENTIFIER, typeof ents[TEAM_IDENTIFIER] === 'string' ? (ents[TEAM_IDENTIFIER] as string) : undefined],
      ['application identifier prefix', typeof appId === 'string' ? appId.split('.')[0] : undefined],
    ])
    const named = [...teams].filter(([, t]) => t !== undefined)
    if (new Set(named.map(([, t]) => t)).size > 1) {
      out.push(finding('profile.team-mismatch', exePath, `${where}: the team ids disagree: ${named.map(([k, t]) => `${k} ${t}`).join(', ')}`, 'Sign with a certificate of the team that owns the profile, and use that team id in the entitlements.'))
    }
    // The team identifier is an identity key, but macOS still requires the profile to allow it (it lists it as unsatisfied otherwise).
    const mustAllow = claimedRestricted(ents).includes(TEAM_IDENTIFIER) ? [TEAM_IDENTIFIER] : []
    for (const key of [...mustAllow, ...claimedCapabilities(ents)]) {
      if (!profileAllows(p.entitlements[key], ents[key]!)) {
        out.push(finding('profile.entitlement-not-allowed', exePath,
          `${where}: claims ${key} but the profile "${p.name}" does not allow it; macOS kills the daemon at launch (Killed: 9)`,
          key === 'com.apple.developer.endpoint-security.client'
            ? 'Ask Apple for the Endpoint Security entitlement for your team, enable it on the App ID, and download a new Developer ID profile.'
            : key === TEAM_IDENTIFIER
              ? `Download a new profile for the App ID (current profiles list ${TEAM_IDENTIFIER}), or sign without ${TEAM_IDENTIFIER}.`
              : `Enable ${key} on the App ID and download a new profile, or remove it from the entitlements.`))
      }
    }
    const leaf = s.signerCertificate
    if (leaf && p.developerCertificates.length > 0 && !p.developerCertificates.some(c => c.sha256 === leaf.sha256)) {
      out.push(finding('profile.certificate-not-listed', exePath,
        `${where}: signed by "${leaf.commonName ?? leaf.sha256}", which is not among the profile's ${p.developerCertificates.length} developer certificate(s)`,
        'Sign with a certificate the profile lists, or regenerate the profile to include the certificate you sign with.'))
    }
  }
  return out
}
