import {createHash} from 'node:crypto'
import {type BerElement, berChildren, berContent, berRaw, isContext, isUniversal, oidText, readBer} from './ber.js'
import {FormatError} from './format-error.js'
import {attributeString, readName, type X501Name} from './x501-name.js'

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

/** The fields of an X.509 certificate (RFC 5280 §4.1) that chain building and signature checks read. */
export interface X509Fields {
  /** The exact DER of tbsCertificate: what the issuer signed. */
  tbs: Uint8Array
  signatureAlgorithm: string
  /** The signature BIT STRING's bits (the unused-bits octet removed). */
  signatureValue: Uint8Array
  serialNumber: Uint8Array
  issuer: X501Name
  subject: X501Name
  /** The exact DER of subjectPublicKeyInfo. */
  subjectPublicKeyInfo: Buffer
  extensions: Array<{id: string; critical: boolean; value: Uint8Array}>
}

/** A decoded certificate: the facts callers use, plus the fields the trust code needs. */
export interface ParsedCertificate {
  info: CertificateInfo
  cert: X509Fields
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
const MALFORMED = 'certificate.malformed'
const WHAT = 'certificate'

/**
 * Decodes a DER X.509 certificate (RFC 5280 §4.1). Throws FormatError('certificate.malformed' or
 * 'certificate.too-large') for anything that is not exactly one certificate.
 */
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
  const cert = x509Fields(der)
  return {cert, info: certificateInfo(Buffer.from(der), cert)}
}

function malformed(why: string): never {
  throw new FormatError(MALFORMED, `certificate: not an X.509 certificate (${why})`)
}

function x509Fields(der: Buffer): X509Fields {
  const top = readBer(der, 0, der.length, MALFORMED, WHAT)
  if (top.end !== der.length) malformed('trailing bytes')
  if (!isUniversal(top, 16)) malformed('not a SEQUENCE')
  const [tbs, sigAlg, sigValue, extra] = berChildren(top, MALFORMED, WHAT)
  if (!isUniversal(tbs, 16) || extra !== undefined) malformed('not {tbsCertificate, signatureAlgorithm, signature}')
  if (!isUniversal(sigValue, 3) || sigValue.constructed || sigValue.contentEnd === sigValue.contentStart) malformed('the signature is not a BIT STRING')
  const f = berChildren(tbs, MALFORMED, WHAT)
  let i = isContext(f[0], 0) ? 1 : 0
  const serial = f[i++]
  if (!isUniversal(serial, 2) || serial.constructed) malformed('serialNumber is not an INTEGER')
  algorithmOid(f[i++])
  const issuer = f[i++]
  const validity = f[i++]
  const subject = f[i++]
  const spki = f[i++]
  if (!isUniversal(issuer, 16) || !isUniversal(subject, 16)) malformed('issuer or subject is not a Name')
  if (!isUniversal(validity, 16)) malformed('validity is not a SEQUENCE')
  if (!isUniversal(spki, 16)) malformed('subjectPublicKeyInfo is not a SEQUENCE')
  const fields: X509Fields = {
    tbs: berRaw(tbs),
    signatureAlgorithm: algorithmOid(sigAlg),
    signatureValue: berContent(sigValue).subarray(1),
    serialNumber: berContent(serial),
    issuer: readName(issuer, MALFORMED, WHAT),
    subject: readName(subject, MALFORMED, WHAT),
    subjectPublicKeyInfo: Buffer.from(berRaw(spki)),
    extensions: [],
  }
  const [notBefore, notAfter] = berChildren(validity, MALFORMED, WHAT)
  validityDates.set(fields, [timeOf(notBefore), timeOf(notAfter)])
  while (i < f.length && !isContext(f[i], 3)) i++ // issuerUniqueID, subjectUniqueID
  if (isContext(f[i], 3)) {
    const list = berChildren(f[i]!, MALFORMED, WHAT)[0]
    if (!isUniversal(list, 16)) malformed('extensions are not a SEQUENCE')
    for (const ext of berChildren(list, MALFORMED, WHAT)) {
      const parts = isUniversal(ext, 16) ? berChildren(ext, MALFORMED, WHAT) : []
      const critical = isUniversal(parts[1], 1) ? berContent(parts[1])[0] !== 0 : false
      const value = parts[parts.length - 1]
      if (!isUniversal(parts[0], 6) || !isUniversal(value, 4) || value.constructed || parts.length > 3) malformed('an extension is not {OID, critical, OCTET STRING}')
      fields.extensions.push({id: oidText(parts[0], MALFORMED, WHAT), critical, value: berContent(value)})
    }
  }
  return fields
}

const validityDates = new WeakMap<X509Fields, [Date, Date]>()

function algorithmOid(el: BerElement | undefined): string {
  const id = isUniversal(el, 16) ? berChildren(el, MALFORMED, WHAT)[0] : undefined
  return isUniversal(id, 6) ? oidText(id, MALFORMED, WHAT) : malformed('an AlgorithmIdentifier is not {OID, parameters}')
}

/** UTCTime (YYMMDDHHMMSSZ, years 50–99 in the 1900s, RFC 5280 §4.1.2.5.1) or GeneralizedTime (YYYYMMDDHHMMSS[.f]Z). */
export function timeOf(el: BerElement | undefined): Date {
  if (el === undefined || el.constructed || el.tagClass !== 0) return malformed('a time is missing')
  const text = Buffer.from(berContent(el)).toString('latin1')
  let m: RegExpExecArray | null
  let year: number
  if (el.tagNumber === 23 && (m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?Z$/.exec(text))) {
    year = Number(m[1]) + (Number(m[1]) < 50 ? 2000 : 1900)
  } else if (el.tagNumber === 24 && (m = /^\d\d(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?(\.\d+)?Z$/.exec(text))) {
    year = Number(text.slice(0, 4))
  } else {
    return malformed(`"${text}" is not a UTCTime or GeneralizedTime in UTC`)
  }
  const fraction = m[7] ? Math.floor(Number(m[7]) * 1000) : 0
  const date = new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0), fraction))
  if (Number.isNaN(date.getTime()) || date.getUTCMonth() !== Number(m[2]) - 1 || date.getUTCDate() !== Number(m[3])) return malformed(`"${text}" is not a valid date`)
  return date
}

/** Builds the info from the decoded fields. */
function certificateInfo(der: Buffer, cert: X509Fields): CertificateInfo {
  const subject = distinguishedName(cert.subject)
  const issuer = distinguishedName(cert.issuer)
  const appleExtensionOids = cert.extensions.map(e => e.id).filter(oid => oid.startsWith(APPLE_ARC))
  const [notBefore, notAfter] = validityDates.get(cert)!
  const info: CertificateInfo = {
    der,
    sha1: createHash('sha1').update(der).digest('hex').toUpperCase(),
    sha256: createHash('sha256').update(der).digest('hex').toUpperCase(),
    subject,
    issuer,
    notBefore,
    notAfter,
    serialHex: Buffer.from(cert.serialNumber).toString('hex').toUpperCase(),
    isCA: isCertificateAuthority(cert),
    role: roleOf(appleExtensionOids, subject.CN),
    appleExtensionOids,
  }
  if (subject.CN !== undefined) info.commonName = subject.CN
  if (subject.OU !== undefined) info.teamId = subject.OU
  return info
}

function roleOf(appleOids: readonly string[], commonName: string | undefined): CertificateRole {
  for (const [oid, role] of ROLE_MARKERS) if (appleOids.includes(oid)) return role
  for (const [prefix, role] of ROLE_NAME_PREFIXES) if (commonName?.startsWith(prefix)) return role
  return 'other'
}

/** The decoded value of extension `id`, or undefined when absent or not DER. */
export function extensionValue(cert: X509Fields, id: string): BerElement | undefined {
  const ext = cert.extensions.find(e => e.id === id)
  if (!ext) return undefined
  try {
    const el = readBer(ext.value, 0, ext.value.length, MALFORMED, WHAT)
    return el.end === ext.value.length ? el : undefined
  } catch {
    return undefined
  }
}

/** basicConstraints (RFC 5280 §4.2.1.9) with cA TRUE. */
function isCertificateAuthority(cert: X509Fields): boolean {
  const value = extensionValue(cert, BASIC_CONSTRAINTS)
  if (!isUniversal(value, 16) || !value.constructed) return false
  try {
    const first = berChildren(value, MALFORMED, WHAT)[0]
    return isUniversal(first, 1) && !first.constructed && berContent(first)[0] !== undefined && berContent(first)[0] !== 0
  } catch {
    return false
  }
}

/** Keyed by short attribute names; the first value of each type wins. */
export function distinguishedName(name: X501Name): Record<string, string> {
  const out: Record<string, string> = {}
  for (const a of name.attributes) {
    const key = ATTRIBUTE_NAMES[a.type] ?? a.type
    if (key in out) continue
    out[key] = attributeString(a) ?? Buffer.from(a.value).toString('hex').toUpperCase()
  }
  return out
}
