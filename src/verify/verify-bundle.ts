import {lstat} from 'node:fs/promises'
import {join, relative} from 'node:path'
import {isFormatError} from '../formats/format-error.js'
import {parseCodeResources} from '../formats/code-resources.js'
import {parsePropertyListDict, type PlistDict} from '../formats/property-list.js'
import {readProvisioningProfile} from '../trust/provisioning-profile.js'
import {walkTree, type TreeEntry} from '../io/bundle-tree.js'
import {looksLikeMachO} from '../io/macho-sniff.js'
import {NotRegularFileError, readRegularFile} from '../io/regular-file.js'
import {checkProfileAuthorises, checkProfileItself, profileReport} from './check-profile.js'
import {bundleShapeOf, type BundleShape} from './bundle-shape.js'
import {checkBundleTicket} from './bundle-ticket.js'
import type {NotarizationReport} from './check-notarization.js'
import {checkSeal, type NestedLook} from './check-seal.js'
import {finding, hasErrors, type Finding} from './finding.js'
import type {NestedCodeReport, ProfileReport, SliceReport} from './report.js'
import {claimedCapabilities, claimedRestricted} from './restricted-entitlements.js'
import type {NestedIdentity} from './sealed-requirement.js'
import {verifyBinary, type BinaryVerification} from './verify-binary.js'
import {isReadRefusal, unreadableMember} from './unreadable-member.js'
import {hasErrorCode} from '../io/error-code.js'
import type {ResolvedVerifyOptions} from './verify-options.js'

export interface BundleVerification {
  findings: Finding[]
  slices: SliceReport[]
  profile?: ProfileReport
  notarization?: NotarizationReport
  nested?: NestedCodeReport[]
}

/** Nested bundles inside nested bundles are followed this deep; real apps nest three or four levels. */
export const MAX_NESTED_DEPTH = 8

/** A verified bundle plus what its parent's seal needs to judge it as nested code. */
interface BundleInDepth extends BundleVerification {
  identity?: NestedIdentity
}

/**
 * Verifies an app-like bundle as AMFI would judge it at launch: Info.plist, the main executable's
 * signature (binding Info.plist and the seal), the seal itself, nested code in depth — each nested
 * bundle's own signature, seal and profile, and the parent seal's cdhash and requirement for it —
 * above all any second executable that claims a restricted entitlement, and the embedded
 * provisioning profile. `shape` says where the parts are (deep, framework or shallow).
 */
export async function verifyBundle(shape: BundleShape, opts: ResolvedVerifyOptions): Promise<BundleVerification> {
  const {identity: _identity, ...report} = await verifyBundleInDepth(shape, opts, 0)
  return report
}

async function verifyBundleInDepth(shape: BundleShape, opts: ResolvedVerifyOptions, depth: number): Promise<BundleInDepth> {
  const contents = shape.contentDir
  const shown = (rel: string) => join(contents, rel)
  const findings: Finding[] = []

  const info = await readInfoPlist(shown(shape.infoPlist))
  findings.push(...info.findings)
  const exeName = typeof info.dict?.CFBundleExecutable === 'string' ? info.dict.CFBundleExecutable : undefined
  if (!info.dict || !exeName) return {findings, slices: []}
  if (exeName.includes('/') || exeName === '..' || exeName === '.') {
    findings.push(finding('bundle.bad-executable-name', shown(shape.infoPlist), `${shown(shape.infoPlist)}: CFBundleExecutable "${exeName}" is not a plain file name`, `Set CFBundleExecutable to the name of the executable in ${shape.kind === 'deep' ? 'Contents/MacOS' : 'the bundle'}.`))
    return {findings, slices: []}
  }
  const mainRel = `${shape.executableDir}${exeName}`

  let tree: TreeEntry[]
  try {
    tree = await walkTree(contents)
  } catch (e) {
    // A runaway tree (a FormatError), or a path longer than the system can name (ENAMETOOLONG): a
    // finding like any other bad input, never an exception.
    // Stryker disable next-line ConditionalExpression: walkTree raises fs errors and FormatErrors only, both with a code; anything else is a bug
    if (!hasErrorCode(e)) throw e
    // A folder esdctl may not list is no runaway tree: it says so, and what to do (exit 4).
    if (isReadRefusal(e) && e.code !== 'ENAMETOOLONG') {
      findings.push(unreadableMember(e.path ?? shape.bundle, e))
      return {findings, slices: []}
    }
    const message = isFormatError(e) ? e.message : `${shape.bundle}: the bundle cannot be walked (${e.message})`
    findings.push(finding('bundle.unreadable', shape.bundle, message, 'Remove the runaway nesting or files from the bundle.'))
    return {findings, slices: []}
  }
  const main = tree.find(e => e.rel === mainRel)
  if (!main || main.kind !== 'file') {
    findings.push(finding('bundle.executable-missing', shown(mainRel), `${shown(mainRel)}: the main executable named by CFBundleExecutable is ${main ? `${main.what}, not a file` : 'missing'}`, `Put the executable at ${mainRel}, or fix CFBundleExecutable in Info.plist.`))
    return {findings, slices: []}
  }

  const sealPath = shown('_CodeSignature/CodeResources')
  const sealRead = await readRegularFile(sealPath).then(bytes => ({bytes}), (e: unknown) => ({error: e}))
  const sealBytes = 'bytes' in sealRead ? sealRead.bytes : undefined
  const exe = await verifyBinary(shown(mainRel), shown(mainRel), {
    infoPlist: {bytes: info.bytes!, path: shown(shape.infoPlist)},
    ...(sealBytes ? {codeResources: {bytes: sealBytes, path: sealPath}} : {}),
  }, opts, 'in-bundle')
  findings.push(...exe.findings)
  findings.push(...checkIdentifier(shown(shape.infoPlist), info.dict, exe))

  const nestedCode = new NestedCodeLooker(shown, opts, depth)
  if ('error' in sealRead && isReadRefusal(sealRead.error)) {
    findings.push(unreadableMember(sealPath, sealRead.error))
  } else if ('error' in sealRead && sealRead.error instanceof NotRegularFileError) {
    findings.push(finding('seal.malformed', sealPath, `${sealPath} is ${sealRead.error.what}, not a file: the bundle's resources are not sealed`, 'Sign the bundle again with codesign.'))
  } else if (!sealBytes) {
    findings.push(finding('seal.absent', sealPath, `${sealPath} is missing: the bundle's resources are not sealed`, 'Sign the whole bundle with codesign (not only the executable inside it).'))
  } else {
    try {
      const seal = parseCodeResources(sealBytes, sealPath)
      findings.push(...await checkSeal({contentsDir: contents, display: shown, mainExecutable: mainRel, infoPlist: shape.infoPlist, tree, seal, nested: rel => nestedCode.look(rel)}))
    } catch (e) {
      // Stryker disable next-line ConditionalExpression: parseCodeResources throws FormatErrors only and checkSeal turns read refusals into findings; anything else is a bug
      if (!isFormatError(e)) throw e
      findings.push(finding('seal.malformed', sealPath, e.message, 'Sign the bundle again with codesign.'))
    }
  }
  findings.push(...await checkNestedExecutables(shape, tree, mainRel, shown, rel => nestedCode.binary(rel)))
  findings.push(...nestedCode.findings())

  let profile: ProfileReport | undefined
  const profilePath = shown('embedded.provisionprofile')
  const profileRead = await readRegularFile(profilePath).then(bytes => ({bytes}), (e: unknown) => ({error: e}))
  const profileBytes = 'bytes' in profileRead ? profileRead.bytes : undefined
  const profileRefused = 'error' in profileRead && isReadRefusal(profileRead.error)
  if (profileRefused) findings.push(unreadableMember(profilePath, profileRead.error as {code: string}))
  if ('error' in profileRead && profileRead.error instanceof NotRegularFileError) {
    findings.push(finding('profile.malformed', profilePath, `${profilePath} is ${profileRead.error.what}, not a provisioning profile`, 'Download the profile again from the Apple Developer portal, copy it to embedded.provisionprofile, then sign the bundle again.'))
  }
  const claimed = mostTelling(exe.slices.map(s => s.report.entitlements))
  if (!profileBytes) {
    if (claimed.length > 0 && !profileRefused && !('error' in profileRead && profileRead.error instanceof NotRegularFileError)) {
      findings.push(finding('profile.missing', profilePath,
        `${shown(mainRel)} claims ${claimed.join(', ')} but the bundle has no embedded.provisionprofile; nothing authorises those entitlements, so macOS kills the daemon at launch (Killed: 9)`,
        `Download the Developer ID provisioning profile for this App ID, copy it to ${shape.kind === 'deep' ? 'Contents/' : ''}embedded.provisionprofile, then sign the bundle again.`))
    }
  } else {
    try {
      const reading = await readProvisioningProfile(profileBytes, {trust: opts.trust, now: opts.now})
      profile = profileReport(profilePath, reading.profile)
      findings.push(...checkProfileItself(profilePath, reading, opts.now))
      findings.push(...checkProfileAuthorises(reading.profile, shown(mainRel), exe.slices))
    } catch (e) {
      // Stryker disable next-line ConditionalExpression: readProvisioningProfile and the checks after it throw FormatErrors only; anything else is a bug
      if (!isFormatError(e)) throw e
      findings.push(finding('profile.malformed', profilePath, `${profilePath}: not a provisioning profile (${e.message})`, 'Download the profile again from the Apple Developer portal.'))
    }
  }
  const ticket = await checkBundleTicket(contents, shown, mainRel, exe.slices, opts.trust)
  findings.push(...ticket.findings)
  const nested = nestedCode.reports(findings)
  return {findings: once(findings), slices: exe.slices.map(s => s.report), ...(profile ? {profile} : {}), ...(nested.length ? {nested} : {}), notarization: ticket.report, identity: identityOf(exe)}
}

/** Each finding once: a second executable in Contents/MacOS that cannot be read is met both as nested code the seal lists and as a possible second daemon. */
function once(findings: Finding[]): Finding[] {
  const seen = new Set<string>()
  return findings.filter(f => {
    const key = `${f.id}\0${f.path}\0${f.message}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

/** What a parent's seal judges nested code by. */
function identityOf(v: Pick<BinaryVerification, 'slices'>): NestedIdentity {
  const first = v.slices[0]
  const leaf = first?.signerCertificate
  // Stryker disable next-line ConditionalExpression,EqualityOperator: code with no slice has no cdhash either, and the parent's seal judges the cdhash (seal.nested-modified) before it asks whether the code is trusted.
  const someCode = v.slices.length > 0
  const id: NestedIdentity = {
    cdhashes: v.slices.flatMap(s => s.cdhashes),
    // Stryker disable next-line ArrayDeclaration: leafOids is only searched for a certificate field's OID, which no made-up entry equals.
    leafOids: leaf?.appleExtensionOids ?? [],
    trusted: someCode && v.slices.every(s => s.intact && s.signerCertificate !== undefined),
    appleSigned: leaf?.role === 'apple',
  }
  if (first?.report.identifier) id.identifier = first.report.identifier
  if (leaf?.teamId) id.leafTeam = leaf.teamId
  return id
}

/**
 * Verifies each nested code item once, however many checks ask about it, and keeps the findings and
 * the tree entry of each for the parent's report.
 */
class NestedCodeLooker {
  private readonly binaries = new Map<string, BinaryVerification>()
  private readonly looks = new Map<string, {look: NestedLook; findings: Finding[]; report: NestedCodeReport}>()

  constructor(
    private readonly shown: (rel: string) => string,
    private readonly opts: ResolvedVerifyOptions,
    private readonly depth: number,
  ) {}

  async binary(rel: string): Promise<BinaryVerification> {
    const v = this.binaries.get(rel) ?? (await verifyBinary(this.shown(rel), this.shown(rel), {}, this.opts, 'in-bundle'))
    this.binaries.set(rel, v)
    return v
  }

  async look(rel: string): Promise<NestedLook> {
    const entry = this.looks.get(rel) ?? (await this.lookAt(rel))
    this.looks.set(rel, entry)
    return entry.look
  }

  private async lookAt(rel: string): Promise<{look: NestedLook; findings: Finding[]; report: NestedCodeReport}> {
    const path = this.shown(rel)
    const isDirectory = await lstat(path).then(
      s => s.isDirectory(),
      // Stryker disable next-line ArrowFunction,BooleanLiteral: the seal asks only about paths its tree walk just found, so lstat fails only when the bundle changes meanwhile.
      () => false,
    )
    let entry: {look: NestedLook; findings: Finding[]; report: NestedCodeReport}
    // A file's first bytes, read once: true for Mach-O, or the error that stopped the read.
    const machO = isDirectory ? undefined : await looksLikeMachO(path).catch((e: unknown) => e)
    if (isDirectory) {
      const shape = await bundleShapeOf(path)
      if (!shape) entry = {look: {kind: 'not-verified', reason: 'it is not a recognisable bundle (no Contents/, Versions/ or Info.plist)'}, findings: [], report: {path: rel, kind: 'bundle', ok: false}}
      else if (this.depth + 1 > MAX_NESTED_DEPTH) entry = {look: {kind: 'not-verified', reason: `it is nested more than ${MAX_NESTED_DEPTH} bundles deep`}, findings: [], report: {path: rel, kind: 'bundle', ok: false}}
      else {
        const v = await verifyBundleInDepth(shape, this.opts, this.depth + 1)
        const report: NestedCodeReport = {path: rel, kind: 'bundle', ...sliceSummary(v.slices), ok: !hasErrors(v.findings)}
        if (v.nested) report.nested = v.nested
        // A bundle judged before its main executable (no Info.plist, no executable) has no code: no cdhash the seal could match.
        // Stryker disable next-line StringLiteral: check-seal reads every look that is not 'not-verified', 'unreadable' or 'not-mach-o' as code.
        entry = {look: {kind: 'code', identity: v.identity ?? identityOf({slices: []})}, findings: v.findings, report}
      }
    } else if (isReadRefusal(machO)) {
      // Stryker disable next-line BooleanLiteral: its own input.unreadable finding names this very path, so reports() marks the entry not ok whatever it says here.
      entry = {look: {kind: 'unreadable'}, findings: [unreadableMember(path, machO)], report: {path: rel, kind: 'macho', unreadable: machO.code, ok: false}}
    } else if (machO !== true) {
      // Any other error: replaced by a pipe or device since the walk, judged as the seal judges a file that is no Mach-O.
      entry = {look: {kind: 'not-mach-o'}, findings: [], report: {path: rel, kind: 'xattr-signed', ok: true}}
    } else {
      const v = await this.binary(rel)
      // Stryker disable next-line StringLiteral: check-seal reads every look that is not 'not-verified', 'unreadable' or 'not-mach-o' as code.
      const look: NestedLook = {kind: 'code', identity: identityOf(v)}
      entry = {look, findings: [], report: {path: rel, kind: 'macho', ...sliceSummary(v.slices.map(s => s.report)), ok: !hasErrors(v.findings)}}
    }
    return entry
  }

  /** Every finding inside nested code, once each: nested bundles' own, and every nested binary's. */
  findings(): Finding[] {
    return [...[...this.looks.values()].flatMap(l => l.findings), ...[...this.binaries.values()].flatMap(b => b.findings)]
  }

  /** The tree; an entry is ok only when no error is about it, its own or the parent seal's. */
  reports(all: readonly Finding[]): NestedCodeReport[] {
    return [...this.looks.values()]
      .map(({report}) => {
        const at = this.shown(report.path)
        // An error about a file inside a nested bundle is that bundle's own, already counted in its ok: only the parent's errors about the item itself are left.
        const blamed = all.some(f => f.severity === 'error' && f.path === at)
        return blamed ? {...report, ok: false} : report
      })
      .sort((a, b) => a.path.localeCompare(b.path))
  }
}

function sliceSummary(slices: SliceReport[]): Pick<NestedCodeReport, 'identifier' | 'teamId' | 'cdhash' | 'signer'> {
  const first = slices[0]
  if (!first) return {}
  const out: Pick<NestedCodeReport, 'identifier' | 'teamId' | 'cdhash' | 'signer'> = {signer: first.signer}
  if (first.identifier) out.identifier = first.identifier
  if (first.teamId) out.teamId = first.teamId
  if (first.cdhash) out.cdhash = first.cdhash
  return out
}

async function readInfoPlist(path: string): Promise<{dict?: PlistDict; bytes?: Buffer; findings: Finding[]}> {
  const fix = 'Give the bundle a Contents/Info.plist with CFBundleExecutable, CFBundleIdentifier, CFBundleShortVersionString and CFBundleVersion (esdctl bundle writes one).'
  let bytes: Buffer
  try {
    bytes = await readRegularFile(path)
  } catch (e) {
    if (e instanceof NotRegularFileError) return {findings: [finding('bundle.info-plist-malformed', path, `${path} is ${e.what}, not a property list file`, fix)]}
    if (isReadRefusal(e)) return {findings: [unreadableMember(path, e)]}
    return {findings: [finding('bundle.info-plist-missing', path, `${path} is missing; without it macOS cannot tell which executable the bundle runs`, fix)]}
  }
  let dict: PlistDict
  try {
    dict = parsePropertyListDict(bytes, path)
  } catch (e) {
    // Stryker disable next-line ConditionalExpression: parsePropertyListDict throws FormatErrors only; anything else is a bug
    if (!isFormatError(e)) throw e
    return {bytes, findings: [finding('bundle.info-plist-malformed', path, e.message, fix)]}
  }
  const findings: Finding[] = []
  for (const key of ['CFBundleExecutable', 'CFBundleIdentifier'] as const) {
    if (typeof dict[key] !== 'string' || dict[key] === '') {
      findings.push(finding(`bundle.${key === 'CFBundleExecutable' ? 'executable-key' : 'identifier'}-missing`, path, `${path}: ${key} is missing or not a string`, fix))
    }
  }
  for (const key of ['CFBundleShortVersionString', 'CFBundleVersion'] as const) {
    if (typeof dict[key] !== 'string' || dict[key] === '') {
      findings.push(finding('bundle.version-missing', path, `${path}: ${key} is missing; installers and status reports cannot tell versions apart`, fix))
    }
  }
  return {dict, bytes, findings}
}

/**
 * `bundle.identifier-mismatch` when a signed slice of the main executable names another identifier
 * than CFBundleIdentifier (codesign signs a bundle under its CFBundleIdentifier); [] when the plist
 * names none (its own finding says so) or no slice is signed. Unsigned slices name nothing.
 */
export function checkIdentifier(infoPath: string, info: PlistDict, exe: Pick<BinaryVerification, 'slices'>): Finding[] {
  const bundleId = info.CFBundleIdentifier
  const ids = [...new Set(exe.slices.map(s => s.report.identifier).filter(i => i !== undefined))]
  if (typeof bundleId !== 'string' || ids.every(i => i === bundleId)) return []
  return [finding('bundle.identifier-mismatch', infoPath,
    `${infoPath}: CFBundleIdentifier is ${bundleId} but the executable is signed as ${ids.join(', ')}`,
    'Sign the bundle (not the bare executable) so the signing identifier is the bundle identifier.')]
}

/**
 * Any other Mach-O file where the main executable sits (Contents/MacOS and below in an app-like
 * bundle; the top of a shallow bundle or a framework version) is nested code. AMFI applies the
 * profile only to the main executable, so a second one claiming a restricted entitlement — even a
 * byte-for-byte copy of the daemon — is killed although codesign calls it validly signed.
 */
async function checkNestedExecutables(shape: BundleShape, tree: TreeEntry[], mainRel: string, shown: (rel: string) => string, verifyNested: (rel: string) => Promise<BinaryVerification>): Promise<Finding[]> {
  const out: Finding[] = []
  // Relative to the bundle, as a vendor names it: Contents/MacOS/x, x, Versions/A/x.
  const inBundle = (rel: string) => relative(shape.bundle, join(shape.contentDir, rel))
  for (const e of tree) {
    if (e.kind !== 'file' || !besideMainExecutable(e.rel, shape.executableDir) || e.rel === mainRel) continue
    const machO = await looksLikeMachO(shown(e.rel)).catch((err: unknown) => err)
    if (machO instanceof Error) {
      // Stryker disable next-line ConditionalExpression: the walk just found a regular file here; only one removed or swapped for another kind in between fails otherwise, and that is rethrown
      if (!isReadRefusal(machO)) throw machO
      out.push(unreadableMember(shown(e.rel), machO))
      continue
    }
    if (!machO) continue
    // Its own findings reach the report through the nested-code looker.
    const v = await verifyNested(e.rel)
    const claimed = mostTelling(v.slices.map(s => s.report.entitlements))
    if (claimed.length > 0) {
      out.push(finding('bundle.nested-restricted', shown(e.rel),
        `${inBundle(e.rel)} claims ${claimed.join(', ')} but is not the bundle's main executable; macOS will kill it (Killed: 9) even though it is validly signed, because a provisioning profile covers only the main executable.`,
        `Give ${e.rel.slice(shape.executableDir.length)} its own bundle, App ID and provisioning profile, or, if it is a copy of the daemon, remove it and point launchd and the bin/ symlink at ${inBundle(mainRel)}.`))
    }
  }
  return out
}

/** Whether `rel` (relative to the content folder) is where the main executable sits: in `executableDir` and below, or at the top when that is ''. Nested bundles further down carry their own profiles. */
function besideMainExecutable(rel: string, executableDir: string): boolean {
  return executableDir === '' ? !rel.includes('/') : rel.startsWith(executableDir)
}

/** The restricted entitlements worth naming: the capabilities (ES above all) when any, else the identity keys. */
function mostTelling(sets: Array<Record<string, unknown>>): string[] {
  const capabilities = [...new Set(sets.flatMap(e => claimedCapabilities(e)))]
  return capabilities.length > 0 ? capabilities : [...new Set(sets.flatMap(e => claimedRestricted(e)))]
}
