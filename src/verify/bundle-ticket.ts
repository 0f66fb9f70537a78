import {join} from 'node:path'
import {NotRegularFileError, openRegularFile} from '../io/regular-file.js'
import {looksLikeTicket, MAX_TICKET_BYTES} from '../formats/notarization-ticket.js'
import type {TrustStore} from '../trust/trust-store.js'
import {checkStapledTicket, type NotarizationReport} from './check-notarization.js'
import {finding, type Finding} from './finding.js'
import {isReadRefusal, unreadableMember} from './unreadable-member.js'
import type {VerifiedSlice} from './verify-binary.js'

/** Where `stapler` writes a bundle's ticket, relative to `Contents/` (apple-codesign's stapling.rs). */
export const STAPLED_TICKET_REL = 'CodeResources'

/**
 * Reads `Contents/CodeResources` when it is a stapled ticket (magic `s8ch`) and judges it against
 * every slice of the main executable: the ticket must list one of each slice's cdhashes. A bundle
 * without one reports `{stapled: false}`; a file there that is not a ticket is left alone, as
 * codesign leaves it out of the seal too.
 */
export async function checkBundleTicket(contentsDir: string, display: (rel: string) => string, mainRel: string, mainSlices: readonly VerifiedSlice[], trust: TrustStore): Promise<{report: NotarizationReport; findings: Finding[]}> {
  const path = display(STAPLED_TICKET_REL)
  const notStapled = {report: {stapled: false, verified: false, cdhashes: []}, findings: []}
  let bytes: Buffer
  try {
    const {handle: fh, size} = await openRegularFile(join(contentsDir, STAPLED_TICKET_REL))
    try {
      // One byte past the limit is enough for the parser to say it is too large.
      const want = Math.min(size, MAX_TICKET_BYTES + 1)
      bytes = Buffer.alloc(want)
      const {bytesRead} = await fh.read(bytes, 0, want, 0)
      bytes = bytes.subarray(0, bytesRead)
    } finally {
      await fh.close()
    }
  } catch (e) {
    // A pipe, socket or device in the ticket's slot is not a ticket: say so rather than pass it over.
    if (e instanceof NotRegularFileError) return {report: notStapled.report, findings: [finding('notarization.malformed', path, `${path} is ${e.what}, not a stapled ticket or a file`, 'Remove it, then staple the ticket again (xcrun stapler staple).')]}
    // There, but esdctl may not read it: whether a ticket is stapled is unknown, never "none".
    if (isReadRefusal(e)) return {report: notStapled.report, findings: [unreadableMember(path, e)]}
    return notStapled
  }
  if (!looksLikeTicket(bytes)) return notStapled
  const subjects = mainSlices.map(s => ({label: `${display(mainRel)} [${s.report.arch}]`, hashes: s.cdhashes}))
  if (subjects.length === 0) {
    return {report: {stapled: true, verified: false, cdhashes: []}, findings: [finding('notarization.not-covered', path, `${path}: a ticket is stapled but the main executable has no signed slice for it to cover`)]}
  }
  return checkStapledTicket(bytes, path, subjects, trust)
}
