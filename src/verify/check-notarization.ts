import {isFormatError} from '../formats/format-error.js'
import {parseNotarizationTicket, type NotarizationTicket} from '../formats/notarization-ticket.js'
import {checkTicketTrust} from '../trust/notarization-ticket.js'
import type {TrustStore} from '../trust/trust-store.js'
import {finding, type Finding} from './finding.js'

/** The `notarization` object of `esdctl verify --json`. */
export interface NotarizationReport {
  stapled: boolean
  /** True only when the ticket's signature, its chain to Apple and its coverage of the code all check out. */
  verified: boolean
  /** ISO 8601; when Apple says it issued the ticket. */
  issuedAt?: string
  /** Hex of every hash the ticket lists (truncated cdhashes, or a package's TOC checksum). */
  cdhashes: string[]
  /** What esdctl checked and what it could not, in one sentence each. */
  checked?: string
  notChecked?: string
}

/** Something the ticket must vouch for: one slice of the main executable, or a package's TOC. */
export interface TicketSubject {
  /** How findings name it: `<bundle>/Contents/MacOS/<name> [arm64]`, `<pkg> (table of contents)`. */
  label: string
  /** Hex hashes any one of which, listed in the ticket, covers the subject (every CodeDirectory's cdhash). */
  hashes: string[]
}

const CHECKED = 'the ticket\'s ECDSA signature over its header, certificates and content; its chain from "Software Ticket Signing" to Apple Root CA - G3 at the ticket\'s issue time; and that the hashes it lists cover the signed code'
const NOT_CHECKED = 'whether Apple has since revoked the notarization (that needs Apple\'s servers); two 32-bit fields of the ticket\'s content header whose meaning is not public'
const RESTAPLE = 'Notarize the exact build you ship, then staple its ticket (xcrun stapler staple <path>) as the last step, after signing.'

/**
 * Judges a stapled ticket (`bytes`, found at `path`) against the code it should vouch for. Every
 * subject must have one of its hashes listed. Problems are findings; nothing here throws.
 */
export function checkStapledTicket(bytes: Buffer, path: string, subjects: readonly TicketSubject[], trust: TrustStore): {report: NotarizationReport; findings: Finding[]} {
  const report: NotarizationReport = {stapled: true, verified: false, cdhashes: [], checked: CHECKED, notChecked: NOT_CHECKED}
  let ticket: NotarizationTicket
  try {
    ticket = parseNotarizationTicket(bytes, path)
  } catch (e) {
    // Stryker disable next-line ConditionalExpression: the parser and its bounded reader report every defect of the bytes as a FormatError; the rethrow passes on only a fault of esdctl itself
    if (!isFormatError(e)) throw e
    return {report, findings: [finding('notarization.malformed', path, `${path}: a stapled notarization ticket that cannot be read (${e.message}); macOS ignores it and asks Apple online`, RESTAPLE)]}
  }
  report.issuedAt = ticket.issuedAt.toISOString()
  report.cdhashes = ticket.entries.map(e => e.hash)
  const findings: Finding[] = []
  const trusted = checkTicketTrust(ticket, trust)
  if (!trusted.signatureValid) {
    // Stryker disable next-line StringLiteral: checkTicketTrust sets signatureError whenever signatureValid is false (SignatureCheck's error is required then); the fallback only satisfies the optional type
    const why = trusted.signatureError ?? 'unknown reason'
    findings.push(finding('notarization.signature-invalid', path, `${path}: the notarization ticket's signature does not verify (${why}); the ticket was altered after Apple issued it`, RESTAPLE))
  }
  if (trusted.chain && !trusted.chain.trusted) {
    // Stryker disable next-line StringLiteral: every untrusted ChainResult that buildChain returns carries its error; the fallback only satisfies the optional type
    const why = trusted.chain.error ?? 'its chain does not reach Apple Root CA - G3'
    findings.push(finding('notarization.untrusted', path, `${path}: the notarization ticket is not signed by Apple (${why})`, RESTAPLE))
  } else if (trusted.signerError) {
    findings.push(finding('notarization.untrusted', path, `${path}: ${trusted.signerError}`, RESTAPLE))
  }
  const listed = new Set(report.cdhashes)
  for (const s of subjects) {
    if (s.hashes.some(h => listed.has(h))) continue
    findings.push(finding('notarization.not-covered', path,
      `${path}: the stapled ticket does not list ${s.label} (its hashes ${s.hashes.join(', ') || 'are unknown'}; the ticket lists ${report.cdhashes.join(', ') || 'nothing'}); the ticket belongs to other code, so macOS asks Apple online`, RESTAPLE))
  }
  report.verified = findings.length === 0 && subjects.length > 0
  return {report, findings}
}
