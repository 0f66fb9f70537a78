import {createHash, KeyObject, sign, type webcrypto} from 'node:crypto'
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import {parseCertificate, type ParsedCertificate} from '../../src/formats/certificate.js'
import {OID} from './test-pki.js' // importing it also sets pkijs's crypto engine

/**
 * DER written by hand, field by field, so a test can break exactly one field of a CMS SignedData
 * (RFC 5652 §5) or an RFC 3161 TSTInfo and see that one refusal. Certificates come from pkijs with
 * WebCrypto keys; signatures from node:crypto. Shares no code with src/trust or src/formats/ber.
 */

export const OIDS = {
  ...OID,
  sha224: '2.16.840.1.101.3.4.2.4',
  sha512: '2.16.840.1.101.3.4.2.3',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecPublicKey: '1.2.840.10045.2.1',
  rsaEncryption: '1.2.840.113549.1.1.1',
  subjectKeyIdentifier: '2.5.29.14',
} as const

// --- DER -----------------------------------------------------------------------------------------

export function tlv(tag: number, ...parts: Uint8Array[]): Buffer {
  const body = Buffer.concat(parts)
  let length: Buffer
  if (body.length < 0x80) length = Buffer.from([body.length])
  else if (body.length < 0x100) length = Buffer.from([0x81, body.length])
  else if (body.length < 0x10000) length = Buffer.from([0x82, body.length >> 8, body.length & 0xff])
  else length = Buffer.from([0x83, body.length >> 16, (body.length >> 8) & 0xff, body.length & 0xff])
  return Buffer.concat([Buffer.from([tag]), length, body])
}

export const seq = (...parts: Uint8Array[]) => tlv(0x30, ...parts)
export const set = (...parts: Uint8Array[]) => tlv(0x31, ...parts)
export const octets = (bytes: Uint8Array) => tlv(0x04, bytes)
export const integer = (n: number) => tlv(0x02, Buffer.from([n]))
export const nullValue = () => tlv(0x05)
export const explicit = (n: number, ...parts: Uint8Array[]) => tlv(0xa0 + n, ...parts)

export function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number) as [number, number, ...number[]]
  const out = [40 * a + b]
  for (const arc of rest) {
    const group = [arc & 0x7f]
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) group.unshift((v & 0x7f) | 0x80)
    out.push(...group)
  }
  return tlv(0x06, Buffer.from(out))
}

export const algorithm = (dotted: string) => seq(oid(dotted))
export const attribute = (type: string, ...values: Uint8Array[]) => seq(oid(type), set(...values))

function twoDigits(n: number): string {
  return String(n).padStart(2, '0')
}

export function utcTime(d: Date): Buffer {
  const s = `${twoDigits(d.getUTCFullYear() % 100)}${twoDigits(d.getUTCMonth() + 1)}${twoDigits(d.getUTCDate())}${twoDigits(d.getUTCHours())}${twoDigits(d.getUTCMinutes())}${twoDigits(d.getUTCSeconds())}Z`
  return tlv(0x17, Buffer.from(s, 'latin1'))
}

export function generalizedTime(d: Date): Buffer {
  return tlv(0x18, Buffer.from(d.toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z'), 'latin1'))
}

// --- certificates --------------------------------------------------------------------------------

export interface MadeCertificate {
  der: Buffer
  parsed: ParsedCertificate
  pkijs: pkijs.Certificate
  keys: webcrypto.CryptoKeyPair
  /** The private key, for node:crypto's sign(). */
  key: KeyObject
}

export interface CertificateSpec {
  /** Subject attributes; default CN = `cn`. */
  subject?: Array<[string, string]>
  cn?: string
  /** Signs with this certificate's key and takes its subject as issuer; self-signed without. */
  issuer?: MadeCertificate
  /** The issuer name written, when it must differ from the signer's subject. */
  issuerName?: Array<[string, string]>
  /** Reuse a key pair (two certificates for one key). */
  keys?: webcrypto.CryptoKeyPair
  rsa?: boolean
  ca?: boolean
  notBefore?: Date
  notAfter?: Date
  extKeyUsage?: string[]
  /** Extra extensions: [OID, DER value]. */
  extensions?: Array<[string, Uint8Array]>
}

function rdn(attributes: Array<[string, string]>): pkijs.RelativeDistinguishedNames {
  return new pkijs.RelativeDistinguishedNames({typesAndValues: attributes.map(([type, value]) => new pkijs.AttributeTypeAndValue({type, value: new asn1js.Utf8String({value})}))})
}

let serial = 1

export async function makeCertificate(spec: CertificateSpec): Promise<MadeCertificate> {
  const keys =
    spec.keys ??
    ((await crypto.subtle.generateKey(
      spec.rsa ? {name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256'} : {name: 'ECDSA', namedCurve: 'P-256'},
      true,
      ['sign', 'verify'],
    )) as webcrypto.CryptoKeyPair)
  const cert = new pkijs.Certificate()
  cert.version = 2
  cert.serialNumber = new asn1js.Integer({value: serial++})
  cert.subject = rdn(spec.subject ?? [[OIDS.commonName, spec.cn ?? 'esdctl mutant test']])
  cert.issuer = spec.issuerName ? rdn(spec.issuerName) : spec.issuer ? spec.issuer.pkijs.subject : cert.subject
  cert.notBefore.value = spec.notBefore ?? new Date('2001-01-01T00:00:00Z')
  cert.notAfter.value = spec.notAfter ?? new Date('2049-12-31T00:00:00Z')
  const basic = new pkijs.BasicConstraints({cA: spec.ca ?? false})
  cert.extensions = [new pkijs.Extension({extnID: OIDS.basicConstraints, critical: true, extnValue: basic.toSchema().toBER(false), parsedValue: basic})]
  if (spec.extKeyUsage) {
    const eku = new pkijs.ExtKeyUsage({keyPurposes: spec.extKeyUsage})
    cert.extensions.push(new pkijs.Extension({extnID: OIDS.extKeyUsage, critical: true, extnValue: eku.toSchema().toBER(false), parsedValue: eku}))
  }
  for (const [id, value] of spec.extensions ?? []) cert.extensions.push(new pkijs.Extension({extnID: id, critical: false, extnValue: Uint8Array.from(value).buffer}))
  await cert.subjectPublicKeyInfo.importKey(keys.publicKey)
  await cert.sign(spec.issuer?.keys.privateKey ?? keys.privateKey, 'SHA-256')
  const der = Buffer.from(cert.toSchema(true).toBER(false))
  return {der, parsed: parseCertificate(der), pkijs: cert, keys, key: KeyObject.from(keys.privateKey)}
}

// --- CMS SignedData ------------------------------------------------------------------------------

export interface CmsSpec {
  signer: MadeCertificate
  content: Buffer
  /** Default true: eContent carries the content. */
  attached?: boolean
  eContentType?: string
  /** node:crypto digest name; default sha256. */
  digest?: string
  /** The digestAlgorithm OID written; default the OID of `digest`. */
  digestOid?: string
  signatureAlgorithm?: string
  signingTime?: Date
  /** Replaces the signed attributes (each an encoded Attribute); null leaves them out. */
  signedAttrs?: Buffer[] | null
  extraSignedAttrs?: Buffer[]
  unsignedAttrs?: Buffer[]
  /** The sid written; default issuerAndSerialNumber of `signer`. */
  sid?: Buffer
  /** Default: the signer's certificate. */
  certificates?: Buffer[]
}

/** The pieces of a CMS, so a test can replace one and assemble the rest. */
export interface CmsParts {
  /** SignedData's fields: version, digestAlgorithms, encapContentInfo, [0] certificates, signerInfos. */
  fields: Buffer[]
  /** The first SignerInfo's fields: version, sid, digestAlgorithm, [0] signedAttrs?, signatureAlgorithm, signature, [1]? */
  signer: Buffer[]
  /** The signature value. */
  signature: Buffer
}

const DIGEST_OIDS: Record<string, string> = {sha1: OIDS.sha1, sha224: OIDS.sha224, sha256: OIDS.sha256, sha384: OIDS.sha384, sha512: OIDS.sha512}

export function issuerAndSerial(cert: MadeCertificate): Buffer {
  return seq(Buffer.from(cert.pkijs.issuer.toSchema().toBER(false)), Buffer.from(cert.pkijs.serialNumber.toBER(false)))
}

export function cmsParts(spec: CmsSpec): CmsParts {
  const digest = spec.digest ?? 'sha256'
  const eContentType = spec.eContentType ?? OIDS.data
  const defaultAttrs = [
    attribute(OIDS.contentType, oid(eContentType)),
    ...(spec.signingTime ? [attribute(OIDS.signingTime, utcTime(spec.signingTime))] : []),
    attribute(OIDS.messageDigest, octets(createHash(digest).update(spec.content).digest())),
    ...(spec.extraSignedAttrs ?? []),
  ]
  const attrs = spec.signedAttrs === null ? undefined : (spec.signedAttrs ?? defaultAttrs)
  const signedBytes = attrs ? set(...attrs) : spec.content
  const signature = sign(digest, signedBytes, spec.signer.key)
  const signer = [
    integer(1),
    spec.sid ?? issuerAndSerial(spec.signer),
    algorithm(spec.digestOid ?? DIGEST_OIDS[digest]!),
    ...(attrs ? [explicit(0, ...attrs)] : []),
    algorithm(spec.signatureAlgorithm ?? OIDS.ecdsaWithSha256),
    octets(signature),
    ...(spec.unsignedAttrs ? [tlv(0xa1, ...spec.unsignedAttrs)] : []),
  ]
  const encap = spec.attached === false ? seq(oid(eContentType)) : seq(oid(eContentType), explicit(0, octets(spec.content)))
  const fields = [integer(1), set(algorithm(DIGEST_OIDS[digest]!)), encap, explicit(0, ...(spec.certificates ?? [spec.signer.der])), set(seq(...signer))]
  return {fields, signer, signature}
}

/** ContentInfo { signedData, [0] SignedData } from the parts, with the first SignerInfo rebuilt from `parts.signer`. */
export function assemble(parts: CmsParts): Buffer {
  const fields = [...parts.fields]
  fields[fields.length - 1] = set(seq(...parts.signer))
  return seq(oid(OIDS.signedData), explicit(0, seq(...fields)))
}

export function buildCms(spec: CmsSpec): Buffer {
  return assemble(cmsParts(spec))
}

// --- RFC 3161 ------------------------------------------------------------------------------------

export interface TstInfoSpec {
  imprintOf: Buffer
  genTime: Date
  imprintDigest?: string
  /** The imprint's algorithm OID; default that of `imprintDigest`. */
  imprintOid?: string
}

export function tstInfo(spec: TstInfoSpec): Buffer {
  const digest = spec.imprintDigest ?? 'sha256'
  const imprint = seq(algorithm(spec.imprintOid ?? DIGEST_OIDS[digest]!), octets(createHash(digest).update(spec.imprintOf).digest()))
  return seq(integer(1), oid('1.3.6.1.4.1.57264.999.1'), imprint, integer(7), generalizedTime(spec.genTime))
}

/** A TimeStampToken (a ContentInfo) signed by `tsa` over `content` (a TSTInfo), its chain included. */
export function timestampToken(tsa: MadeCertificate, content: Buffer, chain: Buffer[] = [], overrides: Partial<CmsSpec> = {}): Buffer {
  return buildCms({signer: tsa, content, eContentType: OIDS.tstInfo, certificates: [tsa.der, ...chain], ...overrides})
}
