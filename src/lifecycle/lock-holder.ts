import {LockPathError, probeLock} from '../adapters/lock.js'
import {ExitCode} from '../exit-codes.js'
import type {ToolPaths} from '../layout/prefix-layout.js'
import type {LifecycleContext} from './context.js'
import {LifecycleError} from './lifecycle-error.js'

/** Exit 7 for a lock another run holds, naming its pid when the lock file gives one: the one wording for real runs and dry runs. */
export function lockedError(lockPath: string, holderPid: number | undefined): LifecycleError {
  const holder = holderPid === undefined ? 'another esdctl run (it has not written its pid yet)' : `another esdctl run, pid ${holderPid}`
  return new LifecycleError(ExitCode.locked, `${lockPath} is held by ${holder}; wait for it to finish and run again`, holderPid === undefined ? [] : [`holder pid ${holderPid}`])
}

/** Rethrows a link or non-regular file at the lock path (LockPathError) as an unsafe environment (exit 9); anything else as it is. */
export function lockPathRefusal(e: unknown): never {
  if (e instanceof LockPathError) throw new LifecycleError(ExitCode.unsafeEnvironment, `unsafe path: ${e.message}`, [e.message])
  throw e
}

/**
 * A dry run's meeting with the one lock: while another run holds it, the records may be half
 * written (a first install has none yet), so a dry run answers exit 7 naming the holder, as the
 * real run would, instead of describing that state. It neither waits, nor keeps the lock, nor
 * creates the lock file or its directory (probeLock in adapters/lock.ts). A link or non-regular
 * file at the lock path is an unsafe environment (exit 9), as for a real run.
 */
export async function refuseDryRunWhileLocked(ctx: LifecycleContext, tool: ToolPaths): Promise<void> {
  const probe = await probeLock(tool.lock, ctx.identity.pid()).catch(lockPathRefusal)
  if (probe.held) throw lockedError(tool.lock, probe.holderPid)
}
