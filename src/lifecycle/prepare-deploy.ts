import {basename, dirname, join, relative} from 'node:path'
import type {RootFs} from '../adapters/root-fs.js'
import type {Finding} from '../verify/finding.js'
import {isRootFsError} from '../adapters/root-fs-error.js'
import {ExitCode} from '../exit-codes.js'
import type {LinkSpec} from '../layout/daemon-links.js'
import {ToolPaths, type PrefixLayout} from '../layout/prefix-layout.js'
import {renderLaunchdPlist} from '../launchd/render-plist.js'
import {MAX_PLIST_BYTES} from '../formats/property-list.js'
import {loadManifest} from '../manifest/load-manifest.js'
import {missingConfigFile} from '../manifest/config-files.js'
import {MANIFEST_FILE_NAME, type Manifest} from '../manifest/manifest.js'
import {plistSha256Of, RECORD_MODE, serializeInstallRecord, type InstallRecord} from '../records/install-record.js'
import type {LegacyInstall} from './adopt-legacy.js'
import type {LifecycleContext} from './context.js'
import {judgePayload} from './judge-payload.js'
import {adoptedFiles} from './judge-legacy.js'
import {StepFailure} from './lifecycle-error.js'
import {currentLinkStates, type LinkState} from './link-states.js'
import type {EtcAction} from './plan.js'
import {installedDamage} from './installed-damage.js'
import {etcPlan} from './etc-plan.js'
import {refuseUnsafeProbe} from './health-check.js'
import {expandPlaceholders} from '../manifest/placeholders.js'
import {compareVersions} from './version-order.js'

/** What install/upgrade learns while preparing, before anything changes; the plan is made from it. */
export interface DeployData {
  mode: 'install' | 'upgrade'
  allowDowngrade: boolean
  /** Where the new version's bundle sits inside the prefix (manifest `bundle`). */
  bundle: string
  /** The payload directory staging copies from. */
  source: string
  /** This transaction's scratch directory under the staging area. */
  work: string
  prefixExisted: boolean
  /** Directories this attempt created before the journal existed, outermost first. */
  createdDirs: string[]
  hadInstall: boolean
  wasLoaded: boolean
  hadSlot: boolean
  hadPlist: boolean
  inRegistry: boolean
  /** How long the old job may take to exit after SIGTERM (its ExitTimeOut plus a margin). */
  oldStopWaitMs: number
  /** Prefix entries (bundle, lib, modules, share) of the installed version. */
  currentEntries: string[]
  /** The links the installed version maintains (none on a first install). */
  currentLinks: LinkSpec[]
  fromVersion?: string
  fromBuild?: string
  /** A first install over the legacy layout: what is adopted. */
  legacy?: LegacyInstall
  // Decided by judging the payload:
  executableName?: string
  /** The new version's links, targets explicit. */
  links?: LinkSpec[]
  /** What every link path of either version held before. */
  linksBefore?: LinkState[]
  newEntries?: string[]
  etcPlan?: {file: string; action: EtcAction}[]
  toVersion?: string
  manifest?: Manifest
  notes?: string[]
  /** The same version over an installed bundle that no longer matches its receipt: why, when this run repairs it. */
  repair?: string
  /** Directories of StandardOutPath/StandardErrorPath that do not exist yet, outermost first. */
  logDirs?: string[]
  /** Copies of older payloads of this daemon a package dropped (payloads/<name>/<version>), deleted once the run succeeds. */
  stalePayloads?: string[]
}

/** The payload is the version already installed (and the install is intact): nothing to do. */
export class AlreadyInstalled extends StepFailure {
  constructor(readonly version: string) {
    super(ExitCode.ok, `version ${version} is already installed; nothing to do`)
  }
}

/**
 * The one version rule, for the real run and the dry run alike: the same version and build is
 * AlreadyInstalled (a no-op), an older one (by version, then build) a StepFailure (badInput) unless
 * a downgrade is allowed.
 */
export function refuseByVersion(layout: PrefixLayout, next: {version: string; build?: string}, current: InstallRecord | undefined, allowDowngrade: boolean): void {
  if (current === undefined) return
  const order = compareVersions(next.version, current.version)
  if (order === 0 && (next.build ?? '') === (current.build ?? '')) throw new AlreadyInstalled(next.version)
  if ((order < 0 || (order === 0 && compareVersions(next.build ?? '', current.build ?? '') < 0)) && !allowDowngrade) {
    throw new StepFailure(ExitCode.badInput, `refusing to downgrade ${layout.name} from ${current.version} to ${next.version}; pass --allow-downgrade to do it anyway (or use rollback)`)
  }
}

/** Where the staged copy of a payload entry lies in the scratch directory. */
export function staged(data: Pick<DeployData, 'work'>, ...parts: string[]): string {
  return join(data.work, 'payload', ...parts)
}

/** A device, socket or FIFO in the payload is the payload's fault (bad input), not a failed step. */
async function copyPayloadEntry(fs: RootFs, from: string, to: string): Promise<void> {
  try {
    await fs.copyTree(from, to, 0o755)
  } catch (e) {
    if (isRootFsError(e) && e.code === 'root-fs.unsupported-entry') throw new StepFailure(ExitCode.badInput, `the payload was refused: ${e.message}; nothing was installed`)
    throw e
  }
}

/** A file `config` names that the payload's etc/ lacks: the manifest promises what the payload does not ship. */
function refuseMissingConfig(manifest: Manifest, record: InstallRecord | Omit<InstallRecord, 'installedAt'>): void {
  const missing = missingConfigFile(manifest, record.configHashes)
  if (missing === undefined) return
  throw new StepFailure(ExitCode.badInput, `${MANIFEST_FILE_NAME}: ${missing.pointer}: names ${JSON.stringify(missing.file)}, but the payload has no etc/${missing.file}; ship the file in the payload's etc/ or remove it from "config"; nothing was changed`)
}

/**
 * The directories StandardOutPath and StandardErrorPath need that do not exist yet, outermost first:
 * launchd opens those files as root but does not create their directories, so a missing one
 * leaves the daemon's output nowhere. Both lie inside the prefix (the manifest checks it).
 */
async function missingLogDirs(fs: RootFs, manifest: Manifest, layout: PrefixLayout): Promise<string[]> {
  const dirs: string[] = []
  for (const key of ['StandardOutPath', 'StandardErrorPath'] as const) {
    const template = manifest[key]
    if (template === undefined) continue
    const expanded = expandPlaceholders(template, layout.system)
    if ('error' in expanded) continue
    const chain: string[] = []
    for (let dir = dirname(layout.rebase(expanded.value)); layout.isInsidePrefix(dir) && dir !== layout.prefix; dir = dirname(dir)) chain.unshift(dir)
    for (const dir of chain) if (!dirs.includes(dir) && (await fs.lstat(dir)) === undefined) dirs.push(dir)
  }
  return dirs
}

/**
 * The payload copies a package left for other versions of this daemon: every entry of
 * `payloads/<name>/` but the version being installed and the one this run reads from. Nothing
 * needs them once this version is in place (the rollback slot keeps the previous version whole,
 * inside the prefix), and each is a full signed bundle. Reads only; links are listed, not followed.
 */
async function stalePayloads(fs: RootFs, dir: string, version: string, source: string): Promise<string[]> {
  return (await fs.list(dir)).map((entry) => join(dir, entry)).filter((path) => basename(path) !== version && source !== path && !source.startsWith(path + '/'))
}

/** What an adoption records for its rollback: the kept legacy files, and what it adds to etc/ and var/ that the legacy install did not have. */
async function adoptionRecord(fs: RootFs, layout: PrefixLayout, data: DeployData): Promise<NonNullable<InstallRecord['adopted']>> {
  const etcDefaults = (data.etcPlan ?? []).filter((e) => e.action === 'keep').map((e) => e.file)
  const createdDirs = (data.logDirs ?? []).map((dir) => relative(layout.prefix, dir))
  return {files: await adoptedFiles(fs, layout, data.legacy!), ...(etcDefaults.length > 0 ? {etcDefaults} : {}), ...(createdDirs.length > 0 ? {createdDirs} : {})}
}

/** `f` with every mention of the directory `from` (path, message, fix) made one of `to`. */
function findingAt(f: Finding, from: string, to: string): Finding {
  const moved = (text: string): string => text.split(from).join(to)
  return {...f, path: moved(f.path), message: moved(f.message), ...(f.fix !== undefined ? {fix: moved(f.fix)} : {})}
}

/** What judging decided beyond `data`: the receipt and the plist the steps will put in place. */
export interface DeployDecision {
  record: InstallRecord
  plistXml: string
}

/**
 * Judges the payload in `dir` and decides everything the steps will do, filling in `data`: the
 * verifier, the version rule, each config file's fate, the links before and after, whether launchd
 * has the job. Reads only. Throws StepFailure (badInput, verificationFailed with findings,
 * unsafeEnvironment) or AlreadyInstalled.
 */
export async function decideDeploy(ctx: LifecycleContext, fs: RootFs, dir: string, manifest: Manifest, layout: PrefixLayout, data: DeployData, current: InstallRecord | undefined): Promise<DeployDecision> {
  const judgement = await judgePayload(ctx, fs, dir, manifest, layout)
  data.notes = judgement.notes
  if (!judgement.ok || judgement.record === undefined || judgement.layout === undefined) {
    if (judgement.version !== undefined) data.toVersion = judgement.version
    // The staged copy is removed by the time anyone reads the findings: name the payload they gave instead.
    const shown = dir === data.source ? judgement.findings : judgement.findings.map((f) => findingAt(f, dir, data.source))
    throw new StepFailure(ExitCode.verificationFailed, `verification of ${layout.bundle} failed; nothing was changed`, shown)
  }
  const placed = judgement.layout
  const record = judgement.record
  data.toVersion = record.version
  refuseMissingConfig(manifest, record)
  data.stalePayloads = await stalePayloads(fs, new ToolPaths(ctx.root).payloads(layout.name), record.version, data.source)
  // The same version again: a repair of the bundle (decided here) or of the plist and links (decided below, once rendered), else a no-op.
  let sameVersion: AlreadyInstalled | undefined
  try {
    refuseByVersion(layout, record, current, data.allowDowngrade)
  } catch (e) {
    if (!(e instanceof AlreadyInstalled) || current === undefined) throw e
    const damage = await installedDamage(ctx, current)
    if (damage === undefined) sameVersion = e
    else data.repair = damage
  }
  data.etcPlan = await etcPlan(fs, layout, record.configHashes, current?.configHashes)
  data.newEntries = []
  for (const entry of layout.versionEntries) if ((await fs.lstat(join(dir, entry))) !== undefined) data.newEntries.push(entry)
  data.executableName = placed.executableName
  data.links = placed.linkSpecs.map((l) => ({...l}))
  data.linksBefore = await currentLinkStates(fs, [...layout.with({links: data.currentLinks}).links, ...placed.links].map((l) => l.path), data.legacy ? {movedAway: data.legacy.executable} : {})
  data.manifest = manifest
  data.logDirs = await missingLogDirs(fs, manifest, placed)
  await refuseUnsafeProbe(ctx, manifest, placed)
  // Asked only now, after verification: a bundle that would be refused is refused even where launchd cannot be asked.
  data.wasLoaded = (await ctx.launchctl.print(layout.label)) !== undefined
  const plistXml = renderLaunchdPlist(manifest, placed)
  const full: InstallRecord = {
    ...record,
    plistSha256: plistSha256Of(plistXml),
    installedAt: new Date(ctx.clock.now()).toISOString(),
    ...(ctx.identity.sudoUser() !== undefined ? {installedBy: ctx.identity.sudoUser()} : {}),
    // A repair leaves the rollback slot as it was, so the receipt keeps naming the version in it.
    ...(current !== undefined && data.repair !== undefined ? (current.previous !== undefined ? {previous: current.previous} : {}) : {}),
    ...(current !== undefined && data.repair === undefined ? {previous: {version: current.version, ...(current.build !== undefined ? {build: current.build} : {})}} : {}),
    // What a rollback to the legacy install checks before it starts that code again.
    ...(data.legacy !== undefined ? {adopted: await adoptionRecord(fs, layout, data)} : {}),
  }
  if (sameVersion !== undefined) {
    const drift = await installDrift(fs, layout, plistXml, placed.links, data.linksBefore)
    if (drift === undefined) throw sameVersion
    data.repair = drift
  }
  return {record: full, plistXml}
}

/**
 * What of an install whose bundle is intact is not as esdctl would make it again: the launchd plist
 * missing or not the bytes esdctl renders, a link missing or pointing elsewhere. Undefined when all
 * of it is as it should be. Reads only.
 */
async function installDrift(fs: RootFs, layout: PrefixLayout, plistXml: string, links: readonly {path: string; text: string}[], before: readonly LinkState[] | undefined): Promise<string | undefined> {
  const plist = layout.launchdPlist
  const problems: string[] = []
  const stat = await fs.lstat(plist)
  if (stat === undefined) problems.push(`${plist} is missing`)
  else if (!stat.isFile() || (await fs.readFile(plist, MAX_PLIST_BYTES)).toString('utf8') !== plistXml) problems.push(`${plist} is not the plist esdctl renders for it`)
  for (const link of links) {
    const held = before?.find((s) => s.path === link.path)?.text ?? null
    if (held !== link.text) problems.push(held === null ? `the link ${link.path} is missing` : `the link ${link.path} points at ${held}, not ${link.text}`)
  }
  return problems.length > 0 ? problems.join('; ') : undefined
}

/**
 * The prepare phase of install/upgrade, before any journal exists: copies the payload into this
 * attempt's scratch directory (`data.work`), decides on the copy (never the original, which could
 * change between check and use), and writes the receipt and plist the steps will move into place.
 * Throws as decideDeploy; the caller then removes the scratch directory, so nothing else changed.
 */
export async function stagePayload(ctx: LifecycleContext, fs: RootFs, layout: PrefixLayout, data: DeployData, current: InstallRecord | undefined): Promise<void> {
  await fs.ensureDir(staged(data), 0o700)
  for (const entry of [MANIFEST_FILE_NAME, 'etc', ...layout.versionEntries]) {
    if ((await ctx.fs.lstat(join(data.source, entry))) !== undefined) await copyPayloadEntry(fs, join(data.source, entry), staged(data, entry))
  }
  const loaded = await loadManifest(staged(data, MANIFEST_FILE_NAME))
  if ('errors' in loaded) throw new StepFailure(ExitCode.badInput, `the staged manifest was refused: ${loaded.errors[0]!.message}`)
  const manifest = loaded.manifest
  if (manifest.name !== layout.name || manifest.label !== layout.label || (manifest.bundle ?? `${manifest.name}.app`) !== layout.bundle) throw new StepFailure(ExitCode.badInput, `the payload changed while it was being copied (its manifest now names ${manifest.name}, ${manifest.label})`)
  const decision = await decideDeploy(ctx, fs, staged(data), manifest, layout, data, current)
  await fs.writeFileAtomic(join(data.work, 'receipt.json'), serializeInstallRecord(decision.record), RECORD_MODE)
  await fs.writeFileAtomic(join(data.work, 'launchd.plist'), decision.plistXml, 0o644)
}
