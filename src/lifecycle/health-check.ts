import {runHealthProbe} from '../adapters/health-probe.js'
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
  const command = manifest.healthCheck?.command
  if (command === undefined) return
  const argv = command.map((arg, i) => {
    const expanded = expandPlaceholders(arg, layout)
    if ('error' in expanded) fail(`healthCheck.command[${i}]: ${expanded.error}`)
    return (expanded as {value: string}).value
  })
  const timeout = (manifest.healthCheck?.timeoutSeconds ?? DEFAULT_PROBE_TIMEOUT_S) * 1000
  const probe = await runHealthProbe(argv, timeout)
  if (probe.exitCode !== 0) {
    fail(`the probe ${argv.join(' ')} ${probe.timedOut ? `did not finish within ${timeout / 1000} s` : `exited with ${probe.exitCode ?? probe.signal}`}${probe.output ? `: ${probe.output}` : ''}`)
  }
}

/** Where to look next when launchd says the kernel killed the daemon for its code signature. */
function hint(info: ServiceInfo): string {
  const reason = info.exitReason === undefined ? undefined : exitReason(info.exitReason)
  return reason?.codeSigning ? `; ${reason.next}` : ''
}
