import assert from 'node:assert/strict'
import {execFileSync, spawn} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import fsExt from 'fs-ext-extra-prebuilt'
import {LockPathError, tryLock} from '../../src/adapters/lock.js'

const CONTENDER = fileURLToPath(new URL('../support/lock-contender.js', import.meta.url))

/** Open descriptors of this process (/dev/fd lists them on Linux and macOS). */
const openDescriptors = (): number => readdirSync('/dev/fd').length

/** A contender process that takes the lock at `path` and holds it until its stdin closes. */
async function holdElsewhere(path: string): Promise<{pid: number; stop: () => Promise<void>}> {
  const child = spawn(process.execPath, [CONTENDER, JSON.stringify({path, mode: 'hold'})], {stdio: 'pipe'})
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve())
    child.once('exit', (code) => reject(new Error(`contender exited ${code}`)))
  })
  return {
    pid: child.pid!,
    stop: async () => {
      child.stdin.end()
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve))
    },
  }
}

/** What the mutation run (npm run mutate -- lock) found no test for. */
describe('the lock: what it reads from the file, what it refuses, and what release undoes', () => {
  let dir: string
  let path: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'esdctl-lock-m-'))
    path = join(dir, 'esdctl.lock')
  })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  it('a lock file that only contains a pid among other text names no previous holder', async () => {
    for (const text of ['pid 4242\n', '4242 was here\n', '12345678901\n', `${' '.repeat(70)}4242\n`]) {
      writeFileSync(path, text)
      const attempt = await tryLock(path, process.pid)
      assert.ok(attempt.acquired)
      assert.equal('tookOverFrom' in attempt, false, `${JSON.stringify(text)} was read as a pid`)
      await attempt.lock.release()
    }
  })

  it('a lock file naming this very process is no take-over', async () => {
    writeFileSync(path, `${process.pid}\n`)
    const attempt = await tryLock(path, process.pid)
    assert.ok(attempt.acquired)
    assert.equal('tookOverFrom' in attempt, false)
    await attempt.lock.release()
  })

  it('the refusals say what is at the path and what to do, as a LockPathError', async () => {
    mkdirSync(path)
    await assert.rejects(tryLock(path, process.pid), (e: unknown) =>
      e instanceof LockPathError && e.name === 'LockPathError' && e.path === path &&
      e.message === `${path} is not a regular file (a directory); esdctl keeps its lock there and never follows a link: move it away and run again`)
    rmSync(path, {recursive: true})
    symlinkSync(join(dir, 'elsewhere'), path)
    await assert.rejects(tryLock(path, process.pid), (e: unknown) =>
      e instanceof LockPathError && e.message === `${path} is not a regular file (a symbolic link); esdctl keeps its lock there and never follows a link: move it away and run again`)
    assert.equal(existsSync(join(dir, 'elsewhere')), false, 'the link was not followed to create its target')
  })

  it('a FIFO at the lock path is refused, never read', async () => {
    execFileSync('mkfifo', [path])
    await assert.rejects(tryLock(path, process.pid), (e: unknown) =>
      e instanceof LockPathError && e.message === `${path} is not a regular file; esdctl keeps its lock there: move it away and run again`)
  })

  it('any other failure to open is passed on as it is (a missing directory: ENOENT)', async () => {
    await assert.rejects(tryLock(join(dir, 'missing', 'esdctl.lock'), process.pid), (e: unknown) => !(e instanceof LockPathError) && (e as NodeJS.ErrnoException).code === 'ENOENT')
  })

  it('while this process holds the lock, a second attempt is refused even after someone removed the file', async () => {
    const first = await tryLock(path, process.pid)
    assert.ok(first.acquired)
    unlinkSync(path)
    assert.deepEqual(await tryLock(path, process.pid), {acquired: false, holderPid: process.pid})
    assert.equal(existsSync(path), false, 'the refused attempt created nothing')
    await first.lock.release()
  })

  it('after release this process can take the lock again', async () => {
    const first = await tryLock(path, process.pid)
    assert.ok(first.acquired)
    await first.lock.release()
    const again = await tryLock(path, process.pid)
    assert.ok(again.acquired)
    await again.lock.release()
  })

  it('a second release changes nothing: the next holder\'s lock file stays', async () => {
    const first = await tryLock(path, process.pid)
    assert.ok(first.acquired)
    await first.lock.release()
    const next = await holdElsewhere(path)
    try {
      await first.lock.release()
      assert.equal(readFileSync(path, 'utf8'), `${next.pid}\n`)
      assert.deepEqual(await tryLock(path, process.pid), {acquired: false, holderPid: next.pid})
    } finally {
      await next.stop()
    }
  })

  it('refused attempts leave no descriptor open', async () => {
    const holder = await holdElsewhere(path)
    try {
      const before = openDescriptors()
      for (let i = 0; i < 20; i++) assert.equal((await tryLock(path, process.pid)).acquired, false)
      execFileSync('mkfifo', [join(dir, 'fifo')])
      for (let i = 0; i < 5; i++) await assert.rejects(tryLock(join(dir, 'fifo'), process.pid), LockPathError)
      assert.equal(openDescriptors(), before)
    } finally {
      await holder.stop()
    }
  })
})

type Flock = (fd: number, flags: string | number, callback?: (e: NodeJS.ErrnoException | null) => void) => void

/**
 * Runs `body` with flock(2) replaced by `instead`, which may act on the disk first (as another run
 * would between tryLock's open and its flock) and then fail or pass on to the real call. The lock
 * module calls flock through the package object at each attempt, so replacing the property is
 * seen there; nothing outside this test can reach it.
 */
async function withFlock<T>(instead: (call: number, real: Flock, fd: number, flags: string | number, done: (e: NodeJS.ErrnoException | null) => void) => void, body: () => Promise<T>): Promise<{result: T; calls: number}> {
  const pkg = fsExt as unknown as {flock: Flock}
  const real = pkg.flock
  let calls = 0
  pkg.flock = (fd, flags, callback) => {
    calls++
    // A retry loop that never ends fails the test instead of hanging it.
    if (calls > 100) return callback?.(Object.assign(new Error('flock called more than 100 times'), {code: 'ETEST'}))
    instead(calls, real, fd, flags, (e) => callback?.(e))
  }
  try {
    return {result: await body(), calls}
  } finally {
    pkg.flock = real
  }
}

const errno = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: flock failed`), {code, syscall: 'flock'})

describe('the lock: what happens between opening the file and locking it', () => {
  let dir: string
  let path: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'esdctl-lock-r-'))
    path = join(dir, 'esdctl.lock')
  })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  it('a holder that releases (unlinks) the file between our open and flock: we start again on a new file and take it', async () => {
    const {result, calls} = await withFlock((call, real, fd, flags, done) => {
      if (call === 1) unlinkSync(path)
      real(fd, flags, done)
    }, () => tryLock(path, process.pid))
    assert.ok(result.acquired)
    assert.equal(calls, 2)
    assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`, 'the new file holds our pid')
    await result.lock.release()
  })

  it('the file replaced by another one between our open and flock: we start again on the one the path names now', async () => {
    const {result, calls} = await withFlock((call, real, fd, flags, done) => {
      if (call === 1) {
        writeFileSync(`${path}.new`, '')
        renameSync(`${path}.new`, path)
      }
      real(fd, flags, done)
    }, () => tryLock(path, process.pid))
    assert.ok(result.acquired)
    assert.equal(calls, 2)
    await result.lock.release()
  })

  it('a path unlinked before every one of our flocks: after 8 attempts we give up, saying another run is busy with it (no holder named)', async () => {
    const {result, calls} = await withFlock((_call, real, fd, flags, done) => {
      unlinkSync(path)
      real(fd, flags, done)
    }, () => tryLock(path, process.pid))
    assert.deepEqual(result, {acquired: false, holderPid: undefined})
    assert.equal(calls, 8)
    assert.equal(existsSync(path), false, 'nothing left behind')
  })

  it('a flock error other than "held elsewhere" (ENOLCK: the kernel is out of lock records) is passed on, not taken for a holder', async () => {
    const before = openDescriptors()
    await assert.rejects(withFlock((_call, _real, _fd, _flags, done) => done(errno('ENOLCK')), () => tryLock(path, process.pid)), (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOLCK')
    assert.equal(openDescriptors(), before, 'the descriptor was closed')
  })

  it('"held elsewhere" (EAGAIN) from flock is a refusal naming the pid in the file', async () => {
    writeFileSync(path, '4242\n')
    const {result} = await withFlock((_call, _real, _fd, _flags, done) => done(errno('EAGAIN')), () => tryLock(path, process.pid))
    assert.deepEqual(result, {acquired: false, holderPid: 4242})
  })

  it('the path turned into a link loop between our open and flock: the error reading it is passed on as it is, not retried as a link refusal', async () => {
    const sub = join(dir, 'sub')
    mkdirSync(sub)
    const inner = join(sub, 'esdctl.lock')
    await assert.rejects(
      withFlock((call, real, fd, flags, done) => {
        if (call === 1) {
          renameSync(sub, join(dir, 'gone'))
          symlinkSync('sub', sub)
        }
        real(fd, flags, done)
      }, () => tryLock(inner, process.pid)),
      (e: unknown) => !(e instanceof LockPathError) && (e as NodeJS.ErrnoException).code === 'ELOOP' && (e as NodeJS.ErrnoException).syscall === 'lstat',
    )
  })
})
