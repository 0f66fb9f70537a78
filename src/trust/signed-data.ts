import {createHash} from 'node:crypto'
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import {type ParsedCertificate, parseCertificate} from '../formats/certificate.js'
import {FormatError} from '../formats/format-error.js'
import {checkSignature, DIGEST_ALGORITHMS} from './signature.js'

export const OID_SIGNED_DATA = '1.2.840.113549.1.7.2'
export const OID_CONTENT_TYPE = '1.2.840.113549.1.9.3'
export const OID_MESSAGE_DIGEST = '1.2.840.113549.1.9.4'
export const OID_SIGNING_TIME = '1.2.840.113549.1.9.5'

/** CMS blobs in signatures and profiles are tens of kilobytes; refuse to decode absurd sizes. */
const MAX_CMS_BYTES = 8 * 1024 * 1024

export interface DecodedSignedData {
  signedData: pkijs.SignedData
  /** The certificate set, each with its exact DER. */
  certificates: ParsedCertificate[]
  eContentType: string
  /** The encapsulated content, when attached. */
  content?: Buffer
}

/**
 * Decodes a ContentInfo holding SignedData. Trailing zero bytes are allowed because code signature
 * slots are padded; anything else that does not decode is a FormatError naming `what`.
 */
export function decodeSignedData(der: Uint8Array, what: string): DecodedSignedData {
  if (der.length > MAX_CMS_BYTES) throw new FormatError('cms.too-large', `${what}: ${der.length} bytes exceeds the ${MAX_CMS_BYTES}-byte limit`)
  let asn: ReturnType<typeof asn1js.fromBER>
  try {
    asn = asn1js.fromBER(der)
  } catch (e) {
    throw new FormatError('cms.malformed', `${what}: not DER (${(e as Error).message})`)
  }
  if (asn.offset === -1) throw new FormatError('cms.malformed', `${what}: not DER (${asn.result.error})`)
  if (!der.subarray(asn.offset).every(b => b === 0)) throw new FormatError('cms.malformed', `${what}: non-zero bytes follow the CMS structure`)
  try {
    const contentInfo = new pkijs.ContentInfo({schema: asn.result})
    if (contentInfo.contentType !== OID_SIGNED_DATA) {
      throw new FormatError('cms.not-signed-data', `${what}: content type ${contentInfo.contentType} is not SignedData`)
    }
    const signedData = new pkijs.SignedData({schema: contentInfo.content})
    const decoded: DecodedSignedData = {
      signedData,
      certificates: rawCertificates(contentInfo.content as asn1js.Sequence).map(parseCertificate),
      eContentType: signedData.encapContentInfo.eContentType,
    }
    const eContent = signedData.encapContentInfo.eContent
    if (eContent) decoded.content = Buffer.from(eContent.getValue())
    return decoded
  } catch (e) {
    if (e instanceof FormatError) throw e
    throw new FormatError('cms.malformed', `${what}: not a CMS SignedData structure (${(e as Error).message})`)
  }
}

/** The exact bytes of each X.509 certificate in the `certificates [0]` field (other choices skipped). */
function rawCertificates(signedDataBlock: asn1js.Sequence): Buffer[] {
  const field = signedDataBlock.valueBlock.value.find(b => b.idBlock.tagClass === 3 && b.idBlock.tagNumber === 0)
  if (!(field instanceof asn1js.Constructed)) return []
  return field.valueBlock.value
    .filter(b => b.idBlock.tagClass === 1 && b.idBlock.tagNumber === 16)
    .map(b => Buffer.from(b.valueBeforeDecodeView))
}

export interface SignerCheck {
  signerInfo: pkijs.SignerInfo
  signer?: ParsedCertificate
  digestAlgorithm: string
  signatureValid: boolean
  signatureError?: string
  signingTime?: Date
  /** The raw signature value (what an RFC 3161 timestamp over this signer imprints). */
  signature: Buffer
}

/**
 * Checks the first SignerInfo: the signed attributes' content type and message digest match the
 * content, and the signature over the signed attributes (or the content, when there are none)
 * verifies with the signer certificate's key. Problems are reported in the result, never thrown.
 */
export function checkFirstSigner(decoded: DecodedSignedData, content: Buffer | undefined): SignerCheck {
  const signerInfo = decoded.signedData.signerInfos[0]
  if (!signerInfo) throw new FormatError('cms.no-signer', 'CMS SignedData has no SignerInfo')
  const digestOid = signerInfo.digestAlgorithm.algorithmId
  const digestName = DIGEST_ALGORITHMS[digestOid]
  const result: SignerCheck = {
    signerInfo,
    digestAlgorithm: digestName ?? digestOid,
    signatureValid: false,
    signature: Buffer.from(signerInfo.signature.valueBlock.valueHexView),
  }
  const signer = findSigner(signerInfo, decoded.certificates)
  if (signer) result.signer = signer
  const signingTime = signingTimeOf(signerInfo)
  if (signingTime) result.signingTime = signingTime

  const fail = (error: string): SignerCheck => ({...result, signatureValid: false, signatureError: error})
  if (!digestName) return fail(`unsupported digest algorithm ${digestOid}`)
  if (!signer) return fail('the signer certificate is not in the CMS certificate set')
  if (!content) return fail('there is no content to check the signature against')

  let signedBytes: Uint8Array = content
  const attrs = signerInfo.signedAttrs?.attributes
  if (attrs) {
    const contentType = singleValue(attrs, OID_CONTENT_TYPE)
    if (!(contentType instanceof asn1js.ObjectIdentifier) || contentType.valueBlock.toString() !== decoded.eContentType) {
      return fail('the signed content-type attribute is missing or does not match the content type')
    }
    const messageDigest = singleValue(attrs, OID_MESSAGE_DIGEST)
    if (!(messageDigest instanceof asn1js.OctetString)) return fail('the signed message-digest attribute is missing')
    const actual = createHash(digestName).update(content).digest()
    if (!actual.equals(Buffer.from(messageDigest.valueBlock.valueHexView))) {
      return fail(`the message digest does not match the ${digestName} of the content`)
    }
    signedBytes = new Uint8Array(signerInfo.signedAttrs!.encodedValue)
  }
  const check = checkSignature(signer.cert.subjectPublicKeyInfo, signerInfo.signatureAlgorithm.algorithmId, digestOid, signedBytes, result.signature)
  return check.valid ? {...result, signatureValid: true} : fail(check.error ?? 'signature does not verify')
}

function findSigner(signerInfo: pkijs.SignerInfo, certificates: readonly ParsedCertificate[]): ParsedCertificate | undefined {
  const sid: unknown = signerInfo.sid
  if (sid instanceof pkijs.IssuerAndSerialNumber) {
    return certificates.find(c => c.cert.issuer.isEqual(sid.issuer) && c.cert.serialNumber.isEqual(sid.serialNumber))
  }
  const keyId = (sid as {valueBlock?: {valueHexView?: Uint8Array}}).valueBlock?.valueHexView
  if (!keyId) return undefined
  return certificates.find(c => {
    const ski = c.cert.extensions?.find(e => e.extnID === '2.5.29.14')?.parsedValue as unknown
    return ski instanceof asn1js.OctetString && Buffer.from(ski.valueBlock.valueHexView).equals(Buffer.from(keyId))
  })
}

export function attributeValues(attrs: readonly pkijs.Attribute[] | undefined, oid: string): unknown[] {
  return attrs?.filter(a => a.type === oid).flatMap(a => a.values) ?? []
}

/** The value of an attribute that must appear once with exactly one value; undefined otherwise. */
export function singleValue(attrs: readonly pkijs.Attribute[] | undefined, oid: string): unknown {
  const matching = attrs?.filter(a => a.type === oid) ?? []
  return matching.length === 1 && matching[0]!.values.length === 1 ? matching[0]!.values[0] : undefined
}

function signingTimeOf(signerInfo: pkijs.SignerInfo): Date | undefined {
  const value = singleValue(signerInfo.signedAttrs?.attributes, OID_SIGNING_TIME)
  if (value instanceof asn1js.UTCTime || value instanceof asn1js.GeneralizedTime) {
    try {
      const date = value.toDate()
      return Number.isNaN(date.getTime()) ? undefined : date
    } catch {
      return undefined
    }
  }
  return undefined
}
