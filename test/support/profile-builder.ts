import {createHash} from 'node:crypto'
import * as plist from 'plist'
import type {PlistDict, PlistValue} from '../../src/formats/property-list.js'

/** The XML plist Apple puts inside a .provisionprofile, with the keys real profiles carry. */

export interface ProfileSpec {
  teamId: string
  /** e.g. TEAM.com.example.esd, or a wildcard TEAM.* / TEAM.com.example.* */
  appId: string
  /** The allowlist, used as given; default defaultProfileEntitlements(teamId, appId). */
  entitlements?: PlistDict
  kind: 'developer-id' | 'development'
  /** Provisioned Mac identifiers (development only). */
  devices?: string[]
  expires: Date
  /** Default: one year before `expires`. */
  created?: Date
  developerCertificates: Buffer[]
  name?: string
  /** Default: derived from the other fields, so equal specs give equal bytes. */
  uuid?: string
  platform?: string[]
  teamName?: string
}

const DAY_MS = 86_400_000

/** What Apple grants every macOS App ID: its identifier, team and keychain group. */
export function defaultProfileEntitlements(teamId: string, appId: string): PlistDict {
  return {
    'com.apple.application-identifier': appId,
    'keychain-access-groups': [`${teamId}.*`],
    'com.apple.developer.team-identifier': teamId,
  }
}

// Plist dates carry whole seconds; dropping the milliseconds keeps a round trip exact.
const wholeSeconds = (d: Date): Date => new Date(Math.floor(d.getTime() / 1000) * 1000)

function derivedUuid(spec: ProfileSpec): string {
  const h = createHash('sha256').update(JSON.stringify([spec.teamId, spec.appId, spec.kind, spec.expires.toISOString(), spec.name ?? ''])).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`
}

export function buildProfilePlist(spec: ProfileSpec): Buffer {
  const created = wholeSeconds(spec.created ?? new Date(spec.expires.getTime() - 365 * DAY_MS))
  const expires = wholeSeconds(spec.expires)
  const appIdName = spec.appId.slice(spec.teamId.length + 1) || spec.appId
  const name = spec.name ?? (spec.kind === 'developer-id' ? `Developer ID ${appIdName}` : `Mac Team Provisioning Profile: ${appIdName}`)
  const profile: {[key: string]: PlistValue} = {
    AppIDName: appIdName,
    ApplicationIdentifierPrefix: [spec.teamId],
    CreationDate: created,
    Platform: spec.platform ?? ['OSX'],
    IsXcodeManaged: spec.kind === 'development',
    DeveloperCertificates: spec.developerCertificates,
    Entitlements: spec.entitlements ?? defaultProfileEntitlements(spec.teamId, spec.appId),
    ExpirationDate: expires,
    Name: name,
  }
  if (spec.kind === 'developer-id') profile.ProvisionsAllDevices = true
  else profile.ProvisionedDevices = spec.devices ?? []
  Object.assign(profile, {
    TeamIdentifier: [spec.teamId],
    TeamName: spec.teamName ?? `Test Team ${spec.teamId}`,
    TimeToLive: Math.max(0, Math.round((expires.getTime() - created.getTime()) / DAY_MS)),
    UUID: spec.uuid ?? derivedUuid(spec),
    Version: 1,
  })
  return Buffer.from(plist.build(profile), 'utf8')
}
