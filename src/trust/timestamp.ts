import {createHash} from 'node:crypto'
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
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
  const imprintOid = tstInfo.messageImprint.hashAlgorithm.algorithmId
  const imprintDigest = DIGEST_ALGORITHMS[imprintOid]
  if (!imprintDigest) return fail(`unsupported message imprint algorithm ${imprintOid}`)
  const expected = createHash(imprintDigest).update(signatureValue).digest()
  if (!expected.equals(Buffer.from(tstInfo.messageImprint.hashedMessage.valueBlock.valueHexView))) {
    return fail('the timestamp does not cover this signature (message imprint mismatch)')
  }
  const tsa = signer.signer!
  if (!grantsTimeStamping(tsa.cert)) return fail(`"${tsa.info.commonName ?? tsa.info.sha256}" is not a time-stamping certificate`)
  const chain = buildChain(tsa, decoded.certificates, trust, time)
  if (!chain.trusted) return fail(`the timestamp authority is not trusted: ${chain.error}`)
  return {...result, valid: true}
}

function decodeTstInfo(der: Buffer): pkijs.TSTInfo {
  try {
    const asn = asn1js.fromBER(der)
    if (asn.offset === -1 || asn.offset !== der.length) throw new Error(asn.result.error || 'trailing bytes')
    const info = new pkijs.TSTInfo({schema: asn.result})
    if (!(info.genTime instanceof Date) || Number.isNaN(info.genTime.getTime())) throw new Error('genTime does not decode')
    return info
  } catch (e) {
    throw new FormatError('timestamp.malformed', `timestamp token: TSTInfo does not decode (${(e as Error).message})`)
  }
}

function grantsTimeStamping(cert: pkijs.Certificate): boolean {
  const eku = cert.extensions?.find(e => e.extnID === OID_EXTENDED_KEY_USAGE)?.parsedValue as unknown
  return eku instanceof pkijs.ExtKeyUsage && eku.keyPurposes.includes(OID_TIME_STAMPING)
}
