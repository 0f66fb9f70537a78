import {runHealthProbe} from '../adapters/health-probe.js'
import {checkProgram} from '../safety/check-program.js'
import {ExitCode} from '../exit-codes.js'
import type {PrefixLayout} from '../layout/prefix-layout.js'
import type {Manifest} from '../manifest/manifest.js'
import {expandPlaceholders} from '../manifest/placeholders.js'
import {exitReason} from '../adapters/launchd-exit-reasons.js'
import type {ServiceInfo} from '../adapters/launchctl-print.js'
import type {LifecycleContext} from './context.js'
import {StepFailure} from './lifecycle-error.js'

/** How long a freshly bootstrapped daemon may take to get a pid before it counts as not starting. */
const FIRST_PID_TIMEOUT_MS = 10_000
const POLL_MS = 100
const DEFAULT_PROBE_TIMEOUT_S = 30

/**
 * How a finished install, upgrade or rollback describes the daemon: only a live run, whose health
 * check saw it running, may say "it is running"; an image staged under --root was never loaded.
 */
export function runningClause(ctx: Pick<LifecycleContext, 'offline'>): string {
  return ctx.offline ? "staged in the image: launchd not asked, nothing was started (the image's launchd loads it at its first boot)" : 'it is running'
}

/**
 * The note a run that staged into an image adds to its result (`dryRun`: would stage). Only an
 * outcome may say it: a refused run staged nothing.
 */
export function stagedNote(ctx: Pick<LifecycleContext, 'offline' | 'root'>, opts: {dryRun?: boolean} = {}): string[] {
  if (!ctx.offline) return []
  return [`${opts.dryRun ? 'would stage' : 'staged'} into the image under ${ctx.root}: launchd ${opts.dryRun ? 'would not be' : 'was not'} asked and no health check ${opts.dryRun ? 'would run' : 'ran'}; the image's launchd loads the plist at its first boot`]
}

/** True when launchd is expected to start the job on bootstrap; otherwise only "loaded" can be checked. */
function startsAtLoad(manifest: Manifest): boolean {
  return manifest.RunAtLoad === true || (manifest.KeepAlive !== undefined && manifest.KeepAlive !== false)
}

/**
 * After bootstrap: the job must be running with the same pid for `runningSeconds` (a crash loop
 * shows up as a changing pid or a `not running` state), then the optional probe must exit 0.
 * Without a healthCheck in the manifest one sighting of a pid suffices. Throws StepFailure.
 */
export async function checkHealth(ctx: LifecycleContext, manifest: Manifest, layout: PrefixLayout): Promise<void> {
  // An image staged under --root has no running job; its first boot is the test.
  if (ctx.offline) return
  const label = manifest.label
  const windowMs = (manifest.healthCheck?.runningSeconds ?? 0) * 1000
  const fail = (why: string): never => {
    throw new StepFailure(ExitCode.rolledBack, `health check of ${label} failed: ${why}`)
  }
  if (startsAtLoad(manifest)) {
    const started = ctx.clock.now()
    let firstPid: number | undefined
    let since = 0
    for (;;) {
      const info = await ctx.launchctl.print(label)
      if (info === undefined) fail('launchd no longer has the service loaded')
      const now = ctx.clock.now()
      if (info!.state === 'running' && info!.pid !== undefined) {
        if (firstPid === undefined) {
          firstPid = info!.pid
          since = now
        } else if (info!.pid !== firstPid) {
          fail(`the daemon restarted (pid ${firstPid} became ${info!.pid}); it is crash-looping${info!.lastExitReason ? ` (last run ${info!.lastExitReason})` : ''}${hint(info!)}`)
        }
        if (now - since >= windowMs) break
      } else if (firstPid !== undefined) {
        fail(`the daemon (pid ${firstPid}) stopped after ${Math.round(now - since)} ms, before the ${windowMs / 1000} s it must stay up${info!.lastExitReason ? ` (${info!.lastExitReason})` : ''}${hint(info!)}`)
      } else if (info!.jobState === 'spawn failed' && info!.exitReason !== undefined) {
        // launchd has given its verdict on this spawn; waiting longer only delays the rollback.
        fail(`launchd could not start the daemon: ${info!.lastExitReason} (job state = spawn failed)${hint(info!)}`)
      } else if (now - started > FIRST_PID_TIMEOUT_MS) {
        fail(`the daemon did not start within ${FIRST_PID_TIMEOUT_MS / 1000} s (state ${info!.stateText ?? info!.state}${info!.lastExitReason ? `, ${info!.lastExitReason}` : ''})${hint(info!)}`)
      }
      await ctx.clock.sleep(POLL_MS)
    }
  } else if ((await ctx.launchctl.print(label)) === undefined) {
    fail('launchd does not have the service loaded after bootstrap')
  }
  const probe = await probeArgv(manifest, layout)
  if (probe === undefined) return
  if ('problem' in probe) throw new StepFailure(probe.exitCode, probe.problem)
  const argv = probe.argv
  const timeout = (manifest.healthCheck?.timeoutSeconds ?? DEFAULT_PROBE_TIMEOUT_S) * 1000
  const outcome = await runHealthProbe(argv, timeout)
  if (outcome.exitCode !== 0) {
    fail(`the probe ${probe.shown.join(' ')} ${outcome.timedOut ? `did not finish within ${timeout / 1000} s` : `exited with ${outcome.exitCode ?? outcome.signal}`}${outcome.output ? `: ${outcome.output}` : ''}`)
  }
}

/** The probe ready to run (`argv[0]` the checked, resolved program; `shown` as the manifest expands), or why it must not run. */
export type ProbeArgv = {argv: string[]; shown: string[]} | {problem: string; exitCode: ExitCode}

/**
 * The manifest's healthCheck.command expanded for `layout`, its program checked as root runs it
 * (safety/check-program.ts: a root-owned regular file not writable by group or others, in
 * directories only root can write, links resolved): any local user could otherwise plant the
 * program, in /tmp say, and have it run as root at each install, upgrade, start and restart.
 * Undefined without a probe. An unsafe program is unsafeEnvironment (9), naming the path and the fix.
 */
export async function probeArgv(manifest: Manifest, layout: PrefixLayout): Promise<ProbeArgv | undefined> {
  const command = manifest.healthCheck?.command
  if (command === undefined) return undefined
  const shown: string[] = []
  for (const [i, arg] of command.entries()) {
    const expanded = expandPlaceholders(arg, layout)
    if ('error' in expanded) return {exitCode: ExitCode.badInput, problem: `healthCheck.command[${i}]: ${expanded.error}`}
    shown.push(expanded.value)
  }
  const checked = await checkProgram(shown[0]!)
  if (!checked.ok) {
    return {exitCode: ExitCode.unsafeEnvironment, problem: `refusing to run the health probe ${shown[0]} as root: ${checked.problems.join('; ')}. ${checked.fix}`}
  }
  return {argv: [checked.resolved, ...shown.slice(1)], shown}
}

/**
 * Before anything changes: a probe whose program lies outside the prefix exists now, so an unsafe
 * one is refused (9) with nothing changed; one inside the prefix is laid down by this very run and
 * is checked again right before it runs. An image under --root runs no probe: nothing to check.
 */
export async function refuseUnsafeProbe(ctx: Pick<LifecycleContext, 'offline'>, manifest: Manifest, layout: PrefixLayout, opts: {insidePrefixToo?: boolean} = {}): Promise<void> {
  if (ctx.offline) return
  const command = manifest.healthCheck?.command
  if (command === undefined) return
  const program = expandPlaceholders(command[0]!, layout)
  if ('error' in program) return
  if (layout.isInsidePrefix(program.value) && opts.insidePrefixToo !== true) return
  const probe = await probeArgv(manifest, layout)
  if (probe !== undefined && 'problem' in probe) throw new StepFailure(probe.exitCode, probe.problem)
}

/** Where to look next when launchd says the kernel killed the daemon for its code signature. */
function hint(info: ServiceInfo): string {
  const reason = info.exitReason === undefined ? undefined : exitReason(info.exitReason)
  return reason?.codeSigning ? `; ${reason.next}` : ''
}
