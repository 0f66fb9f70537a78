import {join} from 'node:path'
import {ExitCode} from '../exit-codes.js'
import {sameName} from '../layout/names.js'
import {PrefixLayout} from '../layout/prefix-layout.js'
import {layoutOptionsOf, type Manifest} from '../manifest/manifest.js'
import {readInstallRecordAt, type InstallRecord} from '../records/install-record.js'
import {readRegistry} from '../records/registry.js'
import {detectLegacy, replacedPlistPaths} from './adopt-legacy.js'
import type {LifecycleContext, LifecycleResult} from './context.js'
import {deployPlan} from './deploy-plan.js'
import {runningClause, stagedNote} from './health-check.js'
import {installedLinks} from './installed-links.js'
import {LifecycleError, StepFailure} from './lifecycle-error.js'
import {dryRunOutcome, dryRunResult, LEGACY, newTransactionId, runAndReport} from './outcome.js'
import {openPayload} from './payload-source.js'
import {decideDeploy, stagePayload, type DeployData} from './prepare-deploy.js'
import {manifestOfInstalled} from './previous-manifest.js'
import {requireRootProcess} from './preflight.js'
import {openSession, type Session} from './session.js'
import {refuseUnmanagedJob} from './unmanaged-job.js'
import {runCleanup} from './steps/index.js'
import {stopWaitMs} from './stop-wait.js'
import {compareVersions} from './version-order.js'

export interface DeployOptions {
  dryRun?: boolean
  allowDowngrade?: boolean
}

type Mode = 'install' | 'upgrade'

async function deploy(ctx: LifecycleContext, payload: string, opts: DeployOptions, mode: Mode): Promise<LifecycleResult> {
  // Before the payload is read: a payload only root can read must not turn "run it with sudo" into a read error.
  requireRootProcess(ctx, mode)
  const source = await openPayload(payload)
  try {
    const {manifest} = source
    const layout = new PrefixLayout({...layoutOptionsOf(manifest), root: ctx.root})
    const replaces = manifest.replaces ?? []
    const session = await openSession(ctx, mode, layout, {...opts, links: [...layout.links, ...(await installedLinks(ctx, layout))], paths: replacedPlistPaths(layout, replaces)})
    try {
      const ran = await deployInSession(ctx, session, source.dir, source.manifest, opts, mode)
      const swept = source.swept.length === 0 ? [] : [`removed ${source.swept.length} payload extraction director${source.swept.length === 1 ? 'y' : 'ies'} an interrupted run left (${source.swept.join(', ')})`]
      const result = swept.length === 0 ? ran : {...ran, notes: [...(ran.notes ?? []), ...swept]}
      return opts.dryRun ? dryRunOutcome(result) : result
    } finally {
      await session.release()
    }
  } finally {
    await source.dispose()
  }
}

/** Refusals that need no judging: upgrade of nothing, a changed label, a name or label another daemon has. */
async function refuseConflicts(ctx: LifecycleContext, session: Session, mode: Mode, current: InstallRecord | undefined): Promise<void> {
  const {layout, fs} = session
  if (mode === 'upgrade' && current === undefined) {
    throw new LifecycleError(ExitCode.badInput, `${layout.name} is not installed (no record at ${layout.receipt}); use esdctl install for a first installation`)
  }
  if (current !== undefined && current.label !== layout.label) {
    throw new LifecycleError(ExitCode.badInput, `${layout.name} is installed with label ${current.label}, but the payload says ${layout.label}; uninstall it first to change the label`)
  }
  const registry = await readRegistry(ctx.root, fs)
  const caseTwin = registry.find((e) => e.name !== layout.name && sameName(e.name, layout.name))
  if (caseTwin) throw new LifecycleError(ExitCode.badInput, `${layout.name} differs only in case from the installed daemon ${caseTwin.name}; on a case-insensitive volume (APFS's default) both would be ${layout.system.prefix}. Use the installed name, or another name`)
  const clash = registry.find((e) => e.label === layout.label && e.name !== layout.name)
  if (clash) throw new LifecycleError(ExitCode.badInput, `label ${layout.label} already belongs to the installed daemon ${clash.name}`)
}

/** What is there now, read before deciding: the installed version, its entries and links, the slot, the plist, a legacy install. */
async function readWhatIsThere(ctx: LifecycleContext, session: Session, sourceDir: string, manifest: Manifest, opts: DeployOptions, mode: Mode, current: InstallRecord | undefined, txid: string): Promise<DeployData> {
  const {layout, fs} = session
  const oldManifest = current ? await manifestOfInstalled(fs, current, layout.launchdPlist) : undefined
  const currentLayout = current ? PrefixLayout.ofRecord(current, ctx.root) : undefined
  const data: DeployData = {
    mode,
    allowDowngrade: opts.allowDowngrade === true,
    bundle: layout.bundle,
    source: sourceDir,
    work: join(layout.staging, txid),
    prefixExisted: (await fs.lstat(layout.prefix)) !== undefined,
    createdDirs: [],
    hadInstall: current !== undefined,
    wasLoaded: false,
    hadSlot: (await fs.lstat(layout.rollbackSlot)) !== undefined,
    hadPlist: (await fs.lstat(layout.launchdPlist)) !== undefined,
    inRegistry: (await readRegistry(ctx.root, fs)).some((e) => e.name === layout.name),
    oldStopWaitMs: stopWaitMs(oldManifest?.ExitTimeOut),
    currentEntries: [],
    currentLinks: currentLayout ? currentLayout.linkSpecs.map((l) => ({...l})) : [],
    ...(current ? {fromVersion: current.version, ...(current.build !== undefined ? {fromBuild: current.build} : {})} : {}),
  }
  for (const entry of currentLayout?.versionEntries ?? layout.versionEntries) if ((await fs.lstat(join(layout.prefix, entry))) !== undefined) data.currentEntries.push(entry)
  if (current === undefined) {
    const legacy = await detectLegacy(ctx, fs, layout, manifest.replaces ?? [])
    if (legacy) data.legacy = legacy
    else await refuseUnmanagedJob(ctx, fs, layout)
  }
  return data
}

/** A prepare-phase refusal as the result: nothing changed, so no rollback and no audit entry. */
function preparedRefusal(base: LifecycleResult, data: DeployData, e: StepFailure, dryRun: boolean): LifecycleResult {
  const message = dryRun && e.exitCode === ExitCode.ok ? `version ${data.toVersion} is already installed; nothing would be done` : e.message
  return {...base, ...(data.toVersion ? {toVersion: data.toVersion} : {}), exitCode: e.exitCode, message, ...(e.findings ? {findings: e.findings} : {}), ...(data.notes?.length ? {notes: data.notes} : {}), ...(dryRun && e.exitCode === ExitCode.ok ? {plan: []} : {})}
}

function successMessage(ctx: LifecycleContext, layout: PrefixLayout, data: DeployData, current: InstallRecord | undefined): string {
  if (current && data.repair) return `${layout.name} ${data.toVersion} reinstalled over a damaged install (${data.repair}); the damaged copy was discarded and the rollback slot kept as it was; ${runningClause(ctx)}`
  if (current) return `${layout.name} upgraded from ${current.version} to ${data.toVersion}; ${runningClause(ctx)}`
  if (data.legacy) return `${layout.name} ${data.toVersion} installed over the legacy ${join(layout.system.bin, layout.name)}, which is kept in the rollback slot (etc/ and var/ kept as they were); ${runningClause(ctx)}`
  return `${layout.name} ${data.toVersion} installed; ${runningClause(ctx)}`
}

function dryRunMessage(layout: PrefixLayout, data: DeployData, current: InstallRecord | undefined): string {
  if (current && data.repair) return `would reinstall ${layout.name} ${data.toVersion} over a damaged install (${data.repair})`
  if (current) return `would ${data.toVersion !== undefined && compareVersions(data.toVersion, current.version) < 0 ? 'downgrade' : 'upgrade'} ${layout.name} from ${current.version} to ${data.toVersion}`
  if (data.legacy) return `would adopt the legacy ${join(layout.system.bin, layout.name)} (${data.legacy.jobs.map((j) => j.label).join(', ')}) and install ${layout.name} ${data.toVersion}`
  return `would install ${layout.name} ${data.toVersion}`
}

/**
 * Prepare (read what is there, stage, judge, decide), then run the plan. The dry run decides on
 * the payload in place, with no staging, and returns the same plan the real run journals.
 */
async function deployInSession(ctx: LifecycleContext, session: Session, sourceDir: string, manifest: Manifest, opts: DeployOptions, mode: Mode): Promise<LifecycleResult> {
  const {layout, fs} = session
  const current = await readInstallRecordAt(layout.receipt, fs)
  const base: LifecycleResult = {action: mode, name: layout.name, label: layout.label, changed: session.recovered !== undefined, exitCode: ExitCode.ok, message: '', ...(session.recovered ? {recovered: session.recovered} : {})}
  if (current !== undefined) base.fromVersion = current.version
  await refuseConflicts(ctx, session, mode, current)
  const txid = newTransactionId(ctx)
  const data = await readWhatIsThere(ctx, session, sourceDir, manifest, opts, mode, current, txid)
  if (opts.dryRun) {
    try {
      await decideDeploy(ctx, ctx.fs, sourceDir, manifest, layout, data, current)
    } catch (e) {
      if (e instanceof StepFailure) return preparedRefusal(base, data, e, true)
      throw e
    }
    const plan = deployPlan(ctx, layout, data, txid)
    const notes = [...(data.notes ?? []), ...stagedNote(ctx, {dryRun: true})]
    return {...dryRunResult({...base, toVersion: data.toVersion!}, plan, dryRunMessage(layout, data, current)), ...(notes.length ? {notes} : {})}
  }
  // A new Mac has no /opt: it and the prefix are for others to traverse (0755); only esdctl's own records are 0700.
  // A fresh --root image may lack /Library/LaunchDaemons too (DESIGN.md §11): root:wheel 0755 like /opt.
  // Recorded in the plan, so a first install that fails leaves no directory it made behind.
  data.createdDirs = [
    ...(await fs.ensureDir(layout.prefix, 0o755)),
    ...(await fs.ensureDir(layout.staging, 0o700)),
    ...(await fs.ensureParentDir(layout.launchdPlist, 0o755)),
  ]
  const plan = deployPlan(ctx, layout, data, txid)
  try {
    await stagePayload(ctx, fs, layout, data, current)
  } catch (e) {
    const env = {ctx, fs, tool: session.tool, layout}
    for (const cleanup of [...plan.abandon, ...plan.afterAbandon]) await runCleanup(env, cleanup)
    if (e instanceof StepFailure) return preparedRefusal(base, data, e, false)
    throw e
  }
  const decided = deployPlan(ctx, layout, data, txid)
  const withVersion = {...base, toVersion: data.toVersion!, ...(data.notes?.length ? {notes: data.notes} : {})}
  const result = await runAndReport(ctx, session, decided, withVersion, data.legacy ? LEGACY : current?.version, successMessage(ctx, layout, data, current))
  const staged = result.exitCode === ExitCode.ok ? stagedNote(ctx) : []
  return staged.length === 0 ? result : {...result, notes: [...(result.notes ?? []), ...staged]}
}

/**
 * Installs the payload (a directory or .tar.gz); on a machine that already has this daemon it
 * upgrades it (so a package's postinstall can always call install). The same version again is a
 * no-op (changed: false); an older one is refused unless allowDowngrade. With dryRun, nothing
 * changes and `changed` says whether the real run would (outcome.ts dryRunOutcome).
 */
export function install(ctx: LifecycleContext, payload: string, opts: DeployOptions = {}): Promise<LifecycleResult> {
  return deploy(ctx, payload, opts, 'install')
}

/** Like install, but refuses (badInput) when the daemon is not installed yet: an upgrade needs something to upgrade. */
export function upgrade(ctx: LifecycleContext, payload: string, opts: DeployOptions = {}): Promise<LifecycleResult> {
  return deploy(ctx, payload, opts, 'upgrade')
}
