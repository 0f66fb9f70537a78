import {createHash, randomBytes, type webcrypto} from 'node:crypto'
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import {type CertificateInfo, describeCertificate} from '../../src/formats/certificate.js'
import {TrustStore, type TrustAnchor} from '../../src/trust/apple-roots.js'

type CryptoKey = webcrypto.CryptoKey

/**
 * A throw-away certificate hierarchy made in memory with WebCrypto (ECDSA P-256) and pkijs, shaped
 * like Apple's: a root, a Developer ID-like intermediate, a WWDR-like intermediate for development
 * leaves and profile signing, and a time-stamping authority. Its root reaches the code under test
 * only through `new TrustStore(pki.anchors)`.
 */
export interface TestIdentity {
  certDer: Buffer
  privateKey: CryptoKey
  /** Intermediates, then the root. */
  chainDer: Buffer[]
  info: CertificateInfo
}

export interface TestPki {
  anchors: TrustAnchor[]
  trust: TrustStore
  /**
   * A Developer ID Application leaf: CN "Developer ID Application: <name> (<team>)" (or `commonName`
   * verbatim; none at all with `withoutCommonName`), OU = team, with Apple's Developer ID marker extension.
   */
  developerId(teamId: string, opts?: {commonName?: string; withoutCommonName?: boolean; name?: string; notBefore?: Date; notAfter?: Date}): Promise<TestIdentity>
  /**
   * A Developer ID Installer leaf with an RSA 2048 key (a xar `<signature style="RSA">` needs one):
   * CN "Developer ID Installer: <name> (<team>)", OU = team, Apple's Developer ID Installer marker.
   */
  developerIdInstaller(teamId: string): Promise<TestIdentity>
  /**
   * A Mac App Store installer leaf with an RSA 2048 key: CN "3rd Party Mac Developer Installer: <name> (<team>)",
   * OU = team, under the WWDR CA, with Apple's Mac Installer Distribution marker.
   */
  macInstallerDistribution(teamId: string): Promise<TestIdentity>
  /** An Apple Development leaf: CN "Apple Development: <name> (<id>)", OU = team, Mac and iOS development markers. */
  appleDevelopment(teamId: string): Promise<TestIdentity>
  /** Like Apple's own code signing: leaf "Software Signing" (no team OU) with Apple's software-signing marker, under a code-signing CA. */
  appleSoftwareSigning(): Promise<TestIdentity>
  profileSigner: TestIdentity
  tsa: TestIdentity
}

pkijs.setEngine('node-webcrypto', new pkijs.CryptoEngine({name: 'node-webcrypto', crypto: globalThis.crypto}))

/** The object identifiers the test PKI writes (RFC 5652, RFC 3161, RFC 5280, Apple's code-signing OIDs). */
export const OID = {
  commonName: '2.5.4.3',
  country: '2.5.4.6',
  organization: '2.5.4.10',
  organizationalUnit: '2.5.4.11',
  userId: '0.9.2342.19200300.100.1.1',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  developerIdApplication: '1.2.840.113635.100.6.1.13',
  developerIdInstaller: '1.2.840.113635.100.6.1.14',
  macInstallerDistribution: '1.2.840.113635.100.6.1.8',
  appleSoftwareSigning: '1.2.840.113635.100.6.22',
  macDevelopment: '1.2.840.113635.100.6.1.12',
  iosDevelopment: '1.2.840.113635.100.6.1.2',
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  timestampToken: '1.2.840.113549.1.9.16.2.14',
  appleCdHashesPlist: '1.2.840.113635.100.9.1',
  appleCdHashesDigests: '1.2.840.113635.100.9.2',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
}

const KEY_ALGORITHM: webcrypto.EcKeyGenParams = {name: 'ECDSA', namedCurve: 'P-256'}
const RSA_KEY_ALGORITHM: webcrypto.RsaHashedKeyGenParams = {name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256'}
const LONG_AGO = new Date('2001-01-01T00:00:00Z')
const FAR_AHEAD = new Date('2049-12-31T00:00:00Z')

interface Issuer {
  cert: pkijs.Certificate
  privateKey: CryptoKey
  /** The issuer's own chain above it (intermediates, then root), as DER. */
  chainDer: Buffer[]
  der: Buffer
}

interface CertificateSpec {
  subject: Array<[string, string]>
  issuer?: Issuer
  notBefore?: Date
  notAfter?: Date
  ca?: boolean
  extKeyUsage?: string[]
  appleMarkers?: string[]
  rsa?: boolean
}

function name(attributes: Array<[string, string]>): pkijs.RelativeDistinguishedNames {
  return new pkijs.RelativeDistinguishedNames({
    typesAndValues: attributes.map(
      ([type, value]) =>
        new pkijs.AttributeTypeAndValue({type, value: type === OID.country ? new asn1js.PrintableString({value}) : new asn1js.Utf8String({value})}),
    ),
  })
}

function extension(extnID: string, critical: boolean, value: asn1js.AsnType, parsedValue?: unknown): pkijs.Extension {
  return new pkijs.Extension({extnID, critical, extnValue: value.toBER(false), parsedValue})
}

async function issue(spec: CertificateSpec): Promise<Issuer> {
  const keys = (await crypto.subtle.generateKey(spec.rsa ? RSA_KEY_ALGORITHM : KEY_ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair
  const cert = new pkijs.Certificate()
  cert.version = 2
  const serial = randomBytes(9)
  serial[0] = serial[0]! & 0x7f
  cert.serialNumber = new asn1js.Integer({valueHex: serial})
  cert.subject = name(spec.subject)
  cert.issuer = spec.issuer ? spec.issuer.cert.subject : cert.subject
  cert.notBefore.value = spec.notBefore ?? LONG_AGO
  cert.notAfter.value = spec.notAfter ?? FAR_AHEAD
  const basic = new pkijs.BasicConstraints({cA: spec.ca ?? false})
  const usage = new asn1js.BitString({valueHex: new Uint8Array([spec.ca ? 0x06 : 0x80]).buffer, unusedBits: spec.ca ? 1 : 7})
  cert.extensions = [extension(OID.basicConstraints, true, basic.toSchema(), basic), extension(OID.keyUsage, true, usage)]
  if (spec.extKeyUsage) {
    const eku = new pkijs.ExtKeyUsage({keyPurposes: spec.extKeyUsage})
    cert.extensions.push(extension(OID.extKeyUsage, true, eku.toSchema(), eku))
  }
  for (const marker of spec.appleMarkers ?? []) cert.extensions.push(extension(marker, true, new asn1js.Null()))
  await cert.subjectPublicKeyInfo.importKey(keys.publicKey)
  await cert.sign(spec.issuer?.privateKey ?? keys.privateKey, 'SHA-256')
  const der = Buffer.from(cert.toSchema(true).toBER(false))
  const chainDer = spec.issuer ? [spec.issuer.der, ...spec.issuer.chainDer] : []
  return {cert, privateKey: keys.privateKey, chainDer, der}
}

function identity(issued: Issuer): TestIdentity {
  return {certDer: issued.der, privateKey: issued.privateKey, chainDer: issued.chainDer, info: describeCertificate(issued.der)}
}

const ORG: Array<[string, string]> = [
  [OID.organizationalUnit, 'esdctl Test Certification Authority'],
  [OID.organization, 'esdctl tests'],
  [OID.country, 'US'],
]

async function buildTestPki(): Promise<TestPki> {
  const root = await issue({subject: [[OID.commonName, 'esdctl Test Root CA'], ...ORG], ca: true})
  const developerIdCa = await issue({subject: [[OID.commonName, 'esdctl Test Developer ID Certification Authority'], ...ORG], issuer: root, ca: true})
  const wwdrCa = await issue({subject: [[OID.commonName, 'esdctl Test Worldwide Developer Relations CA'], ...ORG], issuer: root, ca: true})
  const profileSigner = await issue({
    subject: [[OID.commonName, 'esdctl Test Provisioning Profile Signing'], [OID.organization, 'esdctl tests'], [OID.country, 'US']],
    issuer: wwdrCa,
  })
  const tsa = await issue({
    subject: [[OID.commonName, 'esdctl Test Timestamp Signer'], [OID.organization, 'esdctl tests'], [OID.country, 'US']],
    issuer: root,
    extKeyUsage: [OID.timeStamping],
  })
  const anchors: TrustAnchor[] = [{name: 'esdctl Test Root CA', der: root.der}]
  const leaf = (team: string, cn: string, org: string) => [[OID.userId, team], [OID.commonName, cn], [OID.organizationalUnit, team], [OID.organization, org], [OID.country, 'US']] as Array<[string, string]>
  return {
    anchors,
    trust: new TrustStore(anchors),
    profileSigner: identity(profileSigner),
    tsa: identity(tsa),
    async developerId(teamId, opts = {}) {
      const org = opts.name ?? 'esdctl Test Developer'
      const spec: CertificateSpec = {
        subject: leaf(teamId, opts.commonName ?? `Developer ID Application: ${org} (${teamId})`, org).filter(([type]) => !(opts.withoutCommonName && type === OID.commonName)),
        issuer: developerIdCa,
        extKeyUsage: [OID.codeSigning],
        appleMarkers: [OID.developerIdApplication],
      }
      if (opts.notBefore) spec.notBefore = opts.notBefore
      if (opts.notAfter) spec.notAfter = opts.notAfter
      return identity(await issue(spec))
    },
    async developerIdInstaller(teamId) {
      const org = 'esdctl Test Developer'
      return identity(await issue({subject: leaf(teamId, `Developer ID Installer: ${org} (${teamId})`, org), issuer: developerIdCa, appleMarkers: [OID.developerIdInstaller], rsa: true}))
    },
    async macInstallerDistribution(teamId) {
      const org = 'esdctl Test Developer'
      return identity(await issue({subject: leaf(teamId, `3rd Party Mac Developer Installer: ${org} (${teamId})`, org), issuer: wwdrCa, appleMarkers: [OID.macInstallerDistribution], rsa: true}))
    },
    async appleSoftwareSigning() {
      const ca = await issue({subject: [[OID.commonName, 'esdctl Test Apple Code Signing Certification Authority'], ...ORG], issuer: root, ca: true})
      return identity(
        await issue({
          subject: [[OID.commonName, 'Software Signing'], [OID.organizationalUnit, 'Apple Software'], [OID.organization, 'Apple Inc.'], [OID.country, 'US']],
          issuer: ca,
          extKeyUsage: [OID.codeSigning],
          appleMarkers: [OID.appleSoftwareSigning],
        }),
      )
    },
    async appleDevelopment(teamId) {
      const org = 'esdctl Test Developer'
      return identity(
        await issue({
          subject: leaf(teamId, `Apple Development: ${org} (${teamId.split('').reverse().join('')})`, org),
          issuer: wwdrCa,
          extKeyUsage: [OID.codeSigning],
          appleMarkers: [OID.iosDevelopment, OID.macDevelopment],
        }),
      )
    },
  }
}

let memo: Promise<TestPki> | undefined

export function createTestPki(): Promise<TestPki> {
  memo ??= buildTestPki()
  return memo
}

// --- signing -------------------------------------------------------------------------------------

function certificateOf(der: Buffer): pkijs.Certificate {
  return pkijs.Certificate.fromBER(der)
}

function attribute(type: string, values: asn1js.AsnType[]): pkijs.Attribute {
  return new pkijs.Attribute({type, values})
}

interface SignOptions {
  identity: TestIdentity
  content: Buffer
  attached: boolean
  eContentType: string
  signingTime?: Date
  extraAttributes?: pkijs.Attribute[]
}

async function signedData(opts: SignOptions): Promise<pkijs.SignedData> {
  const cert = certificateOf(opts.identity.certDer)
  const attributes = [
    attribute(OID.contentType, [new asn1js.ObjectIdentifier({value: opts.eContentType})]),
    ...(opts.signingTime ? [attribute(OID.signingTime, [new asn1js.UTCTime({valueDate: opts.signingTime})])] : []),
    attribute(OID.messageDigest, [new asn1js.OctetString({valueHex: createHash('sha256').update(opts.content).digest()})]),
    ...(opts.extraAttributes ?? []),
  ]
  const encap = new pkijs.EncapsulatedContentInfo({eContentType: opts.eContentType})
  if (opts.attached) encap.eContent = new asn1js.OctetString({valueHex: opts.content})
  const sd = new pkijs.SignedData({
    version: 1,
    encapContentInfo: encap,
    certificates: [cert, ...opts.identity.chainDer.map(certificateOf)],
    signerInfos: [
      new pkijs.SignerInfo({
        version: 1,
        sid: new pkijs.IssuerAndSerialNumber({issuer: cert.issuer, serialNumber: cert.serialNumber}),
        signedAttrs: new pkijs.SignedAndUnsignedAttributes({type: 0, attributes}),
      }),
    ],
  })
  await sd.sign(opts.identity.privateKey, 0, 'SHA-256', opts.content)
  return sd
}

function contentInfoDer(sd: pkijs.SignedData): Buffer {
  return Buffer.from(new pkijs.ContentInfo({contentType: OID.signedData, content: sd.toSchema(true)}).toSchema().toBER(false))
}

/** The hash a CodeDirectory names for itself (byte 0x25), as node's name and the full-length OID. */
function codeDirectoryHash(cd: Buffer): {node: string; oid: string} {
  const type = cd.length > 0x25 ? cd[0x25] : undefined
  switch (type) {
    case 1:
      return {node: 'sha1', oid: OID.sha1}
    case 2:
    case 3:
      return {node: 'sha256', oid: OID.sha256}
    case 4:
      return {node: 'sha384', oid: OID.sha384}
    default:
      throw new Error(`test-pki: CodeDirectory hash type ${type} is not one Apple uses`)
  }
}

function cdHashesPlist(hashes: readonly Buffer[]): Buffer {
  const items = hashes.map(h => `\t\t<data>${h.toString('base64')}</data>`).join('\n')
  return Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n` +
      `<plist version="1.0">\n<dict>\n\t<key>cdhashes</key>\n\t<array>\n${items}\n\t</array>\n</dict>\n</plist>\n`,
  )
}

/**
 * A detached CMS over `codeDirectories[0]`, as codesign makes for slot 0x10000: Apple's cdhash
 * attributes (100.9.1 plist of truncated cdhashes, 100.9.2 full hashes) and, when asked, an RFC 3161
 * token from the test TSA with genTime `timestamp.time`.
 */
export async function signCodeDirectories(opts: {
  codeDirectories: Buffer[]
  identity: TestIdentity
  signingTime?: Date
  /**
   * Which CodeDirectories Apple's attributes list: all, none, the first only, or (to forge a
   * signature whose two lists disagree) the indexes each list names, 100.9.1 `plist` and 100.9.2
   * `digests`; an empty list leaves its attribute out.
   */
  cdhashAttributes?: 'all' | 'none' | 'first-only' | {plist: number[]; digests: number[]}
  /**
   * Rewrites the 100.9.2 entries (hash OID, full CodeDirectory hash) before they are signed, to
   * forge a list whose algorithm or digest is wrong for a CodeDirectory it names.
   */
  forgeDigests?: (entries: Array<{oid: string; digest: Buffer}>) => Array<{oid: string; digest: Buffer}>
  timestamp?: {time: Date}
}): Promise<Buffer> {
  const [slot0] = opts.codeDirectories
  if (!slot0) throw new Error('test-pki: signCodeDirectories needs at least the slot-0 CodeDirectory')
  const mode = opts.cdhashAttributes ?? 'all'
  const listed = mode === 'none' ? [] : mode === 'first-only' ? [slot0] : opts.codeDirectories
  const pick = (indexes: number[]) => indexes.map(i => opts.codeDirectories[i]!)
  const [plistCds, digestCds] = typeof mode === 'object' ? [pick(mode.plist), pick(mode.digests)] : [listed, listed]
  const full = (cds: Buffer[]) => cds.map(cd => ({hash: codeDirectoryHash(cd), digest: createHash(codeDirectoryHash(cd).node).update(cd).digest()}))
  const extraAttributes: pkijs.Attribute[] = []
  if (digestCds.length > 0) {
    const entries = full(digestCds).map(f => ({oid: f.hash.oid, digest: f.digest}))
    extraAttributes.push(attribute(
      OID.appleCdHashesDigests,
      (opts.forgeDigests?.(entries) ?? entries).map(e => new asn1js.Sequence({value: [new asn1js.ObjectIdentifier({value: e.oid}), new asn1js.OctetString({valueHex: e.digest})]})),
    ))
  }
  if (plistCds.length > 0) {
    extraAttributes.push(attribute(OID.appleCdHashesPlist, [new asn1js.OctetString({valueHex: cdHashesPlist(full(plistCds).map(f => f.digest.subarray(0, 20)))})]))
  }
  const signOptions: SignOptions = {identity: opts.identity, content: slot0, attached: false, eContentType: OID.data, extraAttributes}
  if (opts.signingTime) signOptions.signingTime = opts.signingTime
  const sd = await signedData(signOptions)
  if (opts.timestamp) {
    const signerInfo = sd.signerInfos[0]!
    const token = await timestampToken(Buffer.from(signerInfo.signature.valueBlock.valueHexView), opts.timestamp.time)
    signerInfo.unsignedAttrs = new pkijs.SignedAndUnsignedAttributes({type: 1, attributes: [attribute(OID.timestampToken, [token])]})
  }
  return contentInfoDer(sd)
}

async function timestampToken(signature: Buffer, genTime: Date): Promise<asn1js.Sequence> {
  const pki = await createTestPki()
  const tstInfo = new pkijs.TSTInfo({
    version: 1,
    policy: '1.3.6.1.4.1.57264.999.1',
    messageImprint: new pkijs.MessageImprint({
      hashAlgorithm: new pkijs.AlgorithmIdentifier({algorithmId: OID.sha256}),
      hashedMessage: new asn1js.OctetString({valueHex: createHash('sha256').update(signature).digest()}),
    }),
    serialNumber: new asn1js.Integer({value: Math.floor(genTime.getTime() / 1000) % 2 ** 31}),
    genTime,
  })
  const content = Buffer.from(tstInfo.toSchema().toBER(false))
  const sd = await signedData({identity: pki.tsa, content, attached: true, eContentType: OID.tstInfo, signingTime: genTime})
  return new pkijs.ContentInfo({contentType: OID.signedData, content: sd.toSchema(true)}).toSchema() as asn1js.Sequence
}

/**
 * A detached CMS over a flat package's TOC checksum, as productsign writes for `<x-signature>`:
 * the identity's certificate and chain (none with `withoutCertificates`), and, when asked, an
 * RFC 3161 token from the test TSA with genTime `timestamp`.
 */
export async function signPackageChecksum(checksum: Buffer, identity: TestIdentity, opts: {timestamp?: Date; withoutCertificates?: boolean} = {}): Promise<Buffer> {
  const sd = await signedData({identity, content: checksum, attached: false, eContentType: OID.data, signingTime: opts.timestamp ?? new Date()})
  if (opts.timestamp) {
    const signerInfo = sd.signerInfos[0]!
    const token = await timestampToken(Buffer.from(signerInfo.signature.valueBlock.valueHexView), opts.timestamp)
    signerInfo.unsignedAttrs = new pkijs.SignedAndUnsignedAttributes({type: 1, attributes: [attribute(OID.timestampToken, [token])]})
  }
  if (opts.withoutCertificates) delete sd.certificates
  return contentInfoDer(sd)
}

/** An attached-content CMS over a profile plist, like Apple's (signing time included). */
export async function signProfile(plistXml: Buffer, identity?: TestIdentity, opts: {signingTime?: Date} = {}): Promise<Buffer> {
  const signer = identity ?? (await createTestPki()).profileSigner
  const sd = await signedData({identity: signer, content: plistXml, attached: true, eContentType: OID.data, signingTime: opts.signingTime ?? new Date()})
  return contentInfoDer(sd)
}
