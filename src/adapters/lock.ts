import {constants} from 'node:fs'
import {open, unlink} from 'node:fs/promises'

export type LockAttempt =
  | {acquired: true; lock: HeldLock; tookOverFrom?: number}
  | {acquired: false; holderPid: number | undefined}

export interface HeldLock {
  readonly path: string
  release(): Promise<void>
}

/** Whether a pid is a live process; signal 0 checks without delivering anything. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

const MAX_LOCK_BYTES = 64

/** The pid the lock file names; only its first bytes are read, whatever its size. */
async function holderOf(path: string): Promise<number | undefined> {
  try {
    const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW)
    try {
      const buffer = Buffer.alloc(MAX_LOCK_BYTES)
      const {bytesRead} = await handle.read(buffer, 0, MAX_LOCK_BYTES, 0)
      const text = buffer.toString('utf8', 0, bytesRead).trim()
      return /^\d{1,10}$/.test(text) ? Number(text) : undefined
    } finally {
      await handle.close()
    }
  } catch {
    return undefined
  }
}

async function create(path: string, pid: number): Promise<boolean> {
  try {
    const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)
    try {
      await handle.writeFile(`${pid}\n`)
      await handle.sync()
    } finally {
      await handle.close()
    }
    return true
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw e
  }
}

/**
 * One esdctl run at a time: an O_EXCL lock file holding the holder's pid. A lock whose holder is
 * dead (SIGKILL, power loss) is stale and taken over; the caller logs that. A lock file that does
 * not hold a pid is treated as held, so a half-written lock is never stolen from a live run.
 */
export async function tryLock(path: string, pid: number, alive: (pid: number) => boolean = processAlive): Promise<LockAttempt> {
  let tookOverFrom: number | undefined
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await create(path, pid)) {
      const lock: HeldLock = {
        path,
        release: async () => {
          if ((await holderOf(path)) === pid) await unlink(path).catch(() => undefined)
        },
      }
      return tookOverFrom === undefined ? {acquired: true, lock} : {acquired: true, lock, tookOverFrom}
    }
    const holder = await holderOf(path)
    if (holder === undefined || holder === pid || alive(holder)) return {acquired: false, holderPid: holder}
    // Re-read just before removing so a lock another run has just taken over is left alone.
    if ((await holderOf(path)) !== holder) continue
    await unlink(path).catch(() => undefined)
    tookOverFrom = holder
  }
  return {acquired: false, holderPid: await holderOf(path)}
}
