import {randomBytes} from 'node:crypto'
import {join} from 'node:path'
import type {AuditEntry} from '../audit/audit-log.js'
import {ExitCode} from '../exit-codes.js'
import {renderLaunchdPlist} from '../launchd/render-plist.js'
import type {PlacedLink} from '../layout/daemon-links.js'
import {isValidLabel, sameName} from '../layout/names.js'
import {PrefixLayout} from '../layout/prefix-layout.js'
import {layoutOptionsOf} from '../manifest/manifest.js'
import {readInstallRecordAt, type InstallRecord} from '../records/install-record.js'
import {readRegistry} from '../records/registry.js'
import type {LifecycleAction, LifecycleContext, LifecycleResult, PlannedStep} from './context.js'
import {AlreadyInstalled, deployTransaction, refuseByVersion, removeCreatedDirs, stagePayload, stopWaitMs, type DeployData} from './deploy.js'
import {RootFs} from '../adapters/root-fs.js'
import {esdctlVersion} from './esdctl-version.js'
import {detectLegacy, jobPlist, legacySlot, replacedPlistPaths} from './adopt-legacy.js'
import {runningClause} from './health-check.js'
import {bundleExecutableName, judgePayload} from './judge-payload.js'
import {currentLinkStates, type LinkState} from './links-step.js'
import type {Journal} from './journal.js'
import {isLifecycleError, LifecycleError, StepFailure} from './lifecycle-error.js'
import {openPayload} from './payload-source.js'
import {manifestOfInstalled} from './previous-manifest.js'
import {rollbackTransaction, type RollbackData} from './rollback-tx.js'
import {findLayout, notInstalledMessage, openSession, requireLayout, type Session} from './session.js'
import {runTransaction, TransactionUndone, type Transaction} from './transaction.js'
import {uninstallTransaction, type UninstallData} from './uninstall-tx.js'
import {compareVersions} from './version-order.js'

export {productionContext, silentProgress, type LifecycleContext, type LifecycleResult, type PlannedStep, type ProgressSink} from './context.js'
export {LifecycleError} from './lifecycle-error.js'
export {serviceStart as start, serviceStop as stop, serviceRestart as restart} from './service.js'

export interface DeployOptions {
  dryRun?: boolean
  allowDowngrade?: boolean
}

function newTransactionId(ctx: LifecycleContext): string {
  return `${new Date(ctx.clock.now()).toISOString().replace(/[-:.]/g, '')}-${randomBytes(4).toString('hex')}`
}

function journalFor<D>(tx: string, action: LifecycleAction, layout: PrefixLayout, data: D): Journal<D> {
  return {schemaVersion: 1, esdctlVersion: esdctlVersion(), transaction: tx, action, name: layout.name, label: layout.label, phase: 'forward', steps: [], data}
}

function planOf(tx: Transaction<unknown>, session: Session): PlannedStep[] {
  const steps = tx.steps.map((s) => ({id: s.id, title: s.title}))
  return session.recovered ? [{id: 'recover', title: session.recovered}, ...steps] : steps
}

async function audit(ctx: LifecycleContext, session: Session, result: LifecycleResult, tx?: string): Promise<void> {
  if ((await ctx.fs.lstat(session.layout.stateDir))?.isDirectory() !== true) return
  const entry: AuditEntry = {
    transaction: tx ?? '-',
    action: result.action,
    name: result.name,
    label: result.label,
    who: ctx.identity.sudoUser(),
    uid: ctx.identity.euid(),
    fromVersion: result.fromVersion,
    toVersion: result.toVersion,
    outcome: result.rolledBack ? 'rolled back' : result.exitCode === ExitCode.ok ? (result.changed ? 'done' : 'no change') : 'failed',
    exitCode: result.exitCode,
    message: result.message,
    ...(result.recovered ? {recovered: result.recovered} : {}),
  }
  await ctx.audit.record(session.layout.auditLog, entry)
}

/** Stands for the adopted legacy install where a version would be named. */
const LEGACY = '(legacy)'

/** Turns the end of a failed transaction into the result the command reports. */
function failureResult(base: LifecycleResult, error: unknown, hadPrevious: boolean, previousVersion: string | undefined): LifecycleResult {
  if (!(error instanceof TransactionUndone)) {
    return {...base, changed: true, exitCode: ExitCode.launchdFailed, message: `${(error as Error).message}; undoing it failed too, so the journal is kept and the next esdctl run finishes the recovery`}
  }
  const cause = error.cause
  if (cause instanceof AlreadyInstalled) return {...base, changed: false, exitCode: ExitCode.ok, message: cause.message}
  if (cause instanceof StepFailure && error.failedStep === 'stage') {
    return {...base, changed: false, exitCode: cause.exitCode, message: cause.message, ...(cause.findings ? {findings: cause.findings} : {})}
  }
  const why = cause instanceof Error ? cause.message : String(cause)
  const what = previousVersion === LEGACY ? 'the legacy install' : `version ${previousVersion ?? '(previous)'}`
  const restored = hadPrevious ? `${what} was restored and is running` : 'nothing was left installed'
  // Something was installed before and runs again: rolledBack. A first install that could not start leaves nothing: launchd failed.
  const code = hadPrevious ? ExitCode.rolledBack : ExitCode.launchdFailed
  return {...base, changed: false, rolledBack: true, exitCode: code, message: `${base.action} of ${base.name} failed at step ${error.failedStep} (${why}); rolled back: ${restored}`}
}

/**
 * The links the installed version maintains, which this run may have to remove: read before the
 * session so its file-system guard allows them. A damaged record gives none here; the session
 * itself reads the record again and refuses it properly.
 */
async function installedLinks(ctx: LifecycleContext, layout: PrefixLayout): Promise<PlacedLink[]> {
  const links: PlacedLink[] = []
  for (const path of [layout.receipt, layout.slotReceipt]) {
    try {
      const record = await readInstallRecordAt(path, ctx.fs)
      if (record !== undefined) links.push(...PrefixLayout.ofRecord(record, ctx.root).links)
    } catch {
      // Refused properly once the session reads it.
    }
  }
  return links
}

async function deploy(ctx: LifecycleContext, payload: string, opts: DeployOptions, mode: 'install' | 'upgrade'): Promise<LifecycleResult> {
  const source = await openPayload(payload)
  try {
    const {manifest} = source
    const layout = new PrefixLayout({...layoutOptionsOf(manifest), root: ctx.root})
    const replaces = manifest.replaces ?? []
    // Without a record, bin/<name> may be a legacy install's plain executable: adoption judges it, not the link check.
    const legacyExecutable = (await ctx.fs.lstat(layout.receipt)) === undefined ? join(layout.bin, layout.name) : undefined
    const session = await openSession(ctx, mode, layout, {...opts, links: [...layout.links, ...(await installedLinks(ctx, layout))], paths: replacedPlistPaths(layout, replaces), ...(legacyExecutable ? {legacyExecutable} : {})})
    try {
      return await deployInSession(ctx, session, source.dir, opts, mode, replaces)
    } finally {
      await session.release()
    }
  } finally {
    await source.dispose()
  }
}

async function deployInSession(ctx: LifecycleContext, session: Session, sourceDir: string, opts: DeployOptions, mode: 'install' | 'upgrade', replaces: readonly string[]): Promise<LifecycleResult> {
  const {layout, tool, fs} = session
  const current = await readInstallRecordAt(layout.receipt, fs)
  const base: LifecycleResult = {action: mode, name: layout.name, label: layout.label, changed: false, exitCode: ExitCode.ok, message: '', ...(session.recovered ? {recovered: session.recovered} : {})}
  if (current !== undefined) base.fromVersion = current.version
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
  const oldManifest = current ? await manifestOfInstalled(fs, current, layout.launchdPlist) : undefined
  const txid = newTransactionId(ctx)
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
    wasLoaded: false, // learned by the stage step, after verification
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
    const legacy = await detectLegacy(ctx, fs, layout, replaces)
    if (legacy) data.legacy = legacy
  }

  if (opts.dryRun) return deployDryRun(ctx, session, sourceDir, base, data, current)

  // A new Mac has no /opt: it and the prefix are for others to traverse (0755); only esdctl's own records are 0700.
  // A fresh --root image may lack /Library/LaunchDaemons too (DESIGN.md §11): root:wheel 0755 like /opt.
  // Recorded with the rest, so a first install that fails leaves no directory it made behind.
  data.createdDirs = [
    ...(await fs.ensureDir(layout.prefix, 0o755)),
    ...(await fs.ensureDir(layout.staging, 0o700)),
    ...(await fs.ensureParentDir(layout.launchdPlist, 0o755)),
  ]
  try {
    await stagePayload(ctx, fs, layout, data, current)
  } catch (e) {
    await fs.removeTree(data.work)
    await removeCreatedDirs(ctx, fs, layout, data)
    if (!(e instanceof StepFailure)) throw e
    const notes = data.notes?.length ? {notes: data.notes} : {}
    const to = data.toVersion ? {toVersion: data.toVersion} : {}
    return {...base, ...to, exitCode: e.exitCode, message: e.message, ...(e.findings ? {findings: e.findings} : {}), ...notes}
  }
  const tx = deployTransaction(ctx, fs, layout, tool, journalFor(txid, mode, layout, data), current)
  try {
    await runTransaction(ctx, tx)
  } catch (e) {
    const result = failureResult(base, e, data.hadInstall || data.legacy !== undefined, data.legacy ? LEGACY : data.fromVersion)
    if (data.toVersion) result.toVersion = data.toVersion
    if (data.notes?.length) result.notes = data.notes
    if (result.rolledBack || result.exitCode === ExitCode.launchdFailed) await audit(ctx, session, result, txid)
    return result
  }
  const result: LifecycleResult = {
    ...base,
    changed: true,
    toVersion: data.toVersion!,
    message: current
      ? `${layout.name} upgraded from ${current.version} to ${data.toVersion}; ${runningClause(ctx)}`
      : data.legacy
        ? `${layout.name} ${data.toVersion} installed over the legacy ${join(layout.system.bin, layout.name)}, which is kept in the rollback slot (etc/ and var/ kept as they were); ${runningClause(ctx)}`
        : `${layout.name} ${data.toVersion} installed; ${runningClause(ctx)}`,
    ...(data.notes?.length ? {notes: data.notes} : {}),
  }
  await audit(ctx, session, result, txid)
  return result
}

async function deployDryRun(ctx: LifecycleContext, session: Session, sourceDir: string, base: LifecycleResult, data: DeployData, current: InstallRecord | undefined): Promise<LifecycleResult> {
  const {layout} = session
  const manifest = (await openPayload(sourceDir).then(async (s) => (await s.dispose(), s.manifest)))
  const judgement = await judgePayload(ctx, ctx.fs, sourceDir, manifest, layout)
  const notes = judgement.notes.length ? {notes: judgement.notes} : {}
  if (!judgement.ok) return {...base, exitCode: ExitCode.verificationFailed, message: `verification of ${layout.name}.app failed; nothing would be installed`, findings: judgement.findings, ...notes}
  const toVersion = judgement.version!
  try {
    refuseByVersion(layout, {version: toVersion, ...(judgement.build !== undefined ? {build: judgement.build} : {})}, current, data.allowDowngrade)
  } catch (e) {
    if (e instanceof AlreadyInstalled) return {...base, toVersion, message: `version ${toVersion} is already installed; nothing would be done`, plan: [], ...notes}
    if (e instanceof StepFailure) return {...base, toVersion, exitCode: e.exitCode, message: e.message, ...notes}
    throw e
  }
  const tx = deployTransaction(ctx, session.fs, layout, session.tool, journalFor('dry-run', base.action, layout, data), current)
  return {...base, toVersion, message: `dry run: ${current ? `would upgrade ${layout.name} from ${current.version} to ${toVersion}` : data.legacy ? `would adopt the legacy ${join(layout.system.bin, layout.name)} (${data.legacy.jobs.map((j) => j.label).join(', ')}) and install ${layout.name} ${toVersion}` : `would install ${layout.name} ${toVersion}`}; nothing was changed`, plan: planOf(tx as Transaction<unknown>, session), ...notes}
}

/**
 * Installs the payload (a directory or .tar.gz); on a machine that already has this daemon it
 * upgrades it (so a package's postinstall can always call install). The same version again is a
 * no-op (changed: false); an older one is refused unless allowDowngrade.
 */
export function install(ctx: LifecycleContext, payload: string, opts: DeployOptions = {}): Promise<LifecycleResult> {
  return deploy(ctx, payload, opts, 'install')
}

/** Like install, but refuses (badInput) when the daemon is not installed yet: an upgrade needs something to upgrade. */
export function upgrade(ctx: LifecycleContext, payload: string, opts: DeployOptions = {}): Promise<LifecycleResult> {
  return deploy(ctx, payload, opts, 'upgrade')
}

/** What the links hold now; a file or directory where a link belongs is an unsafe environment, refused before the journal opens. */
async function linkStatesOrRefuse(fs: RootFs, links: readonly PlacedLink[]): Promise<LinkState[]> {
  try {
    return await currentLinkStates(fs, links.map((l) => l.path))
  } catch (e) {
    if (e instanceof StepFailure) throw new LifecycleError(e.exitCode, e.message)
    throw e
  }
}

/** Swaps the installed version with the one kept in the rollback slot, by the same journaled machinery. */
export async function rollback(ctx: LifecycleContext, name: string, opts: {dryRun?: boolean} = {}): Promise<LifecycleResult> {
  const layout = await requireLayout(ctx, name)
  const legacyLabels = await legacySlotLabels(ctx, layout)
  const session = await openSession(ctx, 'rollback', layout, {...opts, links: await installedLinks(ctx, layout), paths: replacedPlistPaths(layout, legacyLabels)})
  try {
    const {fs} = session
    const base: LifecycleResult = {action: 'rollback', name, label: layout.label, changed: false, exitCode: ExitCode.ok, message: '', ...(session.recovered ? {recovered: session.recovered} : {})}
    const current = await readInstallRecordAt(layout.receipt, fs)
    const previous = await readInstallRecordAt(layout.slotReceipt, fs)
    if (current !== undefined && previous === undefined && (await fs.lstat(join(legacySlot(layout), 'bin', layout.name)))?.isFile()) {
      return await rollbackToLegacy(ctx, session, base, current, legacyLabels, opts)
    }
    const slotPlist = layout.slotPlist
    if (current === undefined) throw new LifecycleError(ExitCode.badInput, `${name} is not installed; there is nothing to roll back`)
    const currentLayout = PrefixLayout.ofRecord(current, ctx.root)
    const previousLayout = previous === undefined ? undefined : PrefixLayout.ofRecord(previous, ctx.root)
    if (previous === undefined || previousLayout === undefined || (await fs.lstat(join(layout.rollbackSlot, previousLayout.bundle))) === undefined || (await fs.lstat(slotPlist)) === undefined) {
      throw new LifecycleError(ExitCode.badInput, `${name} has no previous version to roll back to (the rollback slot ${layout.rollbackSlot} is empty); only an upgrade fills it`)
    }
    base.fromVersion = current.version
    base.toVersion = previous.version
    const txid = newTransactionId(ctx)
    const currentManifest = await manifestOfInstalled(fs, current, layout.launchdPlist)
    const data: RollbackData = {
      work: join(layout.staging, txid),
      wasLoaded: (await ctx.launchctl.print(layout.label)) !== undefined,
      oldStopWaitMs: stopWaitMs(currentManifest.ExitTimeOut),
      fromVersion: current.version,
      toVersion: previous.version,
      manifest: await manifestOfInstalled(fs, previous, slotPlist),
      entries: [...new Set([...currentLayout.versionEntries, ...previousLayout.versionEntries])],
      previousLinks: previousLayout.linkSpecs.map((l) => ({...l})),
      linksBefore: await linkStatesOrRefuse(fs, [...currentLayout.links, ...previousLayout.links]),
    }
    const tx = rollbackTransaction(ctx, fs, layout, journalFor(txid, 'rollback', layout, data))
    if (opts.dryRun) return {...base, message: `dry run: would roll ${name} back from ${current.version} to ${previous.version}; nothing was changed`, plan: planOf(tx as Transaction<unknown>, session)}
    await fs.ensureDir(layout.staging, 0o700)
    try {
      await runTransaction(ctx, tx)
    } catch (e) {
      const result = failureResult(base, e, true, current.version)
      await audit(ctx, session, result, txid)
      return result
    }
    const result = {...base, changed: true, message: `${name} rolled back from ${current.version} to ${previous.version}; ${runningClause(ctx)} (${current.version} is now the rollback slot)`}
    await audit(ctx, session, result, txid)
    return result
  } finally {
    await session.release()
  }
}

/** Labels whose plists the rollback slot keeps from an adopted legacy install (file names `<label>.plist`, checked), with the daemon's own label first. */
async function legacySlotLabels(ctx: LifecycleContext, layout: PrefixLayout): Promise<string[]> {
  const dir = legacySlot(layout)
  if ((await ctx.fs.lstat(dir))?.isDirectory() !== true) return []
  const replaced = (await ctx.fs.list(dir)).filter((f) => f.endsWith('.plist')).map((f) => f.slice(0, -'.plist'.length)).filter((l) => isValidLabel(l) && l !== layout.label)
  return [layout.label, ...replaced]
}

/**
 * Rollback after an adoption: the bundled daemon goes as in uninstall (etc/ and var/ stay) and the
 * legacy executable and job plists come back from the rollback slot, byte for byte, and run again.
 */
async function rollbackToLegacy(ctx: LifecycleContext, session: Session, base: LifecycleResult, current: InstallRecord, labels: readonly string[], opts: {dryRun?: boolean}): Promise<LifecycleResult> {
  const {layout, fs} = session
  const installed = PrefixLayout.ofRecord(current, ctx.root)
  const jobs: {label: string; plist: string}[] = []
  for (const label of labels) {
    const kept = label === layout.label ? layout.slotPlist : join(legacySlot(layout), `${label}.plist`)
    if ((await fs.lstat(kept))?.isFile()) jobs.push({label, plist: jobPlist(layout, label)})
  }
  const txid = newTransactionId(ctx)
  const manifest = await manifestOfInstalled(fs, current, layout.launchdPlist)
  const data: UninstallData = {
    work: join(layout.staging, txid), wasLoaded: (await ctx.launchctl.print(layout.label)) !== undefined, oldStopWaitMs: stopWaitMs(manifest.ExitTimeOut), purge: false,
    inRegistry: (await readRegistry(ctx.root, fs)).some((e) => e.name === layout.name),
    entries: installed.versionEntries, linksBefore: await linkStatesOrRefuse(fs, installed.links), fromVersion: current.version, legacy: {jobs},
  }
  const result = {...base, fromVersion: current.version, toVersion: LEGACY}
  const tx = uninstallTransaction(ctx, fs, layout, session.tool, journalFor(txid, 'rollback', layout, data))
  if (opts.dryRun) return {...result, message: `dry run: would roll ${layout.name} back from ${current.version} to the legacy ${join(layout.system.bin, layout.name)} it replaced; nothing was changed`, plan: planOf(tx as Transaction<unknown>, session)}
  await fs.ensureDir(layout.staging, 0o700)
  try {
    await runTransaction(ctx, tx)
  } catch (e) {
    const failed = failureResult(result, e, true, current.version)
    await audit(ctx, session, failed, txid)
    return failed
  }
  const done = {...result, changed: true, message: `${layout.name} rolled back from ${current.version} to the legacy ${join(layout.system.bin, layout.name)}; its jobs (${jobs.map((j) => j.label).join(', ')}) run again and esdctl no longer manages it (etc/ and var/ kept)`}
  await audit(ctx, session, done, txid)
  return done
}

/** Stops and removes the daemon; etc/ and var/ stay unless `purge`. */
export async function uninstall(ctx: LifecycleContext, name: string, opts: {dryRun?: boolean; purge?: boolean} = {}): Promise<LifecycleResult> {
  const layout = await findLayout(ctx, name)
  if (layout === undefined) {
    // The wanted state is already there: a re-run (Ansible, Munki, a second uninstall) is a no-op, exit 0.
    // Except --purge over a prefix esdctl no longer knows (etc/ and var/ an earlier uninstall kept, or a
    // legacy install): removing that is a change esdctl cannot make safely without a record, so refused as before.
    const prefix = new PrefixLayout({name, label: 'esdctl.lookup', root: ctx.root})
    if (opts.purge && (await ctx.fs.lstat(prefix.prefix)) !== undefined) throw new LifecycleError(ExitCode.badInput, notInstalledMessage(ctx, name))
    return {action: 'uninstall', name, changed: false, exitCode: ExitCode.ok, message: `${notInstalledMessage(ctx, name)}; nothing to do`}
  }
  const session = await openSession(ctx, 'uninstall', layout, {...opts, links: await installedLinks(ctx, layout)})
  try {
    const {fs} = session
    const base: LifecycleResult = {action: 'uninstall', name, label: layout.label, changed: false, exitCode: ExitCode.ok, message: '', ...(session.recovered ? {recovered: session.recovered} : {})}
    const current = await readInstallRecordAt(layout.receipt, fs)
    const loaded = (await ctx.launchctl.print(layout.label)) !== undefined
    const inRegistry = (await readRegistry(ctx.root, fs)).some((e) => e.name === name)
    const anything = current !== undefined || loaded || inRegistry || (await fs.lstat(layout.launchdPlist)) !== undefined || (await fs.lstat(layout.app)) !== undefined
    if (!anything && !(opts.purge && (await fs.lstat(layout.prefix)) !== undefined)) {
      return {...base, message: `${name} is not installed; nothing to do`}
    }
    if (current) base.fromVersion = current.version
    const txid = newTransactionId(ctx)
    const manifest = current ? await manifestOfInstalled(fs, current, layout.launchdPlist) : undefined
    const installed = current ? PrefixLayout.ofRecord(current, ctx.root) : layout
    const data: UninstallData = {
      work: join(layout.staging, txid), wasLoaded: loaded, oldStopWaitMs: stopWaitMs(manifest?.ExitTimeOut), purge: opts.purge === true, inRegistry,
      entries: installed.versionEntries,
      linksBefore: await linkStatesOrRefuse(fs, installed.links),
      ...(current ? {fromVersion: current.version} : {}),
    }
    const tx = uninstallTransaction(ctx, fs, layout, session.tool, journalFor(txid, 'uninstall', layout, data))
    if (opts.dryRun) return {...base, message: `dry run: would uninstall ${name}${opts.purge ? ' and purge etc/ and var/' : ' (etc/ and var/ kept)'}; nothing was changed`, plan: planOf(tx as Transaction<unknown>, session)}
    await fs.ensureDir(layout.staging, 0o700)
    try {
      await runTransaction(ctx, tx)
    } catch (e) {
      const result = failureResult(base, e, true, current?.version)
      await audit(ctx, session, result, txid)
      return result
    }
    const result = {...base, changed: true, message: opts.purge ? `${name} uninstalled and its prefix ${layout.system.prefix} removed` : `${name} uninstalled; ${layout.system.etc} and ${layout.system.var} were kept (uninstall --purge removes them)`}
    await audit(ctx, session, result, txid)
    return result
  } finally {
    await session.release()
  }
}

/** What `esdctl plist PAYLOAD` prints: the launchd plist install would write, and where. */
export async function renderPlistForPayload(payload: string, root = '/'): Promise<{path: string; xml: string}> {
  const source = await openPayload(payload)
  try {
    const layout = new PrefixLayout({...layoutOptionsOf(source.manifest), root})
    const executableName = await bundleExecutableName(new RootFs(), join(source.dir, layout.bundle))
    const placed = executableName === undefined ? layout : layout.with(layoutOptionsOf(source.manifest, executableName))
    return {path: placed.launchdPlist, xml: renderLaunchdPlist(source.manifest, placed)}
  } finally {
    await source.dispose()
  }
}

export {isLifecycleError}
export type {InstallRecord} from '../records/install-record.js'
export {readInstallRecord} from '../records/install-record.js'
export {readRegistry, type RegistryEntry} from '../records/registry.js'
