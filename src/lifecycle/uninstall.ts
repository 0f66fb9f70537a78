import {join} from 'node:path'
import {ExitCode} from '../exit-codes.js'
import {PrefixLayout} from '../layout/prefix-layout.js'
import {readInstallRecordAt} from '../records/install-record.js'
import {readRegistry} from '../records/registry.js'
import type {LifecycleContext, LifecycleResult} from './context.js'
import {installedLinks, linkStatesOrRefuse} from './installed-links.js'
import {LifecycleError} from './lifecycle-error.js'
import {dryRunOutcome, dryRunResult, newTransactionId, runAndReport} from './outcome.js'
import {manifestOfInstalled} from './previous-manifest.js'
import {findLayout, notInstalledMessage, openSession} from './session.js'
import {stopWaitMs} from './stop-wait.js'
import {uninstallPlan, type UninstallData} from './uninstall-plan.js'

/** Stops and removes the daemon; etc/ and var/ stay unless `purge`. With dryRun, nothing changes and `changed` says whether the real run would. */
export async function uninstall(ctx: LifecycleContext, name: string, opts: {dryRun?: boolean; purge?: boolean} = {}): Promise<LifecycleResult> {
  const result = await uninstallNow(ctx, name, opts)
  return opts.dryRun ? dryRunOutcome(result) : result
}

async function uninstallNow(ctx: LifecycleContext, name: string, opts: {dryRun?: boolean; purge?: boolean}): Promise<LifecycleResult> {
  const layout = await findLayout(ctx, name, 'uninstall', opts)
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
    const base: LifecycleResult = {action: 'uninstall', name, label: layout.label, changed: session.recovered !== undefined, exitCode: ExitCode.ok, message: '', ...(session.recovered ? {recovered: session.recovered} : {})}
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
    const plan = uninstallPlan(ctx, layout, data, 'uninstall', txid)
    if (opts.dryRun) return dryRunResult(base, plan, `would uninstall ${name}${opts.purge ? ' and purge etc/ and var/' : ' (etc/ and var/ kept)'}`)
    await fs.ensureDir(layout.staging, 0o700)
    return await runAndReport(ctx, session, plan, base, current?.version ?? '(previous)',
      opts.purge ? `${name} uninstalled and its prefix ${layout.system.prefix} removed` : `${name} uninstalled; ${layout.system.etc} and ${layout.system.var} were kept (uninstall --purge removes them)`)
  } finally {
    await session.release()
  }
}
