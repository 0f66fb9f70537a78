import {decodeOneDerValue} from './der.js'
import {createHash} from 'node:crypto'
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import {FormatError} from './format-error.js'

export type CertificateRole = 'apple' | 'developer-id' | 'apple-development' | 'apple-distribution' | 'mac-installer' | 'other'

export interface CertificateInfo {
  der: Buffer
  /** Upper-case hex digests of the DER. */
  sha1: string
  sha256: string
  /** Keyed by short attribute names (CN, OU, O, C, UID, …); unknown attributes by dotted OID. */
  subject: Record<string, string>
  issuer: Record<string, string>
  commonName?: string
  /** The subject OU, which Apple sets to the team identifier on developer certificates. */
  teamId?: string
  notBefore: Date
  notAfter: Date
  serialHex: string
  isCA: boolean
  role: CertificateRole
  /** Extension OIDs under Apple's arc 1.2.840.113635 present on the certificate. */
  appleExtensionOids: string[]
}

/**
 * Apple marks what a leaf may sign with an extension under 1.2.840.113635.100.6.1. These are the
 * ones a macOS code or installer signature can carry; iOS-era markers map to the same roles
 * because Apple's unified "Apple Development"/"Apple Distribution" leaves carry both.
 */
const ROLE_MARKERS: ReadonlyArray<readonly [string, CertificateRole]> = [
  ['1.2.840.113635.100.6.22', 'apple'], // Apple's own Software Signing leaf (Apple Code Signing Certification Authority)
  ['1.2.840.113635.100.6.1.13', 'developer-id'], // Developer ID Application
  ['1.2.840.113635.100.6.1.14', 'mac-installer'], // Developer ID Installer
  ['1.2.840.113635.100.6.1.8', 'mac-installer'], // Mac Installer Distribution (3rd Party Mac Developer Installer)
  ['1.2.840.113635.100.6.1.12', 'apple-development'], // Mac Development / Apple Development
  ['1.2.840.113635.100.6.1.2', 'apple-development'], // iOS Development / Apple Development
  ['1.2.840.113635.100.6.1.7', 'apple-distribution'], // Mac App Distribution / Apple Distribution
  ['1.2.840.113635.100.6.1.4', 'apple-distribution'], // iOS Distribution / Apple Distribution
]

const ROLE_NAME_PREFIXES: ReadonlyArray<readonly [string, CertificateRole]> = [
  ['Developer ID Application:', 'developer-id'],
  ['Developer ID Installer:', 'mac-installer'],
  ['3rd Party Mac Developer Installer:', 'mac-installer'],
  ['Mac Installer Distribution:', 'mac-installer'],
  ['Apple Development:', 'apple-development'],
  ['Mac Developer:', 'apple-development'],
  ['Apple Distribution:', 'apple-distribution'],
  ['3rd Party Mac Developer Application:', 'apple-distribution'],
]

const ATTRIBUTE_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '0.9.2342.19200300.100.1.1': 'UID',
  '1.2.840.113549.1.9.1': 'emailAddress',
}

const APPLE_ARC = '1.2.840.113635.'
const BASIC_CONSTRAINTS = '2.5.29.19'
/** Certificates are a few kilobytes; anything this large is not one we should spend time on. */
const MAX_CERTIFICATE_BYTES = 64 * 1024

/** A decoded certificate: the facts callers use, plus the pkijs object the trust code needs. */
export interface ParsedCertificate {
  info: CertificateInfo
  cert: pkijs.Certificate
}

export function describeCertificate(der: Buffer): CertificateInfo {
  return parseCertificate(der).info
}

/**
 * The same few Apple certificates come back in every slice's CMS, the profile and its timestamp
 * tokens; decoding one costs far more than hashing it. Parsed certificates are never mutated.
 */
const recentlyParsed = new Map<string, ParsedCertificate>()
const RECENT_LIMIT = 64

export function parseCertificate(der: Buffer): ParsedCertificate {
  const key = createHash('sha256').update(der).digest('base64')
  const known = recentlyParsed.get(key)
  if (known) return known
  const parsed = parseCertificateUncached(der)
  if (recentlyParsed.size >= RECENT_LIMIT) recentlyParsed.delete(recentlyParsed.keys().next().value!)
  recentlyParsed.set(key, parsed)
  return parsed
}

function parseCertificateUncached(der: Buffer): ParsedCertificate {
  if (der.length > MAX_CERTIFICATE_BYTES) {
    throw new FormatError('certificate.too-large', `certificate of ${der.length} bytes exceeds the ${MAX_CERTIFICATE_BYTES}-byte limit`)
  }
  const schema = decodeOneDerValue(der, 'certificate.malformed', 'certificate')
  let cert: pkijs.Certificate
  try {
    cert = new pkijs.Certificate({schema})
  } catch (e) {
    throw new FormatError('certificate.malformed', `certificate: not an X.509 certificate (${(e as Error).message})`)
  }
  return {cert, info: certificateInfo(Buffer.from(der), cert)}
}

/** Builds the info from an already decoded certificate (e.g. one inside a CMS certificate set). */
export function certificateInfo(der: Buffer, cert: pkijs.Certificate): CertificateInfo {
  try {
    const subject = distinguishedName(cert.subject)
    const issuer = distinguishedName(cert.issuer)
    const extensionOids = (cert.extensions ?? []).map(e => e.extnID)
    const appleExtensionOids = extensionOids.filter(oid => oid.startsWith(APPLE_ARC))
    const info: CertificateInfo = {
      der,
      sha1: createHash('sha1').update(der).digest('hex').toUpperCase(),
      sha256: createHash('sha256').update(der).digest('hex').toUpperCase(),
      subject,
      issuer,
      notBefore: cert.notBefore.value,
      notAfter: cert.notAfter.value,
      serialHex: Buffer.from(cert.serialNumber.valueBlock.valueHexView).toString('hex').toUpperCase(),
      isCA: isCertificateAuthority(cert),
      role: roleOf(appleExtensionOids, subject.CN),
      appleExtensionOids,
    }
    if (subject.CN !== undefined) info.commonName = subject.CN
    if (subject.OU !== undefined) info.teamId = subject.OU
    if (!(info.notBefore instanceof Date) || Number.isNaN(info.notBefore.getTime()) || !(info.notAfter instanceof Date) || Number.isNaN(info.notAfter.getTime())) {
      throw new Error('validity dates do not decode')
    }
    return info
  } catch (e) {
    if (e instanceof FormatError) throw e
    throw new FormatError('certificate.malformed', `certificate: ${(e as Error).message}`)
  }
}

function roleOf(appleOids: readonly string[], commonName: string | undefined): CertificateRole {
  for (const [oid, role] of ROLE_MARKERS) if (appleOids.includes(oid)) return role
  for (const [prefix, role] of ROLE_NAME_PREFIXES) if (commonName?.startsWith(prefix)) return role
  return 'other'
}

function isCertificateAuthority(cert: pkijs.Certificate): boolean {
  const ext = cert.extensions?.find(e => e.extnID === BASIC_CONSTRAINTS)
  const parsed = ext?.parsedValue as unknown
  return parsed instanceof pkijs.BasicConstraints && parsed.cA === true
}

export function distinguishedName(name: pkijs.RelativeDistinguishedNames): Record<string, string> {
  const out: Record<string, string> = {}
  for (const tv of name.typesAndValues) {
    const key = ATTRIBUTE_NAMES[tv.type] ?? tv.type
    if (key in out) continue
    out[key] = attributeText(tv.value)
  }
  return out
}

function attributeText(value: unknown): string {
  const block = (value as {valueBlock?: {value?: unknown; valueHexView?: Uint8Array}}).valueBlock
  if (typeof block?.value === 'string') return block.value
  if (block?.valueHexView) return Buffer.from(block.valueHexView).toString('hex').toUpperCase()
  return ''
}
