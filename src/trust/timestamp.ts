import {createHash} from 'node:crypto'
import {berChildren, isUniversal, octetStringValue, oidText, readBer} from '../formats/ber.js'
import {extensionValue, timeOf, type X509Fields} from '../formats/certificate.js'
import {buildChain} from './chain.js'
import {DIGEST_ALGORITHMS} from './signature.js'
import {checkFirstSigner, decodeSignedData} from './signed-data.js'
import type {TrustStore} from './trust-store.js'
import type {CertificateInfo} from '../formats/certificate.js'
import {FormatError} from '../formats/format-error.js'

/** Unsigned attribute carrying an RFC 3161 TimeStampToken over the signer's signature value. */
export const OID_TIMESTAMP_TOKEN = '1.2.840.113549.1.9.16.2.14'
const OID_TST_INFO = '1.2.840.113549.1.9.16.1.4'
const OID_EXTENDED_KEY_USAGE = '2.5.29.37'
const OID_TIME_STAMPING = '1.3.6.1.5.5.7.3.8'

export interface TimestampVerification {
  /** The TSA's genTime (reported even when the token does not verify). */
  time: Date
  valid: boolean
  error?: string
  tsa?: CertificateInfo
}

/**
 * Verifies a TimeStampToken (given as its DER): its own CMS signature over the TSTInfo, that the
 * TSTInfo imprints `signatureValue` (the outer signer's signature), and the TSA certificate's chain
 * to `trust` at genTime. A token that does not decode is a FormatError; every other problem is
 * `valid: false` with the reason.
 */
export function verifyTimestampToken(tokenDer: Uint8Array, signatureValue: Buffer, trust: TrustStore): TimestampVerification {
  const decoded = decodeSignedData(tokenDer, 'timestamp token')
  if (decoded.eContentType !== OID_TST_INFO || !decoded.content) {
    throw new FormatError('timestamp.malformed', `timestamp token: content type ${decoded.eContentType} is not an attached TSTInfo`)
  }
  const tstInfo = decodeTstInfo(decoded.content)
  const time = tstInfo.genTime
  const signer = checkFirstSigner(decoded, decoded.content)
  const result: TimestampVerification = {time, valid: false}
  if (signer.signer) result.tsa = signer.signer.info
  const fail = (error: string): TimestampVerification => ({...result, error})

  if (!signer.signatureValid) return fail(`the timestamp's own signature is invalid: ${signer.signatureError}`)
  const imprintOid = tstInfo.imprintAlgorithm
  const imprintDigest = DIGEST_ALGORITHMS[imprintOid]
  if (!imprintDigest) return fail(`unsupported message imprint algorithm ${imprintOid}`)
  const expected = createHash(imprintDigest).update(signatureValue).digest()
  if (!expected.equals(tstInfo.hashedMessage)) {
    return fail('the timestamp does not cover this signature (message imprint mismatch)')
  }
  const tsa = signer.signer!
  if (!grantsTimeStamping(tsa.cert)) return fail(`"${tsa.info.commonName ?? tsa.info.sha256}" is not a time-stamping certificate`)
  const chain = buildChain(tsa, decoded.certificates, trust, time)
  if (!chain.trusted) return fail(`the timestamp authority is not trusted: ${chain.error}`)
  return {...result, valid: true}
}

interface TstInfoFields {
  imprintAlgorithm: string
  hashedMessage: Buffer
  genTime: Date
}

/** TSTInfo (RFC 3161 §2.4.2): version, policy, messageImprint {AlgorithmIdentifier, OCTET STRING}, serialNumber, genTime, … */
function decodeTstInfo(der: Buffer): TstInfoFields {
  const code = 'timestamp.malformed'
  const what = 'timestamp token: TSTInfo'
  const fail = (why: string): never => {
    throw new FormatError(code, `timestamp token: TSTInfo does not decode (${why})`)
  }
  try {
    const top = readBer(der, 0, der.length, code, what)
    if (top.end !== der.length) fail('trailing bytes')
    const shape = 'not {version, policy, messageImprint, serialNumber, genTime, …}'
    if (!isUniversal(top, 16)) return fail(shape)
    const [version, policy, imprint, serial, genTime] = berChildren(top, code, what)
    if (!isUniversal(version, 2) || !isUniversal(policy, 6) || !isUniversal(imprint, 16) || !isUniversal(serial, 2) || !isUniversal(genTime, 24)) {
      return fail(shape)
    }
    const [algorithm, hashed] = berChildren(imprint, code, what)
    const algorithmId = isUniversal(algorithm, 16) ? berChildren(algorithm, code, what)[0] : undefined
    if (!isUniversal(algorithmId, 6) || !isUniversal(hashed, 4)) return fail('messageImprint is not {AlgorithmIdentifier, OCTET STRING}')
    return {imprintAlgorithm: oidText(algorithmId, code, what), hashedMessage: octetStringValue(hashed, code, what), genTime: timeOf(genTime)}
  } catch (e) {
    if (e instanceof FormatError && e.code === code) throw e
    return fail((e as Error).message)
  }
}

/** extKeyUsage (RFC 5280 §4.2.1.12) lists id-kp-timeStamping. */
function grantsTimeStamping(cert: X509Fields): boolean {
  const eku = extensionValue(cert, OID_EXTENDED_KEY_USAGE)
  if (!isUniversal(eku, 16) || !eku.constructed) return false
  try {
    // Stryker disable next-line StringLiteral: the catch below discards the error these texts would name
    return berChildren(eku, 'timestamp.malformed', 'extKeyUsage').some(p => isUniversal(p, 6) && oidText(p, 'timestamp.malformed', 'extKeyUsage') === OID_TIME_STAMPING)
  }
  // On the catch line itself: a directive inside the try block binds to its last statement, not to the catch.
  // Stryker disable next-line BlockStatement: an empty catch returns undefined, as falsy to its one caller (!grantsTimeStamping) as false
  catch {
    return false
  }
}
