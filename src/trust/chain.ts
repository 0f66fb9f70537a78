import {type CertificateInfo, type ParsedCertificate, parseCertificate} from '../formats/certificate.js'
import {FormatError} from '../formats/format-error.js'
import {namesEqual} from '../formats/x501-name.js'
import {certificateSignedBy} from './signature.js'
import type {TrustStore} from './trust-store.js'

export interface ChainResult {
  trusted: boolean
  /** Leaf first, ending at the anchor when one was reached (or wherever building stopped). */
  chain: CertificateInfo[]
  anchor?: string
  error?: string
}

/** Apple chains are three certificates long; anything deeper is not one we accept. */
const MAX_CHAIN_LENGTH = 8

interface ParsedAnchor {
  name: string
  parsed: ParsedCertificate
}

/** The store's anchors that are certificates (parseCertificate caches them by digest). */
function anchorsOf(trust: TrustStore): ParsedAnchor[] {
  return trust.anchors.flatMap(anchor => {
    try {
      return [{name: anchor.name, parsed: parseCertificate(anchor.der)}]
    } catch (e) {
      // Stryker disable next-line ConditionalExpression: parseCertificate throws only FormatError, whatever the bytes; the rethrow guards against a bug, not an input
      if (!(e instanceof FormatError)) throw e
      return [] // an anchor that is not a certificate can never end a chain
    }
  })
}

function label(info: CertificateInfo): string {
  return info.commonName ?? info.sha256
}

function validAt(info: CertificateInfo, at: Date): boolean {
  return info.notBefore.getTime() <= at.getTime() && at.getTime() <= info.notAfter.getTime()
}

/**
 * Builds a chain from `leaf` through certificates of `pool` (those shipped with the signature) to an
 * anchor of `trust`, and checks it at `at`. Trust comes only from the store: a self-signed root
 * from the pool ends the chain untrusted unless its bytes are exactly an anchor's.
 */
export function buildChain(leaf: ParsedCertificate, pool: readonly ParsedCertificate[], trust: TrustStore, at: Date): ChainResult {
  const anchors = anchorsOf(trust)
  const path: ParsedCertificate[] = [leaf]
  let current = leaf
  while (path.length <= MAX_CHAIN_LENGTH) {
    const identical = trust.anchorFor(current.info.der)
    if (identical) return judged(path, identical.name, at)

    const issuingAnchor = anchors.find(a => namesEqual(current.cert.issuer, a.parsed.cert.subject) && certificateSignedBy(current.cert, a.parsed.cert).valid)
    if (issuingAnchor) return judged([...path, issuingAnchor.parsed], issuingAnchor.name, at)

    if (namesEqual(current.cert.issuer, current.cert.subject) && certificateSignedBy(current.cert, current.cert).valid) {
      return untrusted(path, `the chain ends at the self-signed "${label(current.info)}", which is not a trusted root`)
    }
    const inPath = new Set(path.map(p => p.info.sha256))
    const candidates = pool
      .filter(p => !inPath.has(p.info.sha256) && namesEqual(current.cert.issuer, p.cert.subject))
      .sort((a, b) => Number(validAt(b.info, at)) - Number(validAt(a.info, at)))
    const issuer = candidates.find(c => certificateSignedBy(current.cert, c.cert).valid)
    if (!issuer) {
      const issuerName = current.info.issuer.CN ?? JSON.stringify(current.info.issuer)
      const why = candidates.length > 0 ? 'none of the certificates with its name signed it' : 'no certificate with that name was supplied'
      return untrusted(path, `cannot find the issuer "${issuerName}" of "${label(current.info)}": ${why}`)
    }
    path.push(issuer)
    current = issuer
  }
  return untrusted(path, `the chain is longer than ${MAX_CHAIN_LENGTH} certificates without reaching a trusted root`)
}

function untrusted(path: readonly ParsedCertificate[], error: string): ChainResult {
  return {trusted: false, chain: path.map(p => p.info), error}
}

function judged(path: readonly ParsedCertificate[], anchor: string, at: Date): ChainResult {
  const chain = path.map(p => p.info)
  const problems: string[] = []
  for (const [i, info] of chain.entries()) {
    if (!validAt(info, at)) {
      problems.push(`"${label(info)}" is valid from ${info.notBefore.toISOString()} to ${info.notAfter.toISOString()}, not at ${at.toISOString()}`)
    }
    if (i > 0 && !info.isCA) problems.push(`"${label(info)}" issues certificates but is not a certificate authority`)
  }
  if (problems.length > 0) return {trusted: false, chain, anchor, error: problems.join('; ')}
  return {trusted: true, chain, anchor}
}
