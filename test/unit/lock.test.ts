import assert from 'node:assert/strict'
import {spawn, type ChildProcessWithoutNullStreams} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {execa} from 'execa'
import {LockPathError, probeLock, tryLock} from '../../src/adapters/lock.js'

const CONTENDER = fileURLToPath(new URL('../support/lock-contender.js', import.meta.url))

interface Holder {
  child: ChildProcessWithoutNullStreams
  line: Record<string, unknown>
}

/** Starts a contender that takes the lock and keeps it until its stdin closes. */
async function startHolder(path: string): Promise<Holder> {
  const child = spawn(process.execPath, [CONTENDER, JSON.stringify({path, mode: 'hold'})], {stdio: 'pipe'})
  const line = await new Promise<Record<string, unknown>>((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!) as Record<string, unknown>)
    })
    child.on('exit', (code) => reject(new Error(`contender exited ${code} before taking the lock: ${out}`)))
  })
  return {child, line}
}

async function ended(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  await new Promise((resolve) => child.on('exit', resolve))
}

describe('the one lock: a POSIX advisory lock the kernel releases when its holder dies', () => {
  let dir: string
  let path: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'esdctl-lock-'))
    path = join(dir, 'esdctl.lock')
  })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  it('a run while another process holds the lock is refused and names the holder pid', async () => {
    const holder = await startHolder(path)
    try {
      assert.deepEqual(holder.line, {acquired: true, tookOverFrom: null})
      assert.equal(readFileSync(path, 'utf8'), `${holder.child.pid}\n`)
      assert.deepEqual(await tryLock(path, process.pid), {acquired: false, holderPid: holder.child.pid})
    } finally {
      holder.child.stdin.end()
      await ended(holder.child)
    }
    assert.equal(existsSync(path), false, 'release removes the file')
    const after = await tryLock(path, process.pid)
    assert.equal(after.acquired, true)
    if (after.acquired) await after.lock.release()
  })

  it('an empty lock file (a power cut right after creating it) does not block', async () => {
    writeFileSync(path, '')
    const attempt = await tryLock(path, process.pid)
    assert.equal(attempt.acquired, true)
    assert.equal(attempt.acquired && attempt.tookOverFrom, undefined)
    assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`)
    if (attempt.acquired) await attempt.lock.release()
  })

  it('a holder killed with SIGKILL leaves a lock the next run takes at once, naming the dead pid', async () => {
    const holder = await startHolder(path)
    const deadPid = holder.child.pid!
    holder.child.kill('SIGKILL')
    await ended(holder.child)
    assert.equal(readFileSync(path, 'utf8'), `${deadPid}\n`, 'the dead holder left its pid behind')
    const attempt = await tryLock(path, process.pid)
    assert.equal(attempt.acquired, true)
    assert.equal(attempt.acquired && attempt.tookOverFrom, deadPid)
    if (attempt.acquired) await attempt.lock.release()
  })

  it('a lock file naming a pid that now belongs to another live process (pid reuse after a reboot) does not block', async () => {
    // This test process is alive and is not holding the lock: exactly a reused pid.
    writeFileSync(path, `${process.pid}\n`)
    const contender = await startHolder(path)
    try {
      assert.deepEqual(contender.line, {acquired: true, tookOverFrom: process.pid})
    } finally {
      contender.child.stdin.end()
      await ended(contender.child)
    }
  })

  it('a second attempt inside the holding process is refused (a POSIX lock would silently succeed, and closing would drop it)', async () => {
    const first = await tryLock(path, process.pid)
    assert.equal(first.acquired, true)
    assert.deepEqual(await tryLock(path, process.pid), {acquired: false, holderPid: process.pid})
    // Still held against other processes after the refused attempt.
    const other = await startHolder(path)
    assert.deepEqual(other.line, {acquired: false, holderPid: process.pid})
    await ended(other.child)
    if (first.acquired) await first.lock.release()
  })

  it('a link or a directory at the lock path is refused, never followed', async () => {
    const target = join(dir, 'elsewhere')
    writeFileSync(target, 'keep\n')
    symlinkSync(target, path)
    await assert.rejects(tryLock(path, process.pid), LockPathError)
    assert.equal(readFileSync(target, 'utf8'), 'keep\n')
    rmSync(path)
    mkdirSync(path)
    await assert.rejects(tryLock(path, process.pid), LockPathError)
  })

  describe('probeLock, a dry run\'s look at the lock: never waits, keeps or creates anything', () => {
    it('no lock file: nobody holds it, and no file is created', async () => {
      assert.deepEqual(await probeLock(path, process.pid), {held: false})
      assert.equal(existsSync(path), false)
    })

    it('held by another process: held, naming its pid; the file is left as the holder wrote it', async () => {
      const holder = await startHolder(path)
      try {
        assert.deepEqual(await probeLock(path, process.pid), {held: true, holderPid: holder.child.pid})
        assert.equal(readFileSync(path, 'utf8'), `${holder.child.pid}\n`)
      } finally {
        holder.child.stdin.end()
        await ended(holder.child)
      }
      assert.deepEqual(await probeLock(path, process.pid), {held: false})
    })

    it('a lock file nobody holds (a dead holder\'s pid in it): free, and the probe drops its look at once so a real run takes it', async () => {
      writeFileSync(path, '999999\n')
      assert.deepEqual(await probeLock(path, process.pid), {held: false})
      assert.equal(readFileSync(path, 'utf8'), '999999\n', 'nothing written')
      const other = await startHolder(path)
      assert.deepEqual(other.line, {acquired: true, tookOverFrom: 999999})
      other.child.stdin.end()
      await ended(other.child)
    })

    it('held by this process: held, naming it (as tryLock answers)', async () => {
      const mine = await tryLock(path, process.pid)
      assert.equal(mine.acquired, true)
      assert.deepEqual(await probeLock(path, process.pid), {held: true, holderPid: process.pid})
      if (mine.acquired) await mine.lock.release()
    })

    it('a link or a directory at the lock path is refused, never followed', async () => {
      const target = join(dir, 'elsewhere')
      writeFileSync(target, 'keep\n')
      symlinkSync(target, path)
      await assert.rejects(probeLock(path, process.pid), (e: unknown) => e instanceof LockPathError && /symbolic link/.test(e.message))
      rmSync(path)
      mkdirSync(path)
      await assert.rejects(probeLock(path, process.pid), (e: unknown) => e instanceof LockPathError && /not a regular file/.test(e.message))
    })
  })

  for (const start of ['no lock file', 'a stale lock of a SIGKILLed holder'] as const) {
    it(`8 processes racing for it over ${start} never hold it at the same time`, async function () {
      this.timeout(60_000)
      if (start !== 'no lock file') {
        const holder = await startHolder(path)
        holder.child.kill('SIGKILL')
        await ended(holder.child)
        assert.equal(existsSync(path), true)
      }
      const go = join(dir, 'go')
      const sentinel = join(dir, 'inside')
      const racers = Array.from({length: 8}, () => execa(process.execPath, [CONTENDER, JSON.stringify({path, mode: 'race', rounds: 40, sentinel, go})]))
      await new Promise((r) => setTimeout(r, 300))
      writeFileSync(go, '')
      const results = (await Promise.all(racers)).map((r) => JSON.parse(r.stdout) as {acquired: number; refused: number; overlaps: number})
      assert.equal(results.reduce((n, r) => n + r.overlaps, 0), 0, 'two holders at once')
      assert.ok(results.reduce((n, r) => n + r.acquired, 0) >= 8, 'the lock was taken and released many times')
      assert.ok(results.reduce((n, r) => n + r.refused, 0) > 0, 'the runs really contended')
    })
  }
})
