import {type CertificateInfo, type ParsedCertificate, parseCertificate} from '../formats/certificate.js'
import {isFormatError} from '../formats/format-error.js'
import type {NotarizationTicket} from '../formats/notarization-ticket.js'
import {buildChain, type ChainResult} from './chain.js'
import {checkSignature} from './signature.js'
import type {TrustStore} from './trust-store.js'

/** ECDSA with SHA-256: what every real ticket's leaf key signs with. */
const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2'
/** The common name of the leaf Apple signs tickets with (seen in every real ticket). */
export const TICKET_SIGNER_CN = 'Software Ticket Signing'

export interface TicketTrust {
  signatureValid: boolean
  signatureError?: string
  chain?: ChainResult
  signer?: CertificateInfo
  /** Why the ticket's signer is not acceptable, when the chain itself is fine. */
  signerError?: string
}

/**
 * Checks a parsed ticket's signature with its leaf certificate's key, then chains the leaf to the
 * store's anchors (for Apple: Apple Root CA - G3 through "Apple System Integration CA 4") at the
 * ticket's own issue time, since a stapled ticket is meant to stay usable offline after its signing
 * certificate's short life ends. The leaf must be Apple's ticket-signing certificate. Never throws.
 */
export function checkTicketTrust(ticket: NotarizationTicket, trust: TrustStore): TicketTrust {
  let parsed: ParsedCertificate[]
  try {
    parsed = ticket.certificates.map(der => parseCertificate(der))
  } catch (e) {
    // Stryker disable next-line ConditionalExpression: parseCertificate throws only FormatError, whatever the bytes; the rethrow guards against a bug, not an input
    if (!isFormatError(e)) throw e
    return {signatureValid: false, signatureError: `a certificate in the ticket cannot be read (${e.message})`}
  }
  const [leaf, ...issuers] = parsed
  if (!leaf) return {signatureValid: false, signatureError: 'the ticket carries no certificate'}
  const sig = checkSignature(leaf.cert.subjectPublicKeyInfo, ECDSA_WITH_SHA256, undefined, ticket.signedBytes, ticket.signature)
  const chain = buildChain(leaf, issuers, trust, ticket.issuedAt)
  const out: TicketTrust = {signatureValid: sig.valid, chain, signer: leaf.info}
  if (!sig.valid) out.signatureError = sig.error
  if (leaf.info.commonName !== TICKET_SIGNER_CN) out.signerError = `the ticket is signed by "${leaf.info.commonName ?? leaf.info.sha256}", not Apple's "${TICKET_SIGNER_CN}"`
  return out
}
