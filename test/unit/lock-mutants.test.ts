import assert from 'node:assert/strict'
import {execFileSync, spawn} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
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
