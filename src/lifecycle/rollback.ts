import {dirname, join} from 'node:path'
import {symlinkAlong} from './symlink-along.js'
import type {RootFs} from '../adapters/root-fs.js'
import {etcPlan} from './etc-plan.js'
import type {EtcAction} from './plan.js'
import {ExitCode} from '../exit-codes.js'
import {isValidLabel} from '../layout/names.js'
import {PrefixLayout} from '../layout/prefix-layout.js'
import {readInstallRecordAt, type InstallRecord} from '../records/install-record.js'
import {readRegistry} from '../records/registry.js'
import {jobPlist, legacySlot, replacedPlistPaths} from './adopt-legacy.js'
import type {LifecycleContext, LifecycleResult} from './context.js'
import {runningClause} from './health-check.js'
import {installedLinks, linkStatesOrRefuse} from './installed-links.js'
import {LifecycleError} from './lifecycle-error.js'
import {judgeSlot} from './judge-slot.js'
import {hasErrors} from '../verify/finding.js'
import {dryRunOutcome, dryRunResult, LEGACY, newTransactionId, runAndReport} from './outcome.js'
import {judgeLegacy, legacyFilesInSlot} from './judge-legacy.js'
import {manifestOfInstalled} from './previous-manifest.js'
import {rollbackPlan, type RollbackData} from './rollback-plan.js'
import {openSession, requireLayout, type Session} from './session.js'
import {stopWaitMs} from './stop-wait.js'
import {uninstallPlan, type UninstallData} from './uninstall-plan.js'

/** Labels whose plists the rollback slot keeps from an adopted legacy install (file names `<label>.plist`, checked), with the daemon's own label first. */
async function legacySlotLabels(ctx: LifecycleContext, layout: PrefixLayout): Promise<string[]> {
  const dir = legacySlot(layout)
  if ((await ctx.fs.lstat(dir))?.isDirectory() !== true) return []
  const replaced = (await ctx.fs.list(dir)).filter((f) => f.endsWith('.plist')).map((f) => f.slice(0, -'.plist'.length)).filter((l) => isValidLabel(l) && l !== layout.label)
  return [layout.label, ...replaced]
}

/**
 * The `<file>.default` files the adoption wrote beside the admin's config (its receipt's
 * adopted.etcDefaults) that are still the bytes it wrote, the version's shipped default: those
 * the rollback sets aside. One the admin changed since, or reached through a link, stays.
 */
async function adoptionDefaults(fs: RootFs, layout: PrefixLayout, current: InstallRecord): Promise<string[]> {
  const found: string[] = []
  for (const file of current.adopted?.etcDefaults ?? []) {
    const path = join(layout.etc, `${file}.default`)
    const shipped = current.configHashes[file]
    if (shipped === undefined || (await symlinkAlong(fs, layout.etc, dirname(file))) !== undefined) continue
    if ((await fs.lstat(path))?.isFile() === true && (await fs.sha256(path)) === shipped) found.push(path)
  }
  return found
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
  // Code esdctl will start as root again: judged before anything changes, as the slot's bundle is.
  const legacyFindings = await judgeLegacy(ctx, fs, layout, current, legacyFilesInSlot(layout, jobs.map((j) => j.label)))
  if (hasErrors(legacyFindings)) {
    return {...base, fromVersion: current.version, toVersion: LEGACY, exitCode: ExitCode.verificationFailed, message: `the legacy ${join(layout.system.bin, layout.name)} kept in the rollback slot ${layout.rollbackSlot} failed verification; nothing was changed and ${layout.name} ${current.version} stays installed`, findings: legacyFindings}
  }
  const txid = newTransactionId(ctx)
  const manifest = await manifestOfInstalled(fs, current, layout.launchdPlist)
  const data: UninstallData = {
    work: join(layout.staging, txid), wasLoaded: (await ctx.launchctl.print(layout.label)) !== undefined, oldStopWaitMs: stopWaitMs(manifest.ExitTimeOut), purge: false,
    inRegistry: (await readRegistry(ctx.root, fs)).some((e) => e.name === layout.name),
    entries: installed.versionEntries, linksBefore: await linkStatesOrRefuse(fs, installed.links), fromVersion: current.version,
    legacy: {jobs, etcDefaults: await adoptionDefaults(fs, layout, current), createdDirs: (current.adopted?.createdDirs ?? []).map((dir) => join(layout.prefix, dir))},
  }
  const result = {...base, fromVersion: current.version, toVersion: LEGACY}
  const plan = uninstallPlan(ctx, layout, data, 'rollback', txid)
  if (opts.dryRun) return dryRunResult(result, plan, `would roll ${layout.name} back from ${current.version} to the legacy ${join(layout.system.bin, layout.name)} it replaced`)
  await fs.ensureDir(layout.staging, 0o700)
  return runAndReport(ctx, session, plan, result, current.version,
    `${layout.name} rolled back from ${current.version} to the legacy ${join(layout.system.bin, layout.name)}; ${ctx.offline ? `its jobs' plists (${jobs.map((j) => j.label).join(', ')}) are back, for the image's launchd to load at its first boot,` : `its jobs (${jobs.map((j) => j.label).join(', ')}) run again`} and esdctl no longer manages it (etc/ and var/ kept)`)
}

/**
 * The config defaults the restored version shipped, if the slot keeps them (an esdctl that did not
 * keep them leaves etc/ as it is): each decided as install decides, with the defaults of the
 * version installed now counting as untouched too. A kept default that is not the bytes the slot's
 * receipt recorded is refused (exit 3): it is not what that version shipped.
 */
async function restoredEtcPlan(fs: RootFs, layout: PrefixLayout, previous: InstallRecord, current: InstallRecord): Promise<{file: string; action: EtcAction}[]> {
  if ((await fs.lstat(layout.slotDefaults))?.isDirectory() !== true) return []
  for (const [file, hash] of Object.entries(previous.configHashes)) {
    const kept = join(layout.slotDefaults, file)
    const stat = await fs.lstat(kept)
    if (stat?.isFile() !== true || (await fs.sha256(kept)) !== hash) {
      throw new LifecycleError(ExitCode.verificationFailed, `${kept}, the config default version ${previous.version} shipped, is ${stat === undefined ? 'missing' : 'not the file its receipt recorded'}; nothing was changed. Reinstall the version you want with esdctl install --allow-downgrade <payload> instead`)
    }
  }
  return etcPlan(fs, layout, previous.configHashes, current.configHashes)
}

/**
 * Swaps the installed version with the one kept in the rollback slot, by the same journaled
 * machinery. With dryRun, nothing changes and `changed` says whether the real run would.
 */
export async function rollback(ctx: LifecycleContext, name: string, opts: {dryRun?: boolean} = {}): Promise<LifecycleResult> {
  const result = await rollbackInSession(ctx, name, opts)
  return opts.dryRun ? dryRunOutcome(result) : result
}

async function rollbackInSession(ctx: LifecycleContext, name: string, opts: {dryRun?: boolean}): Promise<LifecycleResult> {
  const layout = await requireLayout(ctx, name, 'rollback', opts)
  const legacyLabels = await legacySlotLabels(ctx, layout)
  const session = await openSession(ctx, 'rollback', layout, {...opts, links: await installedLinks(ctx, layout), paths: replacedPlistPaths(layout, legacyLabels)})
  try {
    const {fs} = session
    const base: LifecycleResult = {action: 'rollback', name, label: layout.label, changed: session.recovered !== undefined, exitCode: ExitCode.ok, message: '', ...(session.recovered ? {recovered: session.recovered} : {})}
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
    // Code esdctl will start as root: judged in the prepare phase as install judges a payload.
    const slotFindings = await judgeSlot(ctx, fs, previousLayout, previous)
    if (hasErrors(slotFindings)) {
      return {...base, exitCode: ExitCode.verificationFailed, message: `the rollback slot's ${previousLayout.bundle} (version ${previous.version}) failed verification; nothing was changed. Reinstall the version you want with esdctl install --allow-downgrade <payload> instead`, findings: slotFindings}
    }
    const txid = newTransactionId(ctx)
    const currentManifest = await manifestOfInstalled(fs, current, layout.launchdPlist)
    const data: RollbackData = {
      work: join(layout.staging, txid),
      wasLoaded: (await ctx.launchctl.print(layout.label)) !== undefined,
      oldStopWaitMs: stopWaitMs(currentManifest.ExitTimeOut),
      fromVersion: current.version,
      toVersion: previous.version,
      manifest: await manifestOfInstalled(fs, previous, slotPlist),
      bundle: previousLayout.bundle,
      entries: [...new Set([...currentLayout.versionEntries, ...previousLayout.versionEntries])],
      previousLinks: previousLayout.links,
      linksBefore: await linkStatesOrRefuse(fs, [...currentLayout.links, ...previousLayout.links]),
      etcPlan: await restoredEtcPlan(fs, layout, previous, current),
    }
    const plan = rollbackPlan(ctx, layout, data, txid)
    if (opts.dryRun) return dryRunResult(base, plan, `would roll ${name} back from ${current.version} to ${previous.version}`)
    await fs.ensureDir(layout.staging, 0o700)
    return await runAndReport(ctx, session, plan, base, current.version, `${name} rolled back from ${current.version} to ${previous.version}; ${runningClause(ctx)} (${current.version} is now the rollback slot)`)
  } finally {
    await session.release()
  }
}
