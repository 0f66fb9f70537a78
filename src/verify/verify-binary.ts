import {cdhash, strongestCodeDirectory} from '../formats/code-directory.js'
import {FILE_HEAD_BYTES, parseFileLayout, type FileLayout} from '../formats/macho.js'
import {hashAlgorithmOf, type HashAlgorithm} from '../formats/hash-type.js'
import {isFormatError} from '../formats/format-error.js'
import type {CertificateInfo} from '../formats/certificate.js'
import {prewarmPageHashing} from '../io/page-hasher.js'
import {RandomAccessFile} from '../io/random-access-file.js'
import {checkCms} from './check-cms.js'
import {checkCodeDirectory, type BoundFiles} from './check-code-directory.js'
import {checkSliceEntitlements} from './check-entitlements.js'
import {checkTrailingData} from './check-trailing-data.js'
import {finding, type Finding} from './finding.js'
import {samePlistValue} from '../formats/property-list.js'
import type {SliceReport} from './report.js'
import {readSignedSlice, sliceLabel, type SignedSlice, type SliceSignature} from './signed-slice.js'
import {signerKindOf} from './signer-kind.js'
import type {ResolvedVerifyOptions} from './verify-options.js'

/** One verified slice: its report for people and scripts, plus the facts later checks need. */
export interface VerifiedSlice {
  report: SliceReport
  slice?: SignedSlice
  signerCertificate?: CertificateInfo
  /** Hex cdhash of every CodeDirectory, slot 0 first (a bundle seal may name any of them). */
  cdhashes: string[]
  /** False when the signature itself is broken: later checks must not trust its claims. */
  intact: boolean
}

export interface BinaryVerification {
  findings: Finding[]
  slices: VerifiedSlice[]
  layout?: FileLayout
}

/**
 * Verifies every slice of a Mach-O file (a verifier that skipped slices was CVE-2018-10470):
 * structure, code pages, special slots, CMS and chain, entitlements. `bound` carries the files a
 * bundle's signature binds.
 */
// Stryker disable next-line StringLiteral: `where` is only ever compared with 'in-bundle', so any other default reads the same.
export async function verifyBinary(path: string, displayPath: string, bound: BoundFiles, opts: ResolvedVerifyOptions, where: 'given' | 'in-bundle' = 'given'): Promise<BinaryVerification> {
  let file: RandomAccessFile
  try {
    file = await RandomAccessFile.open(path)
  } catch (e) {
    return {findings: [unreadable(displayPath, e)], slices: []}
  }
  // The process-wide page-hashing workers: booted now at the latest, so their start-up overlaps the parsing below.
  // A pool the caller gave is used as given (hashPages falls back to the shared one itself).
  // Only when, never what: every pool hashes the same pages to the same hashes, so the marked mutants
  // (booting or not, passing the pool on or not) change no verdict, only when workers start.
  // Stryker disable next-line ConditionalExpression,EqualityOperator,OptionalChaining,BlockStatement: only when the shared workers boot (see above).
  if (opts.pageHashing?.pool === undefined) {
    const pool = prewarmPageHashing(file.size, opts.pageHashing)
    // Stryker disable next-line ConditionalExpression,BlockStatement: only whether hashPages is handed the shared pool or takes it itself (see above).
    if (pool) {
      // Stryker disable next-line ObjectLiteral: the same pool reached through hashPages' own fallback (see above).
      const pageHashing = {...opts.pageHashing, pool}
      opts = {...opts, pageHashing}
    }
  }
  try {
    let layout: FileLayout
    try {
      // Stryker disable next-line StringLiteral: the label names only a read past the end or a file shrinking meanwhile; within file.size bytes of an open file neither happens without a race.
      layout = parseFileLayout(await file.read(0, Math.min(file.size, FILE_HEAD_BYTES), 'file header'), file.size)
    } catch (e) {
      // Stryker disable next-line ConditionalExpression: parseFileLayout throws only FormatErrors, and so does a read within file.size of an open file (a short read); anything else takes an I/O fault mid-read.
      if (!isFormatError(e)) throw e
      // Inside a bundle the file is the bundle's code, damaged or truncated: pointing esdctl elsewhere would not help.
      const fix = where === 'in-bundle'
        ? 'The file is damaged or truncated, not a Mach-O executable: build it again, put it back in the bundle and sign the bundle again.'
        : 'Point esdctl at the daemon executable, its .app bundle or a .provisionprofile.'
      return {findings: [finding('macho.not-macho', displayPath, `${displayPath}: ${e.message}`, fix)], slices: []}
    }
    const findings: Finding[] = []
    const slices: VerifiedSlice[] = []
    for (const location of layout.slices) {
      const r = await verifySlice(file, path, displayPath, location, bound, opts)
      findings.push(...r.findings)
      slices.push(r.verified)
    }
    findings.push(...checkSlicesAgree(displayPath, slices))
    findings.push(...checkTrailingData(displayPath, file.size, layout, slices))
    return {findings, slices, layout}
  } finally {
    await file.close()
  }
}

function unreadable(displayPath: string, e: unknown): Finding {
  const msg = isFormatError(e) ? e.message : `${displayPath}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`
  return finding('input.unreadable', displayPath, msg, 'Check the path and that you may read the file.')
}

async function verifySlice(
  file: RandomAccessFile,
  path: string,
  displayPath: string,
  location: FileLayout['slices'][number],
  bound: BoundFiles,
  opts: ResolvedVerifyOptions,
): Promise<{findings: Finding[]; verified: VerifiedSlice}> {
  const where = sliceLabel(displayPath, location.arch)
  const read = await readSignedSlice(file, location, displayPath)
  const findings = [...read.findings]
  const report: SliceReport = {arch: location.arch, flags: [], signer: 'unsigned', entitlements: {}}
  const sig = read.slice?.signature
  if (!read.slice || !sig) {
    if (read.slice && read.findings.length === 0) {
      findings.push(finding('signature.missing', displayPath, `${where}: the slice is not signed`,
        'Sign it: codesign --force --options runtime --timestamp --sign "Developer ID Application: … (TEAMID)" <file>.'))
    }
    return {findings, verified: {report, slice: read.slice, cdhashes: [], intact: false}}
  }
  // What codesign shows and the kernel enforces is the strongest CodeDirectory's (its CDHash=, flags, identifier).
  const primary = strongestCodeDirectory(sig.codeDirectories)!.cd
  report.identifier = primary.identifier
  if (primary.teamId) report.teamId = primary.teamId
  report.cdhash = cdhash(primary).toString('hex')
  report.candidateCdhashes = sig.codeDirectories.map(c => ({hashType: hashAlgorithmOf(c.cd.hashType)!, cdhash: cdhash(c.cd).toString('hex')}))
  report.flags = primary.flagNames
  report.hashType = hashAlgorithmOf(primary.hashType)
  report.entitlements = sig.entitlements?.dict ?? sig.derEntitlements?.dict ?? {}
  const dr = sig.requirementTexts.find(r => r.typeName === 'designated')
  if (dr) report.designatedRequirement = dr.text

  const before = findings.length
  const perCodeDirectory: Array<{name: string; findings: Finding[]}> = []
  for (const entry of sig.codeDirectories) {
    perCodeDirectory.push({name: codeDirectoryName(entry), findings: await checkCodeDirectory({path, display: displayPath}, read.slice, sig, entry, bound, opts)})
  }
  findings.push(...oncePerProblem(perCodeDirectory))

  let signerCertificate: CertificateInfo | undefined
  const adhoc = primary.flagNames.includes('adhoc')
  if (sig.cms && sig.cms.length > 0) {
    const judged = await checkCms(displayPath, where, sig, opts)
    findings.push(...judged.findings)
    signerCertificate = judged.cms?.signer
    report.signer = signerKindOf(signerCertificate)
    if (signerCertificate?.commonName) report.signerName = signerCertificate.commonName
    if (signerCertificate) report.signerSha256 = signerCertificate.sha256
  } else if (adhoc) {
    report.signer = 'adhoc'
  } else {
    findings.push(finding('cms.missing', displayPath, `${where}: the signature is neither ad-hoc nor carries a CMS signature`, 'Sign the file again with codesign.'))
    report.signer = 'other'
  }
  findings.push(...checkSliceEntitlements(displayPath, where, sig, report))
  // Stryker disable next-line MethodExpression: readSignedSlice gives findings only when it read no signature, so none precede `before` here; the slice keeps that true if it ever changes.
  const intact = findings.slice(before).every(f => f.severity !== 'error')
  const cdhashes = report.candidateCdhashes.map(c => c.cdhash)
  return {findings, verified: {report, slice: read.slice, signerCertificate, cdhashes, intact}}
}

/** `SHA-256 CodeDirectory` (slot 0) or `alternate SHA-1 CodeDirectory`: how messages name one. */
function codeDirectoryName(entry: SliceSignature['codeDirectories'][number]): string {
  const names: Record<HashAlgorithm, string> = {sha1: 'SHA-1', sha256: 'SHA-256', 'sha256-truncated': 'SHA-256/20', sha384: 'SHA-384'}
  // parseCodeDirectory refuses a hash type it does not know, so every CodeDirectory here has an algorithm.
  const hash = names[hashAlgorithmOf(entry.cd.hashType)!]
  return `${entry.slot === 0 ? '' : 'alternate '}${hash} CodeDirectory`
}

/**
 * The kernel may pick any CodeDirectory, so each is checked, but a change to the file usually breaks
 * them all alike: one finding per problem (id and file), naming every CodeDirectory it affects.
 */
function oncePerProblem(perCodeDirectory: Array<{name: string; findings: Finding[]}>): Finding[] {
  const groups = new Map<string, {first: Finding; names: string[]}>()
  for (const {name, findings} of perCodeDirectory) {
    for (const f of findings) {
      const key = `${f.id}\0${f.path}`
      const g = groups.get(key)
      if (g) g.names.push(name)
      else groups.set(key, {first: f, names: [name]})
    }
  }
  if (perCodeDirectory.length < 2) return [...groups.values()].map(g => g.first)
  return [...groups.values()].map(({first, names}) => ({...first, message: `${first.message} (affects the ${names.join(' and the ')})`}))
}

/**
 * Every slice runs on some Mac, so slices that claim different teams or entitlements behave
 * differently per CPU. A different signing identifier alone changes nothing macOS decides for a
 * bare executable (vendors' universal builds such as sentry-cli carry one per slice), so it is not
 * reported; inside a bundle the seal's requirement for nested code checks identifiers where they matter.
 */
function checkSlicesAgree(displayPath: string, slices: VerifiedSlice[]): Finding[] {
  const signed = slices.filter(s => s.report.identifier !== undefined)
  if (signed.length < 2) return []
  const first = signed[0]!.report
  const out: Finding[] = []
  // Stryker disable next-line MethodExpression: the first slice compared with itself differs in nothing, so it adds no finding.
  for (const s of signed.slice(1)) {
    const r = s.report
    const diffs: string[] = []
    if (r.teamId !== first.teamId) diffs.push(`team ${first.teamId ?? 'none'} vs ${r.teamId ?? 'none'}`)
    if (!samePlistValue(r.entitlements, first.entitlements)) diffs.push('entitlements differ')
    if (diffs.length > 0) {
      out.push(finding('binary.slices-disagree', displayPath,
        `${displayPath}: slices ${first.arch} and ${r.arch} are signed differently (${diffs.join('; ')})`,
        'Sign the universal file once, after lipo, so every slice carries the same team and entitlements.'))
    }
  }
  return out
}
