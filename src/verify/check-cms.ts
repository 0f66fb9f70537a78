import {cdhash, cdhashFull, type CodeDirectory} from '../formats/code-directory.js'
import {verifyCms, type CmsVerification} from '../trust/cms.js'
import {isFormatError} from '../formats/format-error.js'
import {nodeDigestName} from '../formats/hash-type.js'
import {finding, type Finding} from './finding.js'
import type {SliceSignature} from './signed-slice.js'
import type {ResolvedVerifyOptions} from './verify-options.js'

const RESIGN_DEVID = 'Sign again with your "Developer ID Application" identity and a secure timestamp: codesign --force --options runtime --timestamp --sign "Developer ID Application: … (TEAMID)" …'

// The fallbacks when a failure carries no reason text, which none does: checkFirstSigner gives every
// invalid signature its reason (SignatureCheck's error is required when valid is false),
// verifyTimestampToken every invalid timestamp (its fail() takes one), and every untrusted
// ChainResult has its error (buildChain's untrusted() and judged(), verifyCms's missing signer).
// They only satisfy the optional types.
// Stryker disable next-line StringLiteral: never used, see above
const NO_REASON = ''
// Stryker disable next-line StringLiteral: never used, see above
const UNKNOWN_TIMESTAMP_REASON = 'unknown reason'

export interface CmsJudgement {
  cms?: CmsVerification
  findings: Finding[]
}

/**
 * Judges the CMS signature of one slice: the signature over the slot-0 CodeDirectory, Apple's
 * cdhash attributes binding every CodeDirectory (without them an alternate CodeDirectory could be
 * swapped), the chain to the pinned anchors at the right moment, and the team the leaf names.
 */
export async function checkCms(filePath: string, where: string, sig: SliceSignature, opts: ResolvedVerifyOptions): Promise<CmsJudgement> {
  const cds = sig.codeDirectories.map(c => c.cd)
  const primary = cds[0]!
  let cms: CmsVerification
  try {
    cms = await verifyCms(sig.cms!, {trust: opts.trust, now: opts.now, detachedContent: primary.blob, validity: 'timestamp-or-now'})
  } catch (e) {
    if (!isFormatError(e)) throw e
    return {findings: [finding('cms.malformed', filePath, `${where}: the CMS signature cannot be decoded: ${e.message}`, RESIGN_DEVID)]}
  }
  const out: Finding[] = []
  if (!cms.signatureValid) {
    const why = cms.signatureError ? ` (${cms.signatureError})` : NO_REASON
    out.push(finding('cms.signature-invalid', filePath,
      `${where}: the CMS signature does not verify over the CodeDirectory${why}; the signature was altered or belongs to other code`, RESIGN_DEVID))
  }
  out.push(...checkChain(filePath, where, cms, opts))
  out.push(...checkCdHashAttributes(filePath, where, cms, cds))
  const leafTeam = cms.signer?.teamId
  if (leafTeam && primary.teamId && leafTeam !== primary.teamId) {
    out.push(finding('cms.team-mismatch', filePath,
      `${where}: the signing certificate belongs to team ${leafTeam} but the CodeDirectory names team ${primary.teamId}`, RESIGN_DEVID))
  }
  return {cms, findings: out}
}

function checkChain(filePath: string, where: string, cms: CmsVerification, opts: ResolvedVerifyOptions): Finding[] {
  const out: Finding[] = []
  const leaf = cms.signer
  if (cms.timestamp && !cms.timestamp.valid) {
    const why = cms.timestamp.error ?? UNKNOWN_TIMESTAMP_REASON
    out.push(finding('cms.timestamp-invalid', filePath,
      `${where}: the secure timestamp does not verify (${why}); the signature is judged at the current time instead`, RESIGN_DEVID))
  }
  if (cms.chain.trusted) return out
  // Expiry is the reason only when the chain reached a trusted root (an anchor) and failed on dates;
  // an expired certificate that chains to no Apple root is first of all not Apple's.
  const expiredNow = leaf && cms.chain.anchor !== undefined && leaf.notAfter.getTime() < opts.now.getTime() && cms.validatedAtSource === 'now'
  if (expiredNow) {
    out.push(finding('cms.certificate-expired', filePath,
      `${where}: the signing certificate "${leaf.commonName ?? leaf.sha256}" expired on ${leaf.notAfter.toISOString().slice(0, 10)} and the signature has no valid secure timestamp, so macOS no longer accepts it`,
      'Sign again with a current certificate and --timestamp, so the signature stays valid after the certificate expires.'))
  } else {
    const why = cms.chain.error ? ` (${cms.chain.error})` : NO_REASON
    out.push(finding('cms.untrusted', filePath,
      `${where}: the signing certificate does not chain to a trusted Apple root${why}${leaf?.commonName ? `; signer "${leaf.commonName}"` : ''}`,
      'Sign with a certificate issued by Apple (Developer ID Application for software shipped outside the App Store).'))
  }
  return out
}

function checkCdHashAttributes(filePath: string, where: string, cms: CmsVerification, cds: CodeDirectory[]): Finding[] {
  const fix = 'Sign again with a current codesign; the signature does not vouch for every CodeDirectory it carries.'
  const truncated = cds.map(cd => cdhash(cd))
  if (cms.appleCdHashes) {
    const same = cms.appleCdHashes.length === truncated.length && cms.appleCdHashes.every((h, i) => h.equals(truncated[i]!))
    if (!same) {
      return [finding('cms.cdhashes-mismatch', filePath,
        `${where}: the signed cdhash list (${cms.appleCdHashes.length} ${cms.appleCdHashes.length === 1 ? 'entry' : 'entries'}) does not match the ${cds.length} CodeDirectories present`, fix)]
    }
  } else if (cds.length > 1) {
    return [finding('cms.cdhashes-missing', filePath,
      `${where}: the signature carries ${cds.length} CodeDirectories but no signed cdhash list, so the alternates are not protected`, fix)]
  }
  if (cms.appleCdHashes2) {
    for (const cd of cds) {
      const alg = nodeDigestName(cd.hashType)
      const full = cdhashFull(cd)
      const listed = cms.appleCdHashes2.find(e => e.algorithm === alg && e.digest.equals(full))
      if (!listed) {
        return [finding('cms.cdhashes-mismatch', filePath,
          `${where}: the signed hash list (1.2.840.113635.100.9.2) does not include the ${alg} CodeDirectory`, fix)]
      }
    }
  }
  return []
}
