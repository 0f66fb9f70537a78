import {createHash} from 'node:crypto'
import {type BerElement, berChildren, berContent, berRaw, isContext, isUniversal, octetStringValue, oidText, readBer} from '../formats/ber.js'
import {extensionValue, type ParsedCertificate, parseCertificate, timeOf} from '../formats/certificate.js'
import {FormatError} from '../formats/format-error.js'
import {namesEqual, readName, type X501Name} from '../formats/x501-name.js'
import {checkSignature, DIGEST_ALGORITHMS} from './signature.js'

export const OID_SIGNED_DATA = '1.2.840.113549.1.7.2'
export const OID_CONTENT_TYPE = '1.2.840.113549.1.9.3'
export const OID_MESSAGE_DIGEST = '1.2.840.113549.1.9.4'
export const OID_SIGNING_TIME = '1.2.840.113549.1.9.5'

/** CMS blobs in signatures and profiles are tens of kilobytes; refuse to decode absurd sizes. */
const MAX_CMS_BYTES = 8 * 1024 * 1024
const MALFORMED = 'cms.malformed'

/** A CMS Attribute (RFC 5652 §5.3): its type and the exact encoding of each value, decoded on demand. */
export interface CmsAttribute {
  type: string
  values: Uint8Array[]
}

/** The SignerInfo fields of RFC 5652 §5.3 that verification reads. */
export interface SignerInfoFields {
  sid: {issuer: Uint8Array; serialNumber: Uint8Array} | {subjectKeyIdentifier: Uint8Array}
  digestAlgorithm: string
  signedAttrs?: {attributes: CmsAttribute[]; /** The DER the signature covers: the [0] field re-tagged as SET OF (§5.4). */ encoded: Uint8Array}
  signatureAlgorithm: string
  signature: Buffer
  unsignedAttrs?: {attributes: CmsAttribute[]}
}

export interface DecodedSignedData {
  /** The certificate set, each with its exact DER. */
  certificates: ParsedCertificate[]
  eContentType: string
  /** The encapsulated content, when attached. */
  content?: Buffer
  signerInfos: SignerInfoFields[]
}

/**
 * Decodes a ContentInfo holding SignedData (RFC 5652 §3, §5), BER or DER. Trailing zero bytes are
 * allowed because code signature slots are padded; anything else that does not decode is a
 * FormatError naming `what`. Only the fields verification reads are decoded: the certificates go
 * to parseCertificate (which caches them), attribute values stay encoded until asked for. A full
 * schema decode of the whole structure cost more than the rest of verifying a bundle.
 */
export function decodeSignedData(der: Uint8Array, what: string): DecodedSignedData {
  if (der.length > MAX_CMS_BYTES) throw new FormatError('cms.too-large', `${what}: ${der.length} bytes exceeds the ${MAX_CMS_BYTES}-byte limit`)
  const top = readBer(der, 0, der.length, MALFORMED, what)
  if (!der.subarray(top.end).every(b => b === 0)) throw new FormatError(MALFORMED, `${what}: non-zero bytes follow the CMS structure`)
  const structure: (why: string) => never = (why) => {
    throw new FormatError(MALFORMED, `${what}: not a CMS SignedData structure (${why})`)
  }
  const kids = (el: BerElement) => berChildren(el, MALFORMED, what)
  const oid = (el: BerElement | undefined, field: string) => (isUniversal(el, 6) ? oidText(el, MALFORMED, what) : structure(`${field} is not an OBJECT IDENTIFIER`))

  if (!isUniversal(top, 16)) structure('ContentInfo is not a SEQUENCE')
  const [contentTypeEl, contentEl] = kids(top)
  const contentType = oid(contentTypeEl, 'ContentInfo contentType')
  if (contentType !== OID_SIGNED_DATA) throw new FormatError('cms.not-signed-data', `${what}: content type ${contentType} is not SignedData`)
  if (!isContext(contentEl, 0) || !contentEl.constructed) structure('ContentInfo has no [0] content')
  const signedData = kids(contentEl)[0]
  if (!isUniversal(signedData, 16)) structure('SignedData is not a SEQUENCE')

  const fields = kids(signedData)
  let i = 0
  if (!isUniversal(fields[i++], 2)) structure('SignedData version is not an INTEGER')
  if (!isUniversal(fields[i++], 17)) structure('SignedData digestAlgorithms is not a SET')
  const encap = fields[i++]
  if (!isUniversal(encap, 16)) structure('encapContentInfo is not a SEQUENCE')
  const [eContentTypeEl, eContentWrapper] = kids(encap)
  const eContentType = oid(eContentTypeEl, 'eContentType')
  let content: Buffer | undefined
  if (eContentWrapper !== undefined) {
    const eContent = isContext(eContentWrapper, 0) && eContentWrapper.constructed ? kids(eContentWrapper)[0] : undefined
    if (!isUniversal(eContent, 4)) structure('eContent is not an [0] OCTET STRING')
    content = octetStringValue(eContent, MALFORMED, what)
  }
  let certificates: BerElement[] = []
  if (isContext(fields[i], 0)) certificates = kids(fields[i++]!).filter(c => isUniversal(c, 16)) // other CertificateChoices are skipped
  if (isContext(fields[i], 1)) i++ // revocation information is not consulted
  const signerInfos = fields[i++]
  if (!isUniversal(signerInfos, 17)) structure('signerInfos is not a SET')
  if (i !== fields.length) structure('unexpected fields after signerInfos')
  const parsedSignerInfos = kids(signerInfos).map(s => signerInfoFields(s, what, structure))
  const decoded: DecodedSignedData = {certificates: certificates.map(c => parseCertificate(Buffer.from(berRaw(c)))), eContentType, signerInfos: parsedSignerInfos}
  if (content) decoded.content = content
  return decoded
}

function signerInfoFields(el: BerElement, what: string, structure: (why: string) => never): SignerInfoFields {
  const kids = (e: BerElement) => berChildren(e, MALFORMED, what)
  const algorithm = (e: BerElement | undefined, field: string): string => {
    const id = isUniversal(e, 16) ? kids(e)[0] : undefined
    return isUniversal(id, 6) ? oidText(id, MALFORMED, what) : structure(`SignerInfo ${field} is not an AlgorithmIdentifier`)
  }
  if (!isUniversal(el, 16)) structure('SignerInfo is not a SEQUENCE')
  const f = kids(el)
  let i = 0
  if (!isUniversal(f[i++], 2)) structure('SignerInfo version is not an INTEGER')
  const sidEl = f[i++]
  let sid: SignerInfoFields['sid']
  const sidChoice: BerElement | undefined = sidEl
  if (isUniversal(sidEl, 16)) {
    const [issuer, serial] = kids(sidEl)
    if (!isUniversal(issuer, 16) || !isUniversal(serial, 2) || serial.constructed) structure('issuerAndSerialNumber is not {Name, INTEGER}')
    sid = {issuer: berRaw(issuer), serialNumber: berContent(serial)}
  } else if (isContext(sidChoice, 0) && !sidChoice.constructed) {
    sid = {subjectKeyIdentifier: berContent(sidChoice)}
  } else {
    return structure('SignerInfo sid is neither issuerAndSerialNumber nor subjectKeyIdentifier')
  }
  const digestAlgorithm = algorithm(f[i++], 'digestAlgorithm')
  let signedAttrs: SignerInfoFields['signedAttrs']
  if (isContext(f[i], 0)) {
    const attrsEl = f[i++]!
    const encoded = Uint8Array.from(berRaw(attrsEl))
    encoded[0] = 0x31
    signedAttrs = {attributes: attributes(attrsEl, what, structure), encoded}
  }
  const signatureAlgorithm = algorithm(f[i++], 'signatureAlgorithm')
  const signatureEl = f[i++]
  if (!isUniversal(signatureEl, 4)) structure('SignerInfo signature is not an OCTET STRING')
  const info: SignerInfoFields = {sid, digestAlgorithm, signatureAlgorithm, signature: octetStringValue(signatureEl, MALFORMED, what)}
  if (signedAttrs) info.signedAttrs = signedAttrs
  if (isContext(f[i], 1)) info.unsignedAttrs = {attributes: attributes(f[i++]!, what, structure)}
  if (i !== f.length) structure('unexpected fields in SignerInfo')
  return info
}

function attributes(set: BerElement, what: string, structure: (why: string) => never): CmsAttribute[] {
  if (!set.constructed) structure('attributes are not a constructed SET')
  return berChildren(set, MALFORMED, what).map(a => {
    if (!isUniversal(a, 16)) structure('an Attribute is not {OID, SET}')
    const [type, values] = berChildren(a, MALFORMED, what)
    if (!isUniversal(type, 6) || !isUniversal(values, 17) || !values.constructed) structure('an Attribute is not {OID, SET}')
    return {type: oidText(type, MALFORMED, what), values: berChildren(values, MALFORMED, what).map(berRaw)}
  })
}

export interface SignerCheck {
  signerInfo: SignerInfoFields
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
  const signerInfo = decoded.signerInfos[0]
  if (!signerInfo) throw new FormatError('cms.no-signer', 'CMS SignedData has no SignerInfo')
  const digestOid = signerInfo.digestAlgorithm
  const digestName = DIGEST_ALGORITHMS[digestOid]
  const result: Omit<SignerCheck, 'signatureValid'> = {signerInfo, digestAlgorithm: digestName ?? digestOid, signature: signerInfo.signature}
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
    // Stryker disable next-line StringLiteral: attempt() discards the error these texts would name
    if (!isUniversal(contentType, 6) || attempt(() => oidText(contentType, MALFORMED, 'content-type')) !== decoded.eContentType) {
      return fail('the signed content-type attribute is missing or does not match the content type')
    }
    const messageDigest = singleValue(attrs, OID_MESSAGE_DIGEST)
    // Stryker disable next-line StringLiteral: attempt() discards the error these texts would name
    const digest = isUniversal(messageDigest, 4) ? attempt(() => octetStringValue(messageDigest, MALFORMED, 'message-digest')) : undefined
    if (digest === undefined) return fail('the signed message-digest attribute is missing')
    const actual = createHash(digestName).update(content).digest()
    if (!actual.equals(digest)) {
      return fail(`the message digest does not match the ${digestName} of the content`)
    }
    signedBytes = signerInfo.signedAttrs!.encoded
  }
  const check = checkSignature(signer.cert.subjectPublicKeyInfo, signerInfo.signatureAlgorithm, digestOid, signedBytes, result.signature)
  return check.valid ? {...result, signatureValid: true} : fail(check.error)
}

function findSigner(signerInfo: SignerInfoFields, certificates: readonly ParsedCertificate[]): ParsedCertificate | undefined {
  const sid = signerInfo.sid
  if ('issuer' in sid) {
    let issuer: X501Name
    try {
      // Stryker disable next-line StringLiteral: the catch below discards the error these texts would name
      issuer = readName(readBer(sid.issuer, 0, sid.issuer.length, MALFORMED, 'CMS signer issuer'), MALFORMED, 'CMS signer issuer')
    } catch {
      return undefined
    }
    const serial = Buffer.from(sid.serialNumber)
    return certificates.find(c => namesEqual(c.cert.issuer, issuer) && serial.equals(c.cert.serialNumber))
  }
  const keyId = Buffer.from(sid.subjectKeyIdentifier)
  return certificates.find(c => {
    const ski = extensionValue(c.cert, '2.5.29.14')
    return isUniversal(ski, 4) && !ski.constructed && keyId.equals(berContent(ski))
  })
}

/** Each value of the attributes of type `oid`, located (a value that is not one BER element is left out). */
export function attributeValues(attrs: readonly CmsAttribute[] | undefined, oid: string): BerElement[] {
  return attrs?.filter(a => a.type === oid).flatMap(a => a.values.flatMap(v => decodeValue(v) ?? [])) ?? []
}

/** The exact encodings of the values of the attributes of type `oid`. */
export function attributeEncodings(attrs: readonly CmsAttribute[] | undefined, oid: string): Uint8Array[] {
  return attrs?.filter(a => a.type === oid).flatMap(a => a.values) ?? []
}

/** The value of an attribute that must appear once with exactly one value; undefined otherwise. */
export function singleValue(attrs: readonly CmsAttribute[] | undefined, oid: string): BerElement | undefined {
  const matching = attrs?.filter(a => a.type === oid) ?? []
  return matching.length === 1 && matching[0]!.values.length === 1 ? decodeValue(matching[0]!.values[0]!) : undefined
}

function decodeValue(encoded: Uint8Array): BerElement | undefined {
  // Stryker disable next-line StringLiteral: attempt() discards the error these texts would name
  const el = attempt(() => readBer(encoded, 0, encoded.length, MALFORMED, 'CMS attribute'))
  return el?.end === encoded.length ? el : undefined
}

/** `read()`, or undefined when it finds the bytes malformed. */
function attempt<T>(read: () => T): T | undefined {
  try {
    return read()
  }
  // On the catch line itself: a directive inside the try block binds to its last statement, not to the catch.
  // Stryker disable next-line BlockStatement: the readers attempted throw only FormatError, so swallowing every error is the same
  catch (e) {
    // Stryker disable next-line ConditionalExpression: as above, no other error reaches here
    if (e instanceof FormatError) return undefined
    throw e
  }
}

function signingTimeOf(signerInfo: SignerInfoFields): Date | undefined {
  const value = singleValue(signerInfo.signedAttrs?.attributes, OID_SIGNING_TIME)
  // timeOf refuses anything but a primitive UTCTime or GeneralizedTime.
  return attempt(() => timeOf(value))
}
