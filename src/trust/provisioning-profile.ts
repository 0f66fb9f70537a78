import {createHash} from 'node:crypto'
import {decodeDerPlistDict} from '../formats/der-plist.js'
import type {TrustStore} from './trust-store.js'
import {type CertificateInfo, describeCertificate} from '../formats/certificate.js'
import {type CmsVerification, verifyCms} from './cms.js'
import {FormatError} from '../formats/format-error.js'
import {isDict, parsePropertyListDict, samePlistValue, type PlistDict, type PlistValue} from '../formats/property-list.js'

export type ProfileKind = 'developer-id' | 'development' | 'ad-hoc' | 'app-store' | 'enterprise' | 'unknown'

export interface ProvisioningProfile {
  name: string
  uuid: string
  appIdName?: string
  teamIds: string[]
  teamName?: string
  applicationIdentifierPrefix: string[]
  /** Entitlements['com.apple.application-identifier'], e.g. `TEAMID.com.example.daemon` or a wildcard. */
  appId?: string
  creationDate?: Date
  expirationDate?: Date
  platforms: string[]
  isXcodeManaged: boolean
  provisionsAllDevices: boolean
  provisionedDevices: string[]
  /** The leaf certificates allowed to sign code this profile covers. */
  developerCertificates: CertificateInfo[]
  /** The allowlist of entitlements. */
  entitlements: PlistDict
  kind: ProfileKind
  plist: PlistDict
}

export interface ProfileProblem {
  /** The plist key the problem is about. */
  field: string
  message: string
}

export interface ProfileReading {
  profile: ProvisioningProfile
  cms: CmsVerification
  /** The nested DER-Encoded-Profile (ECDSA, Apple Root CA - G3) and how its fields compare with the plist. */
  derProfile?: {cms: CmsVerification; matchesPlist: boolean; mismatches: string[]}
  problems: ProfileProblem[]
}

const APP_ID_ENTITLEMENT = 'com.apple.application-identifier'
const DER_PROFILE_KEY = 'DER-Encoded-Profile'

/**
 * Reads a provisioning profile: a CMS SignedData whose attached content is an XML plist. The CMS is
 * judged at its signing time (profiles signed by a since-expired Apple CA keep working). Throws
 * FormatError only when the bytes are not a CMS carrying a plist dictionary; missing or ill-typed
 * keys are `problems`.
 */
export async function readProvisioningProfile(bytes: Buffer, opts: {trust: TrustStore; now: Date}): Promise<ProfileReading> {
  const cms = await verifyCms(bytes, {trust: opts.trust, now: opts.now, validity: 'signing-time'})
  if (!cms.content) throw new FormatError('profile.no-content', 'provisioning profile: the CMS has no attached content')
  const plist = parsePropertyListDict(cms.content, 'provisioning profile')
  const problems: ProfileProblem[] = []
  const profile = profileFromPlist(plist, problems)
  const reading: ProfileReading = {profile, cms, problems}

  const derValue = plist[DER_PROFILE_KEY]
  if (derValue !== undefined) {
    if (!(derValue instanceof Uint8Array)) {
      problems.push({field: DER_PROFILE_KEY, message: 'is not data'})
    } else {
      try {
        reading.derProfile = await readDerProfile(Buffer.from(derValue), plist, opts)
      } catch (e) {
        // Stryker disable next-line ConditionalExpression: verifyCms and decodeDerPlistDict throw only FormatError, whatever the bytes; the rethrow guards against a bug, not an input
        if (!(e instanceof FormatError)) throw e
        problems.push({field: DER_PROFILE_KEY, message: e.message})
      }
    }
  }
  return reading
}

function profileFromPlist(plist: PlistDict, problems: ProfileProblem[]): ProvisioningProfile {
  const fields = new FieldReader(plist, problems)
  const entitlements = fields.dict('Entitlements', true) ?? {}
  const developerCertificates: CertificateInfo[] = []
  for (const [i, der] of (fields.dataArray('DeveloperCertificates', true) ?? []).entries()) {
    try {
      developerCertificates.push(describeCertificate(der))
    } catch (e) {
      // Stryker disable next-line ConditionalExpression: describeCertificate throws only FormatError, whatever the bytes; the rethrow guards against a bug, not an input
      if (!(e instanceof FormatError)) throw e
      problems.push({field: 'DeveloperCertificates', message: `entry ${i}: ${e.message}`})
    }
  }
  const profile: Omit<ProvisioningProfile, 'kind'> = {
    name: fields.string('Name', true) ?? '',
    uuid: fields.string('UUID', true) ?? '',
    teamIds: fields.stringArray('TeamIdentifier', true) ?? [],
    applicationIdentifierPrefix: fields.stringArray('ApplicationIdentifierPrefix', false) ?? [],
    platforms: fields.stringArray('Platform', false) ?? [],
    isXcodeManaged: fields.boolean('IsXcodeManaged') ?? false,
    provisionsAllDevices: fields.boolean('ProvisionsAllDevices') ?? false,
    provisionedDevices: fields.stringArray('ProvisionedDevices', false) ?? [],
    developerCertificates,
    entitlements,
    plist,
  }
  const optional = {
    appIdName: fields.string('AppIDName', false),
    teamName: fields.string('TeamName', false),
    creationDate: fields.date('CreationDate', false),
    expirationDate: fields.date('ExpirationDate', true),
  }
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) Object.assign(profile, {[key]: value})
  const appId = entitlements[APP_ID_ENTITLEMENT]
  if (typeof appId === 'string') profile.appId = appId
  else problems.push({field: 'Entitlements', message: `${APP_ID_ENTITLEMENT} is ${appId === undefined ? 'missing' : 'not a string'}`})
  return {...profile, kind: kindOf(profile)}
}

/**
 * Apple does not label the kind in the plist; it follows from how devices are covered and what
 * certificates may sign: Developer ID and enterprise profiles cover all devices, development and
 * ad-hoc ones list devices, App Store ones do neither.
 */
function kindOf(p: Omit<ProvisioningProfile, 'kind'>): ProfileKind {
  const roles = new Set(p.developerCertificates.map(c => c.role))
  if (p.provisionsAllDevices) return roles.has('developer-id') ? 'developer-id' : roles.has('apple-distribution') ? 'enterprise' : 'unknown'
  if (p.provisionedDevices.length > 0) {
    if (p.entitlements['get-task-allow'] === true || p.entitlements['com.apple.security.get-task-allow'] === true || roles.has('apple-development')) return 'development'
    return roles.has('apple-distribution') ? 'ad-hoc' : 'unknown'
  }
  return roles.has('apple-distribution') ? 'app-store' : 'unknown'
}

/** Typed access to plist keys that records a problem for every missing (when required) or ill-typed key. */
class FieldReader {
  constructor(
    private readonly plist: PlistDict,
    private readonly problems: ProfileProblem[],
  ) {}

  private get<T>(key: string, required: boolean, expected: string, accept: (v: PlistValue) => v is PlistValue & T): T | undefined {
    const value = this.plist[key]
    if (value === undefined) {
      if (required) this.problems.push({field: key, message: 'is missing'})
      return undefined
    }
    if (!accept(value)) {
      this.problems.push({field: key, message: `is not ${expected}`})
      return undefined
    }
    return value
  }

  string(key: string, required: boolean): string | undefined {
    return this.get(key, required, 'a string', (v): v is string => typeof v === 'string')
  }

  boolean(key: string): boolean | undefined {
    return this.get(key, false, 'a boolean', (v): v is boolean => typeof v === 'boolean')
  }

  date(key: string, required: boolean): Date | undefined {
    return this.get(key, required, 'a date', (v): v is Date => v instanceof Date && !Number.isNaN(v.getTime()))
  }

  dict(key: string, required: boolean): PlistDict | undefined {
    return this.get(key, required, 'a dictionary', (v): v is PlistDict => isDict(v))
  }

  stringArray(key: string, required: boolean): string[] | undefined {
    return this.get(key, required, 'an array of strings', (v): v is string[] => Array.isArray(v) && v.every(s => typeof s === 'string'))
  }

  dataArray(key: string, required: boolean): Buffer[] | undefined {
    const list = this.get(key, required, 'an array of data', (v): v is Uint8Array[] => Array.isArray(v) && v.every(d => d instanceof Uint8Array))
    return list?.map(d => Buffer.from(d))
  }
}

// --- DER-Encoded-Profile -------------------------------------------------------------------------

/** Keys whose values must agree between the plist and the DER-Encoded-Profile when either has them. */
const COMPARED_KEYS = [
  'Name', 'UUID', 'AppIDName', 'TeamName', 'TeamIdentifier', 'ApplicationIdentifierPrefix', 'CreationDate', 'ExpirationDate',
  'Platform', 'IsXcodeManaged', 'ProvisionsAllDevices', 'ProvisionedDevices', 'Entitlements', 'DeveloperCertificates',
] as const

async function readDerProfile(der: Buffer, plist: PlistDict, opts: {trust: TrustStore; now: Date}): Promise<NonNullable<ProfileReading['derProfile']>> {
  const cms = await verifyCms(der, {trust: opts.trust, now: opts.now, validity: 'signing-time'})
  // Stryker disable next-line StringLiteral: readProvisioningProfile keeps this error's message as a problem, never its code
  if (!cms.content) throw new FormatError('profile.der-no-content', `${DER_PROFILE_KEY}: the CMS has no attached content`)
  const derDict = decodeDerPlistDict(cms.content, DER_PROFILE_KEY)
  const mismatches: string[] = []
  for (const key of COMPARED_KEYS) {
    const fromPlist = key === 'DeveloperCertificates' ? certificateDigests(plist[key]) : plist[key]
    // Absent on both sides compares equal.
    if (!samePlistValue(fromPlist, derDict[key])) mismatches.push(key)
  }
  return {cms, matchesPlist: mismatches.length === 0, mismatches}
}

/** The DER profile lists certificates by SHA-256 rather than in full. */
function certificateDigests(value: PlistValue | undefined): PlistValue | undefined {
  if (!Array.isArray(value)) return value
  return value.map(d => (d instanceof Uint8Array ? createHash('sha256').update(d).digest() : d))
}
