import {join} from 'node:path'
import {describeCodesignProblems} from '../adapters/codesign-verify-output.js'
import type {RootFs} from '../adapters/root-fs.js'
import {isFormatError} from '../formats/format-error.js'
import {MAX_PLIST_BYTES, parsePropertyListDict} from '../formats/property-list.js'
import {isValidExecutableName} from '../layout/names.js'
import type {PrefixLayout} from '../layout/prefix-layout.js'
import {layoutOptionsOf, type Manifest} from '../manifest/manifest.js'
import type {InstallRecord} from '../records/install-record.js'
import {finding, hasErrors, type Finding} from '../verify/finding.js'
import type {SliceReport} from '../verify/report.js'
import {verifyPath} from '../verify/verify-path.js'
import type {LifecycleContext} from './context.js'
import {symlinkAlong} from './symlink-along.js'
import {isBundleVersion} from './version-order.js'

export interface PayloadJudgement {
  ok: boolean
  findings: Finding[]
  notes: string[]
  version?: string
  build?: string
  /** The bundle's CFBundleExecutable, once read and found in Contents/MacOS. */
  executableName?: string
  /** The layout with the executable's real name and every link's target made explicit. */
  layout?: PrefixLayout
  /** The parts of the install record that come from the payload itself. */
  record?: Omit<InstallRecord, 'installedAt' | 'installedBy' | 'previous'>
  /** The main executable's slices as the verifier reported them (with every candidate cdhash), when ok. */
  slices?: SliceReport[]
}

const MAX_INFO_PLIST_BYTES = Math.min(MAX_PLIST_BYTES, 1024 * 1024)

async function readInfoPlist(fs: RootFs, path: string, findings: Finding[]): Promise<Record<string, unknown> | undefined> {
  try {
    return parsePropertyListDict(await fs.readFile(path, MAX_INFO_PLIST_BYTES), path)
  } catch (e) {
    if (
      // Stryker disable next-line ConditionalExpression,BooleanLiteral: every error readFile and the plist reader raise carries a string code (an errno, RootFsError, FormatError); only a bug in them (a TypeError) reaches this throw, and no input makes one. The always-throw mutant of the whole test starts here too; the one of the code test below still runs
      !isFormatError(e) &&
      typeof (e as NodeJS.ErrnoException).code !== 'string'
    ) throw e
    findings.push(finding('install.info-plist', path, `${path}: cannot be read as a property list (${(e as Error).message})`, 'Rebuild the bundle; Info.plist must be a valid property list.'))
    return undefined
  }
}

/** The bundle's CFBundleExecutable when Info.plist can be read and names a valid file name; undefined otherwise (judgePayload says why). */
export async function bundleExecutableName(fs: RootFs, app: string): Promise<string | undefined> {
  // Stryker disable next-line ArrayDeclaration: the findings go into a list nobody reads; only the name matters here
  const info = await readInfoPlist(fs, join(app, 'Contents', 'Info.plist'), [])
  const named = info?.['CFBundleExecutable']
  return isValidExecutableName(named) ? named : undefined
}

/** sha256 of every file the payload ships under etc/, by etc/-relative path; links or devices there are findings. */
export async function configDefaults(fs: RootFs, etcDir: string, findings: Finding[]): Promise<Record<string, string>> {
  const {files, others} = await fs.listFiles(etcDir)
  for (const other of others) {
    findings.push(finding('install.etc-not-a-file', join(etcDir, other), `${join(etcDir, other)} is not a regular file; the payload's etc/ may hold only files and directories`, 'Replace the link or special file with a regular file.'))
  }
  const hashes: Record<string, string> = {}
  for (const file of files) hashes[file] = await fs.sha256(join(etcDir, file))
  return hashes
}

/**
 * What judging needs of a lifecycle context: the verifier's options, the codesign second opinion
 * (macOS), and whether this is an offline image under `root` (only for the note). `esdctl payload`
 * judges with just these, so the vendor's build refuses what every install would refuse.
 */
export type JudgeContext = Pick<LifecycleContext, 'root' | 'codesign' | 'verifyOptions' | 'offline'>

export interface JudgeOptions {
  /**
   * Check and hash `<dir>/etc` as shipped config defaults (default true). Off where `dir` is code
   * already in place (judgeSlot): its etc/ is then the admin's live configuration, which may hold
   * links and sockets of the admin's own, and which no rollback decision rests on.
   */
  config?: boolean
}

/**
 * The judgement install and upgrade act on, made on the copy they will move into place (never on
 * the original, which someone could change between check and use): the verifier over every slice,
 * the signature's team and identifier against the manifest, Info.plist against the manifest, and
 * on macOS codesign's second opinion.
 */
export async function judgePayload(ctx: JudgeContext, fs: RootFs, dir: string, manifest: Manifest, layout: PrefixLayout, opts: JudgeOptions = {}): Promise<PayloadJudgement> {
  const app = join(dir, layout.bundle)
  const findings: Finding[] = []
  const notes: string[] = []
  const appStat = await fs.lstat(app)
  if (!appStat?.isDirectory() || (await symlinkAlong(fs, dir, layout.bundle)) !== undefined) {
    const where = manifest.bundle === undefined ? `(the manifest's name is ${manifest.name}; set "bundle" if it lives elsewhere)` : `(the manifest's bundle is ${manifest.bundle})`
    findings.push(finding('install.no-bundle', app, `${app}: the payload has no ${layout.bundle} directory ${where}`, `Put the daemon's bundle at ${layout.bundle} in the payload.`))
    return {ok: false, findings, notes}
  }
  const report = await verifyPath(app, ctx.verifyOptions)
  findings.push(...report.findings)
  for (const slice of report.slices) {
    // An ad-hoc CodeDirectory's team id is whatever its writer put there: only a certificate makes
    // the comparison with the manifest's teamId mean that the vendor signed this code.
    if (slice.signer === 'adhoc') {
      findings.push(finding('install.team-unvouched', app, `${app} (${slice.arch}) is ad-hoc signed: no certificate vouches for its team ${slice.teamId ?? '(none)'}, so nothing shows that team ${manifest.teamId} signed it`, `Sign the daemon with team ${manifest.teamId}'s Developer ID Application certificate (codesign --sign "Developer ID Application: …" --options runtime).`))
    }
    if (slice.teamId !== manifest.teamId) {
      findings.push(finding('install.team-mismatch', app, `${app} (${slice.arch}) is signed for team ${slice.teamId ?? '(none)'}, but the manifest says teamId ${manifest.teamId}`, 'Sign the daemon with the team the manifest names, or correct teamId in esdctl.json.'))
    }
    if (slice.identifier !== manifest.bundleId) {
      findings.push(finding('install.identifier-mismatch', app, `${app} (${slice.arch}) is signed with identifier ${slice.identifier ?? '(none)'}, but the manifest says bundleId ${manifest.bundleId}`, 'Sign with the bundle identifier as the code identifier, or correct bundleId in esdctl.json.'))
    }
  }
  if (report.slices.length === 0 && !hasErrors(findings)) {
    findings.push(finding('install.no-code', app, `${app}: the verifier found no signed code to install`, 'Check the bundle.'))
  }
  const info = await readInfoPlist(fs, join(app, 'Contents', 'Info.plist'), findings)
  let version: string | undefined
  let build: string | undefined
  let executableName: string | undefined
  if (info) {
    if (info['CFBundleIdentifier'] !== manifest.bundleId) {
      findings.push(finding('install.info-bundle-id', app, `${app}/Contents/Info.plist: CFBundleIdentifier is ${JSON.stringify(info['CFBundleIdentifier'])}, but the manifest says bundleId ${manifest.bundleId}`, 'Make Info.plist and esdctl.json agree.'))
    }
    const named = info['CFBundleExecutable']
    if (!isValidExecutableName(named)) {
      findings.push(finding('install.info-executable', app, `${app}/Contents/Info.plist: CFBundleExecutable is ${JSON.stringify(named)}, which is not a file name in Contents/MacOS`, 'Set CFBundleExecutable to the main executable\'s file name (letters, digits, \' \', \'.\', \'_\', \'+\' or \'-\').'))
    } else if (!(await fs.lstat(join(app, 'Contents', 'MacOS', named)))?.isFile()) {
      findings.push(finding('install.info-executable', app, `${app}/Contents/Info.plist: CFBundleExecutable is ${JSON.stringify(named)}, but Contents/MacOS/${named} is not a regular file`, 'Put the main executable at Contents/MacOS/<CFBundleExecutable>.'))
    } else {
      executableName = named
    }
    build = typeof info['CFBundleVersion'] === 'string' ? info['CFBundleVersion'] : undefined
    // The format esdctl payload and esdctl bundle enforce: a version install records is one the Munki form and the downgrade rule order alike.
    const shortVersion = info['CFBundleShortVersionString']
    if (isBundleVersion(shortVersion)) version = shortVersion
    else {
      findings.push(finding('install.no-version', app, `${app}/Contents/Info.plist: CFBundleShortVersionString is missing or not one to three period-separated integers (${JSON.stringify(shortVersion)})`, 'Set CFBundleShortVersionString to one to three period-separated integers, e.g. 1.2.3 (esdctl bundle --version writes it); esdctl compares versions to refuse downgrades.'))
    }
  }
  const placed = executableName === undefined ? undefined : layout.with(layoutOptionsOf(manifest, executableName))
  for (const link of placed?.linkSpecs ?? []) {
    const target = join(app, link.target)
    if ((await symlinkAlong(fs, app, link.target)) !== undefined || !(await fs.lstat(target))?.isFile()) {
      findings.push(finding('install.link-target', target, `${target}: the link ${link.path} must point at a regular file inside the bundle, but ${link.target} is not one`, 'Correct links[].target in esdctl.json, or ship the file in the bundle.'))
    }
  }
  const configHashes = opts.config === false ? {} : await configDefaults(fs, join(dir, 'etc'), findings)
  if (ctx.codesign) {
    const second = await ctx.codesign.verify(app)
    if (!second.ok) {
      const why = second.problems.length > 0 ? describeCodesignProblems(second.problems) : second.output
      findings.push(finding('install.codesign-rejected', app, `codesign --verify --strict rejected ${app}: ${why}`, 'Re-sign the bundle; macOS would refuse to run it.'))
    }
  } else {
    notes.push('codesign is not available on this platform: the second opinion (codesign --verify --strict --deep) was not asked; only esdctl\'s own verifier judged the bundle')
  }
  // Nothing about staging into an image here: a judgement precedes the outcome, and a refused run staged nothing (the success message says what an offline run did).
  // An undefined version or layout always comes with an error finding (install.info-plist, install.no-version,
  // install.info-executable), so these two tests only tell the compiler what hasErrors already decided.
  const ok = !hasErrors(findings) && (
    // Stryker disable next-line ConditionalExpression,LogicalOperator: see above (|| differs only when exactly one is undefined, which always comes with an error)
    version !== undefined && placed !== undefined
  )
  if (!ok ||
    // Stryker disable next-line ConditionalExpression: see above
    placed === undefined) return {ok: false, findings, notes, version, build}
  const first = report.slices[0]!
  const record: PayloadJudgement['record'] = {
    schemaVersion: 1,
    name: manifest.name,
    label: manifest.label,
    bundleId: manifest.bundleId,
    teamId: manifest.teamId,
    version: version!,
    ...(build !== undefined ? {build} : {}),
    // Stryker disable next-line MethodExpression,ConditionalExpression: only an unsigned slice has no cdhash, and it is the error signature.missing: an ok judgement has none
    cdhashes: report.slices.filter((s) => s.cdhash !== undefined).map((s) => ({arch: s.arch, cdhash: s.cdhash!})),
    // An ok judgement's slice was signed by a certificate (unsigned is signature.missing, ad-hoc install.team-unvouched), which always sets
    // signerSha256; a leaf without a commonName leaves signerName undefined, and {commonName: undefined} is the same record as {}: JSON drops it
    // when the record is written, and its readers (record-schemas, doctor's identity check) take undefined for absent.
    // Stryker disable next-line ConditionalExpression: see above
    signer: {kind: first.signer, ...(first.signerName !== undefined ? {commonName: first.signerName} : {}), ...(first.signerSha256 !== undefined ? {leafSha256: first.signerSha256} : {})},
    ...(first.designatedRequirement !== undefined ? {designatedRequirement: first.designatedRequirement} : {}),
    // Stryker disable next-line StringLiteral: ExpirationDate is required by the profile reader, and a profile without one is the error profile.malformed: an ok judgement's profile always has expires
    ...(report.profile ? {profile: {uuid: report.profile.uuid, name: report.profile.name, expires: report.profile.expires ?? '', kind: report.profile.kind}} : {}),
    configHashes,
    plistPath: placed.system.launchdPlist,
    executable: placed.system.executable,
    bundle: placed.bundle,
    links: placed.linkSpecs.map((l) => ({...l})),
    ...(manifest.healthCheck ? {healthCheck: {runningSeconds: manifest.healthCheck.runningSeconds, ...(manifest.healthCheck.command ? {command: manifest.healthCheck.command} : {})}} : {}),
  }
  return {ok, findings, notes, version, build, executableName, layout: placed, record, slices: report.slices}
}
