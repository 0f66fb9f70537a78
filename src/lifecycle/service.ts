import {ExitCode} from '../exit-codes.js'
import {readInstallRecordAt} from '../records/install-record.js'
import type {LifecycleContext, LifecycleResult} from './context.js'
import {stopWaitMs} from './stop-wait.js'
import {checkHealth, refuseUnsafeProbe} from './health-check.js'
import {LifecycleError} from './lifecycle-error.js'
import {manifestOfInstalled} from './previous-manifest.js'
import {dryRunOutcome} from './outcome.js'
import {openSession, requireLayout, type Session} from './session.js'

type ServiceAction = 'start' | 'stop' | 'restart'

async function withService(ctx: LifecycleContext, action: ServiceAction, name: string, opts: {dryRun?: boolean}, body: (session: Session, base: LifecycleResult) => Promise<LifecycleResult>): Promise<LifecycleResult> {
  if (ctx.offline) throw new LifecycleError(ExitCode.badInput, `${action} acts on the running system's launchd; with --root ${ctx.root} there is none to ask (the image's launchd loads ${name} at its first boot)`)
  const layout = await requireLayout(ctx, name, action, opts)
  const session = await openSession(ctx, action, layout, opts)
  try {
    const record = await readInstallRecordAt(layout.receipt, session.fs)
    if (record === undefined) throw new LifecycleError(ExitCode.badInput, `${name} is not installed (no record at ${layout.receipt})`)
    const base: LifecycleResult = {action, name, label: layout.label, changed: session.recovered !== undefined, exitCode: ExitCode.ok, message: '', fromVersion: record.version, ...(session.recovered ? {recovered: session.recovered} : {})}
    const result = await body(session, base)
    if (result.changed || result.exitCode !== ExitCode.ok) {
      await ctx.audit.record(layout.auditLog, {transaction: '-', action, name, label: layout.label, who: ctx.identity.sudoUser(), uid: ctx.identity.euid(), fromVersion: record.version, outcome: result.exitCode === ExitCode.ok ? 'done' : 'failed', exitCode: result.exitCode, message: result.message})
    }
    // After the audit: a dry run's "would change" is no change to record.
    return opts.dryRun ? dryRunOutcome(result) : result
  } finally {
    await session.release()
  }
}

async function launchdStep<T>(base: LifecycleResult, what: string, fn: () => Promise<T>): Promise<T | LifecycleResult> {
  try {
    return await fn()
  } catch (e) {
    return {...base, changed: true, exitCode: ExitCode.launchdFailed, message: `${what} failed: ${(e as Error).message}`}
  }
}

function isResult(v: unknown): v is LifecycleResult {
  return typeof v === 'object' && v !== null && 'exitCode' in v
}

/** Loads the daemon if launchd does not have it (enable, bootstrap) or kickstarts a loaded one that is not running; checks it comes up. */
export function serviceStart(ctx: LifecycleContext, name: string, opts: {dryRun?: boolean} = {}): Promise<LifecycleResult> {
  return withService(ctx, 'start', name, opts, async ({layout, fs}, base) => {
    const seen = await ctx.launchctl.print(layout.label)
    if (seen?.state === 'running') return {...base, message: `${name} is already running (pid ${seen.pid ?? '?'})`}
    // Still draining after a bootout (SIGTERMed): it is on its way out, so it is loaded again, not kickstarted.
    const info = seen?.state === 'stopping' ? undefined : seen
    const plan = info ? [{id: 'kickstart', title: `launchctl kickstart system/${layout.label}`}] : [{id: 'bootstrap', title: `launchctl enable and bootstrap ${layout.launchdPlist}`}]
    if (opts.dryRun) return {...base, message: `dry run: would start ${name}; nothing was changed`, plan}
    const record = (await readInstallRecordAt(layout.receipt, fs))!
    const manifest = await manifestOfInstalled(fs, record, layout.launchdPlist)
    // Before launchd is asked: the probe runs as root once the job is up.
    await refuseUnsafeProbe(ctx, manifest, layout, {insidePrefixToo: true})
    const done = await launchdStep(base, `starting ${name}`, async () => {
      if (seen && !info) await ctx.launchctl.waitUntilGone(layout.label, stopWaitMs(manifest.ExitTimeOut))
      if (info) await ctx.launchctl.kickstart(layout.label)
      else {
        await ctx.launchctl.enable(layout.label)
        await ctx.launchctl.bootstrap(layout.launchdPlist, {label: layout.label})
      }
      await checkHealth(ctx, manifest, layout)
    })
    if (isResult(done)) return done
    return {...base, changed: true, message: `${name} started`}
  })
}

/** Boots the daemon out of launchd and waits until it is gone. The plist stays, so launchd loads it again at the next boot. */
export function serviceStop(ctx: LifecycleContext, name: string, opts: {dryRun?: boolean} = {}): Promise<LifecycleResult> {
  return withService(ctx, 'stop', name, opts, async ({layout, fs}, base) => {
    if ((await ctx.launchctl.print(layout.label)) === undefined) return {...base, message: `${name} is not loaded; nothing to stop`}
    if (opts.dryRun) return {...base, message: `dry run: would stop ${name}; nothing was changed`, plan: [{id: 'bootout', title: `launchctl bootout system/${layout.label}`}]}
    const record = (await readInstallRecordAt(layout.receipt, fs))!
    const manifest = await manifestOfInstalled(fs, record, layout.launchdPlist)
    const done = await launchdStep(base, `stopping ${name}`, () => ctx.launchctl.bootout(layout.label, {waitMs: stopWaitMs(manifest.ExitTimeOut)}))
    if (isResult(done)) return done
    return {...base, changed: true, message: `${name} stopped (it starts again at the next boot; esdctl start starts it now)`}
  })
}

/** kickstart -k when loaded (launchd reuses the loaded definition: the plist is unchanged), start otherwise. */
export function serviceRestart(ctx: LifecycleContext, name: string, opts: {dryRun?: boolean} = {}): Promise<LifecycleResult> {
  return withService(ctx, 'restart', name, opts, async ({layout, fs}, base) => {
    const seen = await ctx.launchctl.print(layout.label)
    const draining = seen?.state === 'stopping'
    const loaded = seen !== undefined && !draining
    const plan = loaded ? [{id: 'kickstart', title: `launchctl kickstart -k system/${layout.label}`}] : [{id: 'bootstrap', title: `launchctl enable and bootstrap ${layout.launchdPlist}`}]
    if (opts.dryRun) return {...base, message: `dry run: would restart ${name}; nothing was changed`, plan}
    const record = (await readInstallRecordAt(layout.receipt, fs))!
    const manifest = await manifestOfInstalled(fs, record, layout.launchdPlist)
    // Before launchd is asked: the probe runs as root once the job is up.
    await refuseUnsafeProbe(ctx, manifest, layout, {insidePrefixToo: true})
    const done = await launchdStep(base, `restarting ${name}`, async () => {
      if (draining) await ctx.launchctl.waitUntilGone(layout.label, stopWaitMs(manifest.ExitTimeOut))
      if (loaded) await ctx.launchctl.kickstart(layout.label, {kill: true})
      else {
        await ctx.launchctl.enable(layout.label)
        await ctx.launchctl.bootstrap(layout.launchdPlist, {label: layout.label})
      }
      await checkHealth(ctx, manifest, layout)
    })
    if (isResult(done)) return done
    return {...base, changed: true, message: `${name} restarted`}
  })
}
