import {type BerElement, berChildren, isUniversal, octetStringValue, oidText} from '../formats/ber.js'
import {buildChain, type ChainResult} from './chain.js'
import {DIGEST_ALGORITHMS} from './signature.js'
import {attributeEncodings, attributeValues, checkFirstSigner, decodeSignedData} from './signed-data.js'
import type {TrustStore} from './trust-store.js'
import type {CertificateInfo} from '../formats/certificate.js'
import {FormatError} from '../formats/format-error.js'
import {parsePropertyListDict} from '../formats/property-list.js'
import {OID_TIMESTAMP_TOKEN, type TimestampVerification, verifyTimestampToken} from './timestamp.js'

export type {ChainResult} from './chain.js'
export type {TimestampVerification} from './timestamp.js'

/** Apple's signed attribute: a plist `{cdhashes: [data…]}`, one truncated cdhash per CodeDirectory. */
export const OID_APPLE_CDHASHES_PLIST = '1.2.840.113635.100.9.1'
/** Apple's signed attribute: one `SEQUENCE {hash OID, OCTET STRING}` per CodeDirectory. */
export const OID_APPLE_CDHASHES_DIGESTS = '1.2.840.113635.100.9.2'

export interface CmsVerification {
  signer?: CertificateInfo
  certificates: CertificateInfo[]
  /** e.g. 'sha256'; the dotted OID when it is not one we know. */
  digestAlgorithm: string
  /** The signed message digest equals the content's digest and the signature over the signed attributes verifies with the signer key. */
  signatureValid: boolean
  signatureError?: string
  signingTime?: Date
  timestamp?: TimestampVerification
  validatedAt: Date
  validatedAtSource: 'timestamp' | 'signing-time' | 'now'
  /** Built from the CMS's certificates to an anchor of the trust store, judged at validatedAt. */
  chain: ChainResult
  appleCdHashes?: Buffer[]
  appleCdHashes2?: {algorithm: string; digest: Buffer}[]
  /** Why an Apple cdhash attribute that is present could not be read. */
  appleAttributeErrors?: string[]
  /** The attached content, when present. */
  content?: Buffer
}

export interface CmsOptions {
  trust: TrustStore
  now: Date
  /** The signed content when the CMS is detached (code signatures sign the slot-0 CodeDirectory). */
  detachedContent?: Buffer
  /**
   * 'timestamp-or-now': code signatures; a valid RFC 3161 timestamp made while the chain was valid keeps it valid.
   * 'signing-time': provisioning profiles; Apple's chain is judged at the CMS signing time.
   */
  validity: 'timestamp-or-now' | 'signing-time'
}

/**
 * Verifies a CMS SignedData (first signer). Throws FormatError only when the DER does not decode as
 * SignedData; an invalid signature, an untrusted or expired chain, or a bad timestamp are fields.
 */
export async function verifyCms(der: Buffer, opts: CmsOptions): Promise<CmsVerification> {
  const decoded = decodeSignedData(der, 'CMS signature')
  const signer = checkFirstSigner(decoded, decoded.content ?? opts.detachedContent)
  const signedAttrs = signer.signerInfo.signedAttrs?.attributes

  let timestamp: TimestampVerification | undefined
  const token = attributeEncodings(signer.signerInfo.unsignedAttrs?.attributes, OID_TIMESTAMP_TOKEN)[0]
  if (token !== undefined) timestamp = verifyTimestampToken(token, signer.signature, opts.trust)

  let validatedAt = opts.now
  let validatedAtSource: CmsVerification['validatedAtSource'] = 'now'
  if (opts.validity === 'timestamp-or-now' && timestamp?.valid) {
    validatedAt = timestamp.time
    validatedAtSource = 'timestamp'
  } else if (opts.validity === 'signing-time' && signer.signingTime) {
    validatedAt = signer.signingTime
    validatedAtSource = 'signing-time'
  }

  const chain: ChainResult = signer.signer
    ? buildChain(signer.signer, decoded.certificates, opts.trust, validatedAt)
    : {trusted: false, chain: [], error: 'the signer certificate is not in the CMS certificate set'}

  const result: CmsVerification = {
    certificates: decoded.certificates.map(c => c.info),
    digestAlgorithm: signer.digestAlgorithm,
    signatureValid: signer.signatureValid,
    validatedAt,
    validatedAtSource,
    chain,
  }
  if (signer.signer) result.signer = signer.signer.info
  if (signer.signatureError !== undefined) result.signatureError = signer.signatureError
  if (signer.signingTime) result.signingTime = signer.signingTime
  if (timestamp) result.timestamp = timestamp
  if (decoded.content) result.content = decoded.content

  const errors: string[] = []
  const plistValues = attributeValues(signedAttrs, OID_APPLE_CDHASHES_PLIST)
  if (plistValues.length > 0) {
    try {
      result.appleCdHashes = cdHashesFromPlist(plistValues)
    } catch (e) {
      // Stryker disable next-line ConditionalExpression: the plist and BER readers throw only FormatError, whatever the bytes
      if (!(e instanceof FormatError)) throw e
      errors.push(e.message)
    }
  }
  const digestValues = attributeValues(signedAttrs, OID_APPLE_CDHASHES_DIGESTS)
  if (digestValues.length > 0) {
    try {
      result.appleCdHashes2 = digestValues.map(cdHashDigest)
    } catch (e) {
      // Stryker disable next-line ConditionalExpression: the BER readers throw only FormatError, whatever the bytes
      if (!(e instanceof FormatError)) throw e
      errors.push(e.message)
    }
  }
  if (errors.length > 0) result.appleAttributeErrors = errors
  return result
}

/** The code of the errors about Apple's cdhash attributes; verifyCms reports only their messages. */
// Stryker disable next-line StringLiteral: verifyCms keeps the message of these errors, never the code
const CDHASHES = 'cms.apple-cdhashes'

function cdHashesFromPlist(values: readonly BerElement[]): Buffer[] {
  const what = `attribute ${OID_APPLE_CDHASHES_PLIST}`
  const value = values[0]
  if (values.length !== 1 || !isUniversal(value, 4)) throw new FormatError(CDHASHES, `${what}: expected one OCTET STRING holding a plist`)
  const dict = parsePropertyListDict(octetStringValue(value, CDHASHES, what), what)
  const list = dict.cdhashes
  if (!Array.isArray(list) || !list.every(h => h instanceof Uint8Array)) {
    throw new FormatError(CDHASHES, `${what}: "cdhashes" is not an array of data`)
  }
  return list.map(h => Buffer.from(h as Uint8Array))
}

function cdHashDigest(value: BerElement): {algorithm: string; digest: Buffer} {
  const what = `attribute ${OID_APPLE_CDHASHES_DIGESTS}`
  const shape = () => new FormatError(CDHASHES, `${what}: expected SEQUENCE {hash OID, OCTET STRING}`)
  if (!isUniversal(value, 16) || !value.constructed) throw shape()
  const items = berChildren(value, CDHASHES, what)
  const [oid, digest] = items
  if (items.length !== 2 || !isUniversal(oid, 6) || !isUniversal(digest, 4)) throw shape()
  const dotted = oidText(oid, CDHASHES, what)
  return {algorithm: DIGEST_ALGORITHMS[dotted] ?? dotted, digest: octetStringValue(digest, CDHASHES, what)}
}

