import {constants, type Stats} from 'node:fs'
import {lstat, open, unlink, type FileHandle} from 'node:fs/promises'
import fsExt from 'fs-ext-extra-prebuilt'

export type LockAttempt =
  | {acquired: true; lock: HeldLock; tookOverFrom?: number}
  | {acquired: false; holderPid: number | undefined}

export interface HeldLock {
  readonly path: string
  release(): Promise<void>
}

/** The lock file is a pid and a newline; anything longer is not esdctl's. */
const MAX_LOCK_BYTES = 64
/** A path can be unlinked and recreated between open and lock only so often before we give up. */
const MAX_ATTEMPTS = 8

/**
 * A second attempt from the same process would open the file again and be refused by its own lock
 * (flock(2) locks belong to the open file description); it is answered from this set instead, with
 * this process named as the holder.
 */
const heldHere = new Set<string>()

/** flock(LOCK_EX | LOCK_NB) answers EWOULDBLOCK (EAGAIN on Linux and macOS) when another open file description holds it. */
function isHeldElsewhere(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code
  // Stryker disable next-line ConditionalExpression,EqualityOperator,StringLiteral,BooleanLiteral: EWOULDBLOCK and EAGAIN are one errno on Linux and macOS, which libuv names EAGAIN; the only other error flock(2) can give a fresh descriptor with LOCK_NB is ENOLCK (the kernel out of lock records)
  if (code === 'EWOULDBLOCK') return true
  return code === 'EAGAIN'
}

/** flock(2) `LOCK_EX | LOCK_NB` on `fd`; rejects with the errno error. */
function lockExclusiveNow(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsExt.flock(fd, 'exnb', (e) => (e ? reject(e) : resolve())))
}

function pidIn(text: string): number | undefined {
  const trimmed = text.trim()
  return /^\d{1,10}$/.test(trimmed) ? Number(trimmed) : undefined
}

async function readPid(handle: FileHandle): Promise<number | undefined> {
  const buffer = Buffer.alloc(MAX_LOCK_BYTES)
  const {bytesRead} = await handle.read(buffer, 0, MAX_LOCK_BYTES, 0)
  return pidIn(buffer.toString('utf8', 0, bytesRead))
}

function sameFile(a: Stats, b: Stats | undefined): boolean {
  // Stryker disable next-line ConditionalExpression: not equivalent, but untestable here: it needs the lock path to name a file of another file system with the same inode number, which only a mount made between open and flock could produce; (st_dev, st_ino) is POSIX's identity of a file
  return b !== undefined && a.dev === b.dev && a.ino === b.ino
}

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw e
  }
}

/** Thrown when the lock path is not a regular file esdctl can lock (a link, a directory). */
export class LockPathError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message)
    this.name = 'LockPathError'
  }
}

/**
 * One esdctl run at a time: an exclusive advisory lock (flock(2) `LOCK_EX | LOCK_NB`, through
 * `fs-ext-extra-prebuilt`, whose package carries builds for darwin arm64 and x64, so the
 * self-contained Mac build needs no compiler) on `path`, which also holds the holder's pid so a
 * refused run can name it. The kernel drops the lock when its holder exits however it exits
 * (SIGKILL, power loss: the lock is not on disk), so an empty file left by a power cut, or a pid a
 * reboot handed to another process, never blocks, and taking over a dead holder's lock is the same
 * atomic flock call as taking a free one.
 *
 * Returns `{acquired: false, holderPid}` when another process holds it (holderPid undefined while
 * the holder has not written its pid yet), `tookOverFrom` when the file still named a previous
 * holder that had died. Throws LockPathError when `path` is a symbolic link or not a regular file
 * (nothing is followed), and the underlying error for anything else (EACCES on the directory…).
 *
 * The file is unlinked on release, before the lock is dropped; a run that locked an inode which was
 * meanwhile unlinked or replaced notices (the path no longer names its inode) and starts again, so
 * two runs can never hold locks on two different files of the same name.
 */
export async function tryLock(path: string, pid: number): Promise<LockAttempt> {
  if (heldHere.has(path)) return {acquired: false, holderPid: pid}
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    let handle: FileHandle
    try {
      handle = await open(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600)
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      if (
        code === 'ELOOP' ||
        code === 'EISDIR' ||
        // Stryker disable next-line ConditionalExpression,EqualityOperator,StringLiteral: FreeBSD's answer to O_NOFOLLOW on a link; Linux and macOS answer ELOOP
        code === 'EMLINK'
      ) {
        throw new LockPathError(path, `${path} is not a regular file (${code === 'EISDIR' ? 'a directory' : 'a symbolic link'}); esdctl keeps its lock there and never follows a link: move it away and run again`)
      }
      throw e
    }
    let keep = false
    try {
      const opened = await handle.stat()
      if (!opened.isFile()) throw new LockPathError(path, `${path} is not a regular file; esdctl keeps its lock there: move it away and run again`)
      try {
        await lockExclusiveNow(handle.fd)
      } catch (e) {
        if (isHeldElsewhere(e)) return {acquired: false, holderPid: await readPid(handle)}
        throw e
      }
      // Locked, but perhaps an inode the previous holder unlinked on release: start again.
      if (!sameFile(opened, await lstatOrUndefined(path))) continue
      const previous = await readPid(handle)
      await handle.truncate(0)
      await handle.write(`${pid}\n`, 0)
      await handle.sync()
      keep = true
      heldHere.add(path)
      const held = handle
      let released = false
      const lock: HeldLock = {
        path,
        release: async () => {
          if (released) return
          released = true
          // Unlinking while still holding the lock: whoever opens the old inode now finds it gone and retries.
          await unlink(path).catch(() => undefined)
          heldHere.delete(path)
          await held.close()
        },
      }
      return previous === undefined || previous === pid ? {acquired: true, lock} : {acquired: true, lock, tookOverFrom: previous}
    } finally {
      if (!keep) await handle.close()
    }
  }
  // Only a path unlinked and recreated MAX_ATTEMPTS times in a row gets here: another run is busy with it.
  return {acquired: false, holderPid: undefined}
}

export type LockProbe = {held: false} | {held: true; holderPid: number | undefined}

/**
 * Whether another process holds the lock at `path` now, for a dry run: it must meet a running
 * transaction as a real run does (exit 7 naming the holder) but neither wait for the lock, nor keep
 * it, nor create anything. No file means nobody holds it (a holder keeps its file until it
 * releases), so nothing is created. Otherwise a shared flock(2) `LOCK_SH | LOCK_NB` is tried and
 * dropped at once: it fails (EWOULDBLOCK) only against an exclusive holder, so two dry runs never
 * refuse each other, and a real run starting in that instant meets it as it meets any holder.
 * Nothing is written (the pid stays the last holder's). Throws LockPathError for a link or
 * non-regular file at `path`, as tryLock does, and the underlying error for anything else.
 */
export async function probeLock(path: string, pid: number): Promise<LockProbe> {
  // A flock on a second descriptor meets this process's own exclusive lock too, and the file names this pid: the
  // probe below would give the same answer; this only spares the open.
  // Stryker disable next-line ConditionalExpression: see above
  if (heldHere.has(path)) return {held: true, holderPid: pid}
  let handle: FileHandle
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return {held: false}
    // Stryker disable next-line ConditionalExpression,EqualityOperator,StringLiteral: EMLINK is FreeBSD's answer to O_NOFOLLOW on a link; Linux and macOS answer ELOOP
    if (code === 'ELOOP' || code === 'EMLINK') throw new LockPathError(path, `${path} is not a regular file (a symbolic link); esdctl keeps its lock there and never follows a link: move it away and run again`)
    throw e
  }
  try {
    // O_RDONLY opens a directory too: refused here, as tryLock's O_RDWR open refuses it.
    if (!(await handle.stat()).isFile()) throw new LockPathError(path, `${path} is not a regular file; esdctl keeps its lock there: move it away and run again`)
    try {
      await new Promise<void>((resolve, reject) => fsExt.flock(handle.fd, 'shnb', (e) => (e ? reject(e) : resolve())))
    } catch (e) {
      // Stryker disable next-line ConditionalExpression: besides EWOULDBLOCK, flock(2) with LOCK_NB on a descriptor just opened can only fail with ENOLCK (the kernel out of lock records), which no test can cause
      if (isHeldElsewhere(e)) return {held: true, holderPid: await readPid(handle)}
      throw e
    }
    return {held: false}
  } finally {
    // Closing the only descriptor drops the shared lock with it.
    await handle.close()
  }
}
