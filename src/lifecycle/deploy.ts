import {join, dirname} from 'node:path'
import {TEMP_SUFFIX, type RootFs} from '../adapters/root-fs.js'
import {isRootFsError} from '../adapters/root-fs-error.js'
import {ExitCode} from '../exit-codes.js'
import type {LinkSpec} from '../layout/daemon-links.js'
import type {PrefixLayout, ToolPaths} from '../layout/prefix-layout.js'
import {renderLaunchdPlist} from '../launchd/render-plist.js'
import {loadManifest} from '../manifest/load-manifest.js'
import {MANIFEST_FILE_NAME, type Manifest} from '../manifest/manifest.js'
import {parseInstallRecord, readInstallRecordAt, RECORD_MODE, serializeInstallRecord, MAX_RECORD_BYTES, type InstallRecord} from '../records/install-record.js'
import {readRegistry, REGISTRY_MODE, serializeRegistry, withEntry, withoutEntry} from '../records/registry.js'
import type {LifecycleContext} from './context.js'
import {checkHealth} from './health-check.js'
import {judgePayload} from './judge-payload.js'
import type {Journal} from './journal.js'
import {StepFailure} from './lifecycle-error.js'
import {adoptLegacyStep, bootoutReplacedStep, type LegacyInstall} from './adopt-legacy.js'
import {currentLinkStates, linksStep, type LinkState} from './links-step.js'
import {symlinkAlong} from './symlink-along.js'
import {doMoves, undoMoves, type Move} from './moves.js'
import type {Step, Transaction} from './transaction.js'
import {compareVersions} from './version-order.js'

export type EtcAction = 'new' | 'replace' | 'keep'

/** What install/upgrade knows before it starts, plus what staging learns; all of it journaled. */
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
  // Known once staging is done:
  /** The new version's CFBundleExecutable. */
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
}

/** Thrown by staging when the payload is the version already installed. */
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

/** launchd sends SIGKILL ExitTimeOut seconds after SIGTERM (default 20); after that the label is freed within moments. */
export function stopWaitMs(exitTimeOutSeconds: number | undefined): number {
  return ((exitTimeOutSeconds ?? 20) + 5) * 1000
}

function staged(data: DeployData, ...parts: string[]): string {
  return join(data.work, 'payload', ...parts)
}

async function copyFileInto(fs: RootFs, from: string, to: string): Promise<void> {
  await fs.ensureDir(dirname(to), 0o755)
  await fs.removeTree(to + TEMP_SUFFIX)
  await fs.copyTree(from, to + TEMP_SUFFIX)
  await fs.rename(to + TEMP_SUFFIX, to)
}

async function bytesOf(fs: RootFs, path: string): Promise<Buffer> {
  return fs.readFile(path, MAX_RECORD_BYTES)
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

/**
 * The prepare phase of install/upgrade, before any journal exists: copies the payload into this
 * attempt's scratch directory (`data.work`), judges the copy (never the original, which could change
 * between check and use), compares versions and decides everything the steps will do, filling in
 * `data`. Throws StepFailure (badInput, verificationFailed with findings, unsafeEnvironment) or
 * AlreadyInstalled; the caller then removes the scratch directory, so nothing else has changed.
 */
export async function stagePayload(ctx: LifecycleContext, fs: RootFs, layout: PrefixLayout, data: DeployData, current: InstallRecord | undefined): Promise<void> {
  await fs.ensureDir(join(data.work, 'payload'), 0o700)
  for (const entry of [MANIFEST_FILE_NAME, 'etc', ...layout.versionEntries]) {
    if ((await ctx.fs.lstat(join(data.source, entry))) !== undefined) await copyPayloadEntry(fs, join(data.source, entry), staged(data, entry))
  }
  const loaded = await loadManifest(staged(data, MANIFEST_FILE_NAME))
  if ('errors' in loaded) throw new StepFailure(ExitCode.badInput, `the staged manifest was refused: ${loaded.errors[0]!.message}`)
  const manifest = loaded.manifest
  if (manifest.name !== layout.name || manifest.label !== layout.label || (manifest.bundle ?? `${manifest.name}.app`) !== layout.bundle) throw new StepFailure(ExitCode.badInput, `the payload changed while it was being copied (its manifest now names ${manifest.name}, ${manifest.label})`)
  const judgement = await judgePayload(ctx, fs, staged(data), manifest, layout)
  data.notes = judgement.notes
  if (!judgement.ok || judgement.record === undefined || judgement.layout === undefined) {
    throw new StepFailure(ExitCode.verificationFailed, `verification of ${layout.bundle} failed; nothing was changed`, judgement.findings)
  }
  const placed = judgement.layout
  const record = judgement.record
  data.toVersion = record.version
  refuseByVersion(layout, record, current, data.allowDowngrade)
  const etcPlan: DeployData['etcPlan'] = []
  for (const [file, hash] of Object.entries(record.configHashes)) {
    const installed = join(layout.etc, file)
    const link = await symlinkAlong(fs, layout.etc, dirname(file))
    if (link !== undefined) throw new StepFailure(ExitCode.unsafeEnvironment, `${link} is a symbolic link; esdctl will not write ${installed} through it (it could lead outside ${layout.prefix}). Remove the link and run again`)
    const stat = await fs.lstat(installed)
    if (stat === undefined) etcPlan.push({file, action: 'new'})
    else if (!stat.isFile()) throw new StepFailure(ExitCode.unsafeEnvironment, `${installed} is not a regular file (a link or directory replaced it); esdctl will not write through or over it`)
    else {
      const actual = await fs.sha256(installed)
      const untouched = actual === hash || (current !== undefined && current.configHashes[file] === actual)
      etcPlan.push({file, action: untouched ? 'replace' : 'keep'})
    }
  }
  data.etcPlan = etcPlan
  data.newEntries = []
  for (const entry of layout.versionEntries) if ((await fs.lstat(staged(data, entry))) !== undefined) data.newEntries.push(entry)
  data.executableName = placed.executableName
  data.links = placed.linkSpecs.map((l) => ({...l}))
  data.linksBefore = await currentLinkStates(fs, [...layout.with({links: data.currentLinks}).links, ...placed.links].map((l) => l.path), data.legacy ? {movedAway: data.legacy.executable} : {})
  data.manifest = manifest
  const full: InstallRecord = {
    ...record,
    installedAt: new Date(ctx.clock.now()).toISOString(),
    ...(ctx.identity.sudoUser() !== undefined ? {installedBy: ctx.identity.sudoUser()} : {}),
    ...(current !== undefined ? {previous: {version: current.version, ...(current.build !== undefined ? {build: current.build} : {})}} : {}),
  }
  await fs.writeFileAtomic(join(data.work, 'receipt.json'), serializeInstallRecord(full), RECORD_MODE)
  await fs.writeFileAtomic(join(data.work, 'launchd.plist'), renderLaunchdPlist(manifest, placed), 0o644)
  // Asked only now, after verification: a bundle that would be refused is refused even where launchd cannot be asked.
  data.wasLoaded = (await ctx.launchctl.print(layout.label)) !== undefined
}

function retireSlotStep(fs: RootFs, layout: PrefixLayout, data: DeployData): Step {
  const retired = join(data.work, 'retired-slot')
  return {
    id: 'retire-slot',
    title: 'Set the older rollback slot aside',
    do: async () => {
      if (data.hadSlot) await doMoves(fs, [{from: layout.rollbackSlot, to: retired}])
      await fs.ensureDir(layout.rollbackSlot, 0o700)
    },
    undo: async () => {
      await fs.removeEmptyDir(layout.rollbackSlot)
      if (data.hadSlot) await undoMoves(fs, [{from: layout.rollbackSlot, to: retired}])
    },
  }
}

export function bootoutStep(ctx: LifecycleContext, layout: PrefixLayout, loaded: () => boolean, waitMs: number, opts: {waitForExit?: boolean} = {}): Step {
  const wait = opts.waitForExit !== false
  return {
    id: 'bootout-old',
    title: wait ? `Stop ${layout.label} (launchctl bootout, waiting until it is gone)` : `Stop ${layout.label} (launchctl bootout; its exit is awaited later)`,
    do: async () => {
      if (loaded()) await ctx.launchctl.bootout(layout.label, {waitMs, wait})
    },
    // Whether or not the bootout happened (a crash may have come just before or after it), booting
    // out again, waiting until gone and bootstrapping ends with the old job loaded exactly once.
    undo: async () => {
      if (!loaded()) return
      await ctx.launchctl.bootout(layout.label, {waitMs})
      await ctx.launchctl.enable(layout.label)
      await ctx.launchctl.bootstrap(layout.launchdPlist, {label: layout.label})
    },
  }
}

/** Waits for the job a no-wait bootout stopped; the file swaps before it overlap the old daemon's exit. */
function awaitExitStep(ctx: LifecycleContext, layout: PrefixLayout, loaded: () => boolean, waitMs: number): Step {
  return {
    id: 'await-old-exit',
    title: `Wait until the old ${layout.label} has exited`,
    do: async () => {
      if (loaded()) await ctx.launchctl.waitUntilGone(layout.label, waitMs)
    },
    undo: async () => undefined,
  }
}

/** Enabling first is harmless while the old job runs, and keeps one launchctl call out of the downtime. */
function enableStep(ctx: LifecycleContext, layout: PrefixLayout): Step {
  return {id: 'enable', title: `Enable ${layout.label} (launchctl enable)`, do: () => ctx.launchctl.enable(layout.label), undo: async () => undefined}
}

function movesStep(fs: RootFs, id: string, title: string, moves: () => Move[]): Step {
  return {id, title, do: () => doMoves(fs, moves()), undo: () => undoMoves(fs, moves())}
}

function configStep(fs: RootFs, layout: PrefixLayout, data: DeployData): Step {
  const backup = (file: string): string => join(data.work, 'etc-backup', file)
  return {
    id: 'config',
    title: 'Install config defaults (files the admin changed are kept; the new default goes beside them as .default)',
    do: async () => {
      for (const {file, action} of data.etcPlan ?? []) {
        const installed = join(layout.etc, file)
        const fresh = staged(data, 'etc', file)
        if (action === 'new') {
          await copyFileInto(fs, fresh, installed)
        } else if (action === 'replace') {
          await fs.ensureDir(dirname(backup(file)), 0o700)
          await doMoves(fs, [{from: installed, to: backup(file)}])
          await copyFileInto(fs, fresh, installed)
        } else {
          await fs.ensureDir(dirname(backup(file)), 0o700)
          await doMoves(fs, [{from: installed + '.default', to: backup(file) + '.default'}])
          await copyFileInto(fs, fresh, installed + '.default')
        }
      }
    },
    undo: async () => {
      for (const {file, action} of [...(data.etcPlan ?? [])].reverse()) {
        const installed = join(layout.etc, file)
        const target = action === 'keep' ? installed + '.default' : installed
        await fs.removeTree(target + TEMP_SUFFIX)
        if (action === 'new') {
          await fs.removeTree(installed)
        } else if (action === 'replace') {
          if ((await fs.lstat(backup(file))) !== undefined) await fs.rename(backup(file), installed)
        } else {
          await fs.removeTree(installed + '.default')
          await undoMoves(fs, [{from: installed + '.default', to: backup(file) + '.default'}])
        }
      }
    },
  }
}

function plistStep(fs: RootFs, layout: PrefixLayout, data: DeployData): Step {
  const kept = layout.slotPlist
  return {
    id: 'plist',
    title: `Write ${layout.launchdPlist} (root:wheel 0644, atomically)`,
    do: async () => {
      if (data.hadPlist) await fs.writeFileAtomic(kept, await bytesOf(fs, layout.launchdPlist), 0o644)
      await fs.writeFileAtomic(layout.launchdPlist, await bytesOf(fs, join(data.work, 'launchd.plist')), 0o644)
    },
    undo: async () => {
      await fs.removeTree(layout.launchdPlist + TEMP_SUFFIX)
      if ((await fs.lstat(kept)) !== undefined) {
        await fs.writeFileAtomic(layout.launchdPlist, await bytesOf(fs, kept), 0o644)
        // The copy goes once restored, so the slot is empty again and the older slot can move back.
        await fs.removeTree(kept)
      } else if (!data.hadPlist) await fs.removeTree(layout.launchdPlist)
    },
  }
}

export async function writeRegistryChange(fs: RootFs, tool: ToolPaths, root: string, change: 'add' | 'remove', layout: PrefixLayout): Promise<void> {
  const entries = await readRegistry(root, fs)
  const next = change === 'add' ? withEntry(entries, {name: layout.name, label: layout.label, prefix: layout.system.prefix}) : withoutEntry(entries, layout.name)
  // An empty registry is no registry: a first install that was undone leaves no file behind.
  if (next.length === 0) return fs.removeTree(tool.registry)
  await fs.ensureDir(tool.dir, 0o755)
  await fs.writeFileAtomic(tool.registry, serializeRegistry(next), REGISTRY_MODE)
}

function recordsStep(ctx: LifecycleContext, fs: RootFs, layout: PrefixLayout, tool: ToolPaths, data: DeployData): Step {
  const kept = layout.slotReceipt
  return {
    id: 'records',
    title: 'Record what is installed (receipt and registry)',
    do: async () => {
      if ((await fs.lstat(layout.receipt)) !== undefined) await fs.writeFileAtomic(kept, await bytesOf(fs, layout.receipt), RECORD_MODE)
      const record = parseInstallRecord(await bytesOf(fs, join(data.work, 'receipt.json')), join(data.work, 'receipt.json'))
      await fs.writeFileAtomic(layout.receipt, serializeInstallRecord(record), RECORD_MODE)
      if (!data.inRegistry) await writeRegistryChange(fs, tool, ctx.root, 'add', layout)
    },
    undo: async () => {
      if (!data.inRegistry) await writeRegistryChange(fs, tool, ctx.root, 'remove', layout)
      // The kept copy exists only once `do` has saved it; before that the old record was never touched.
      const previous = await readInstallRecordAt(kept, fs)
      if (previous !== undefined) {
        await fs.writeFileAtomic(layout.receipt, serializeInstallRecord(previous), RECORD_MODE)
        await fs.removeTree(kept)
      } else if (!data.hadInstall) await fs.removeTree(layout.receipt)
    },
  }
}

export function bootstrapStep(ctx: LifecycleContext, layout: PrefixLayout, waitMs: () => number, opts: {enable?: boolean} = {}): Step {
  const enable = opts.enable !== false
  return {
    id: 'bootstrap',
    title: enable ? `Start ${layout.label} (launchctl enable, then bootstrap)` : `Start ${layout.label} (launchctl bootstrap)`,
    do: async () => {
      if (enable) await ctx.launchctl.enable(layout.label)
      await ctx.launchctl.bootstrap(layout.launchdPlist, {label: layout.label})
    },
    undo: () => ctx.launchctl.bootout(layout.label, {waitMs: waitMs()}),
  }
}

export function healthStep(ctx: LifecycleContext, layout: PrefixLayout, manifest: () => Manifest | undefined): Step {
  return {
    id: 'health-check',
    title: `Check that ${layout.label} stays up`,
    do: async () => {
      const m = manifest()
      if (m === undefined) throw new StepFailure(ExitCode.internalError, 'no manifest for the health check')
      await checkHealth(ctx, m, layout)
    },
    undo: async () => undefined,
  }
}

/** Removes what a first attempt created around its scratch directory: the prefix it made, then each directory it made if empty. */
export async function removeCreatedDirs(ctx: LifecycleContext, fs: RootFs, layout: PrefixLayout, data: DeployData): Promise<void> {
  if (!data.prefixExisted) await fs.removeTree(layout.prefix)
  const created = ctx.fs.restrictedTo(data.createdDirs)
  for (const dir of [...data.createdDirs].reverse()) await created.removeEmptyDir(dir)
}

/** The install/upgrade transaction, rebuilt the same way from a journal after a crash. */
export function deployTransaction(ctx: LifecycleContext, fs: RootFs, named: PrefixLayout, tool: ToolPaths, journal: Journal<DeployData>, current: InstallRecord | undefined): Transaction<DeployData> {
  const data = journal.data
  // Recovery knows only the name and label; the journal says where this version's bundle goes.
  const layout = named.with({bundle: data.bundle})
  const slotMoves = (): Move[] => data.currentEntries.map((e) => ({from: join(layout.prefix, e), to: join(layout.rollbackSlot, e)}))
  const placeMoves = (): Move[] => (data.newEntries ?? []).map((e) => ({from: staged(data, e), to: join(layout.prefix, e)}))
  const steps: Step[] = [
    retireSlotStep(fs, layout, data),
    enableStep(ctx, layout),
    // The old job keeps running from the inodes it opened while the new version is moved into
    // place, so its exit and the swaps overlap: downtime is bootout → exit → bootstrap, not the copy.
    bootoutStep(ctx, layout, () => data.wasLoaded, data.oldStopWaitMs, {waitForExit: false}),
    ...(data.legacy ? [bootoutReplacedStep(ctx, layout, () => data.legacy, data.oldStopWaitMs)] : []),
    movesStep(fs, 'slot-current', 'Move the installed version into the rollback slot', slotMoves),
    ...(data.legacy ? [adoptLegacyStep(fs, layout, () => data.legacy)] : []),
    movesStep(fs, 'place-new', 'Move the verified new version into place (rename, same volume)', placeMoves),
    linksStep(fs, 'links', 'Point the links at the new bundle (and remove links the old version had and the new one does not)', () => data.linksBefore, () => (data.links ? layout.with({links: data.links}).links : [])),
    configStep(fs, layout, data),
    plistStep(fs, layout, data),
    recordsStep(ctx, fs, layout, tool, data),
    awaitExitStep(ctx, layout, () => data.wasLoaded, data.oldStopWaitMs),
    bootstrapStep(ctx, layout, () => stopWaitMs(data.manifest?.ExitTimeOut), {enable: false}),
    healthStep(ctx, layout, () => data.manifest),
  ]
  return {
    journal,
    journalPath: layout.journal,
    fs,
    steps,
    finish: () => fs.removeTree(data.work),
    abandon: () => fs.removeTree(data.work),
    afterAbandon: () => removeCreatedDirs(ctx, fs, layout, data),
  }
}
