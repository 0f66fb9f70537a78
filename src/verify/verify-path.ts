import {stat} from 'node:fs/promises'
import {basename, dirname} from 'node:path'
import {bundleShapeOf, type BundleShape} from './bundle-shape.js'
import {classifyMagic, javaClassVersion} from '../formats/macho-magic.js'
import {readProvisioningProfile} from '../trust/provisioning-profile.js'
import {checkProfileItself, profileReport} from './check-profile.js'
import {finding, hasErrors, type Finding} from './finding.js'
import type {ArtifactKind, VerifyReport} from './report.js'
import {claimedRestricted} from './restricted-entitlements.js'
import {verifyBinary} from './verify-binary.js'
import {verifyBundle} from './verify-bundle.js'
import {unsupportedContainer} from './unsupported-container.js'
import {emptyInput} from './empty-input.js'
import {looksLikeXar} from '../formats/xar.js'
import {hasErrorCode} from '../io/error-code.js'
import {kindInWords, NotRegularFileError, openRegularFile, readRegularFile} from '../io/regular-file.js'
import {resolveVerifyOptions, type VerifyOptions} from './verify-options.js'

const MAX_PROFILE_BYTES = 1024 * 1024

/** Every kind verify accepts (classified below); an input.unknown-kind message lists them all. */
const NOT_VERIFIABLE = 'neither a Mach-O executable, an app bundle, a provisioning profile, an installer package (.pkg), a folder, a .zip nor a gzip\'d tarball (.tar.gz, .tgz)'
const POINT_AT_VERIFIABLE = 'Point esdctl at <name>.app, a Mach-O executable, a .provisionprofile, a .pkg, a folder, a .zip or a .tar.gz/.tgz.'
/** `PK\x03\x04`, the first local file header of a zip (APPNOTE 4.3.7). A gzip'd file is taken as a tarball. */
const ZIP_LOCAL_HEADER = 0x504b0304

/**
 * The library's front door: judges a bundle (.app, .framework, .dext, …), a bare Mach-O, a
 * `.provisionprofile`, a flat installer package or a folder holding such things the way macOS would, and never throws for bad input — every problem is a finding.
 */
export async function verifyPath(path: string, options?: VerifyOptions): Promise<VerifyReport> {
  const opts = resolveVerifyOptions(options)
  const kind = await detectKind(path)
  // Stryker disable next-line BooleanLiteral: ok is set from the findings below before the report is returned.
  const report: VerifyReport = {ok: false, path, kind: kind.kind, findings: [], slices: []}
  if (kind.finding) {
    report.findings.push(kind.finding)
  } else if (kind.kind === 'bundle') {
    Object.assign(report, await verifyBundle(kind.shape!, opts))
  } else if (kind.kind === 'macho') {
    const v = await verifyBinary(path, path, {}, opts)
    report.findings.push(...v.findings, ...bareBinaryFindings(path, v.slices.map(s => s.report.entitlements)))
    report.slices = v.slices.map(s => s.report)
  } else if (kind.kind === 'package') {
    // Loaded only for packages, so verifying a bundle does not pay for the xar, cpio and payload code.
    const {verifyPackage} = await import('./verify-package.js')
    const v = await verifyPackage(path, opts, item => verifyPath(item, opts))
    report.findings.push(...v.findings)
    if (v.package) report.package = v.package
    if (v.notarization) report.notarization = v.notarization
    report.items = v.items
  } else if (kind.kind === 'folder') {
    const {verifyFolder} = await import('./verify-folder.js')
    const v = await verifyFolder(path, item => verifyPath(item, opts))
    report.findings.push(...v.findings)
    report.items = v.items
  } else if (kind.kind === 'archive') {
    const {verifyArchive} = await import('./verify-archive.js')
    const v = await verifyArchive(path, kind.archive!, item => verifyPath(item, opts))
    report.findings.push(...v.findings)
    report.items = v.items
  } else if (
    // Stryker disable next-line ConditionalExpression: the only kind left is unknown, which always comes with its finding (handled first).
    kind.kind === 'profile'
  ) {
    await verifyProfileFile(path, opts.now, report, opts)
  }
  report.ok = !hasErrors(report.findings)
  return report
}

async function verifyProfileFile(path: string, now: Date, report: VerifyReport, opts: ReturnType<typeof resolveVerifyOptions>): Promise<void> {
  try {
    const {handle, size} = await openRegularFile(path)
    await handle.close()
    if (size > MAX_PROFILE_BYTES) {
      report.findings.push(finding('profile.malformed', path, `${path}: ${size} bytes is far larger than any provisioning profile`, 'Point esdctl at the .provisionprofile downloaded from the Apple Developer portal.'))
      return
    }
    const reading = await readProvisioningProfile(await readRegularFile(path), {trust: opts.trust, now})
    report.profile = profileReport(path, reading.profile)
    report.findings.push(...checkProfileItself(path, reading, now))
  } catch (e) {
    // A FormatError carries a string code as fs errors do: both are bad input; only a bug raises anything else.
    // Stryker disable next-line ConditionalExpression: only a bug in the calls above raises an error without a code.
    if (!hasErrorCode(e)) throw e
    report.findings.push(finding('profile.malformed', path, `${path}: not a readable provisioning profile (${e.message})`, 'Download the profile again from the Apple Developer portal.'))
  }
}

/** A bare executable cannot carry a profile, so any restricted entitlement it claims dooms it. */
function bareBinaryFindings(path: string, entitlementSets: Array<Record<string, unknown>>): Finding[] {
  const claimed = [...new Set(entitlementSets.flatMap(e => claimedRestricted(e)))]
  if (claimed.length === 0) return []
  const inBundle = basename(dirname(path)) === 'MacOS' && basename(dirname(dirname(path))) === 'Contents'
  return [finding(inBundle ? 'entitlements.verify-the-bundle' : 'entitlements.restricted-in-bare-binary', path,
    inBundle
      ? `${path} claims ${claimed.join(', ')}; whether macOS allows that depends on its bundle's provisioning profile — verify the bundle (${dirname(dirname(dirname(path)))}) to check it`
      : `${path} claims ${claimed.join(', ')} but is a bare executable: it cannot carry the provisioning profile that must authorise those entitlements, so macOS kills it at launch (Killed: 9)`,
    inBundle ? undefined : 'Wrap the daemon in an app-like bundle (<name>.app/Contents/MacOS/<name> with Info.plist and embedded.provisionprofile; esdctl bundle does it) and point launchd at the executable inside it.')]
}

async function detectKind(path: string): Promise<{kind: ArtifactKind; shape?: BundleShape; archive?: 'zip' | 'tar'; finding?: Finding}> {
  let st
  try {
    st = await stat(path)
  } catch (e) {
    return {kind: 'unknown', finding: finding('input.unreadable', path, `${path}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'Check the path and that you may read it.')}
  }
  if (st.isDirectory()) {
    // A bundle of any shape (.app, .framework, .dext…), or the Contents/ folder of a deep one.
    const parent = basename(path) === 'Contents' ? await bundleShapeOf(dirname(path)) : undefined
    const shape = parent?.kind === 'deep' ? parent : await bundleShapeOf(path)
    if (shape) return {kind: 'bundle', shape}
    // Any other folder (an npm package, a build output): each bundle and Mach-O file below it.
    return {kind: 'folder'}
  }
  // Never opened: open() on a socket fails (ENXIO) rather than naming it.
  if (!st.isFile()) return notAFile(path, kindInWords(st))
  let head = Buffer.alloc(8)
  let size = 0
  try {
    const {handle: fh, size: opened} = await openRegularFile(path)
    try {
      head = head.subarray(0, (await fh.read(head, 0, 8, 0)).bytesRead)
      size = opened
    } finally {
      await fh.close()
    }
  } catch (e) {
    // Replaced by a pipe, socket or device since the stat above.
    // Stryker disable next-line ConditionalExpression: stat just found a regular file; only one swapped for a pipe or device in between gets here.
    if (e instanceof NotRegularFileError) return notAFile(path, e.what)
    // Stryker disable next-line ConditionalExpression: open and read raise fs errors only; anything else is a bug.
    if (!hasErrorCode(e)) throw e
    return {kind: 'unknown', finding: finding('input.unreadable', path, `${path}: cannot be read (${e.code})`, 'Check the path and that you may read it.')}
  }
  // Before any sniffing: 0 bytes match no magic, and a name (.pkg, .provisionprofile) would otherwise pick a reader that calls the file damaged or of no known kind.
  if (size === 0) return {kind: 'unknown', finding: emptyInput(path)}
  const magic = classifyMagic(head)
  if (magic === 'macho') return {kind: 'macho'}
  if (magic === 'java-class') {
    return {kind: 'unknown', finding: finding('input.unknown-kind', path, `${path}: a Java class file (version ${javaClassVersion(head)}), not Mach-O: it shares the universal-binary magic 0xcafebabe but macOS does not run it as native code`, POINT_AT_VERIFIABLE)}
  }
  if (looksLikeXar(head)) return {kind: 'package'}
  if (head.length >= 4 && head.readUInt32BE(0) === ZIP_LOCAL_HEADER) return {kind: 'archive', archive: 'zip'}
  if (head[0] === 0x1f && head[1] === 0x8b) return {kind: 'archive', archive: 'tar'}
  if (head[0] === 0x30 || path.endsWith('.provisionprofile')) return {kind: 'profile'}
  const container = await unsupportedContainer(path, head, size)
  if (container) return {kind: 'unknown', finding: finding('input.unknown-kind', path, `${path}: ${container.what}, which esdctl does not open`, container.fix)}
  return {kind: 'unknown', finding: finding('input.unknown-kind', path, `${path}: ${NOT_VERIFIABLE}`, POINT_AT_VERIFIABLE)}
}

/** A named pipe, socket or device: never opened (reading a pipe would wait for a writer forever). */
function notAFile(path: string, what: string): {kind: ArtifactKind; finding: Finding} {
  return {kind: 'unknown', finding: finding('input.unknown-kind', path, `${path}: ${what}, not a file esdctl can verify; esdctl does not read from it`, POINT_AT_VERIFIABLE)}
}
