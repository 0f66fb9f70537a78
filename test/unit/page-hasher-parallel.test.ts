import {strict as assert} from 'node:assert'
import {createHash} from 'node:crypto'
import {mkdtempSync, openSync, closeSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {FormatError} from '../../src/formats/format-error.js'
import type {CodePages} from '../../src/io/code-pages.js'
import {hashPagesInWorkers} from '../../src/io/parallel-page-hasher.js'
import {PageHashPool} from '../../src/io/page-hash-pool.js'
import {hashPagesSequentially} from '../../src/io/sequential-page-hasher.js'

// Drives the worker path directly with small units and without the calling thread's help, so the
// workers (not the caller) hash every page of these small files.
describe('parallel page hashing in workers', () => {
  let dir: string
  let path: string
  let fd: number
  const CODE = Buffer.alloc(600 * 1024)
  for (let i = 0; i < CODE.length; i++) CODE[i] = (i * 2654435761) >>> 24

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'esdctl-page-workers-'))
    path = join(dir, 'code.bin')
    writeFileSync(path, CODE)
    fd = openSync(path, 'r')
  })
  after(() => {
    closeSync(fd)
    rmSync(dir, {recursive: true, force: true})
  })

  const pagesOf = (codeLimit: number, pageSize = 4096): CodePages => ({
    path,
    fd,
    sliceOffset: 0,
    codeLimit,
    pageSize,
    pageCount: Math.ceil(codeLimit / pageSize),
    digestName: 'sha256',
    slotSize: 32,
  })
  const workersOnly = {unitBytes: 16 * 1024, callerHashes: 'never'} as const

  function expectedSlots(codeLimit: number, pageSize: number): Buffer {
    const slots: Buffer[] = []
    for (let at = 0; at < codeLimit; at += pageSize) slots.push(createHash('sha256').update(CODE.subarray(at, Math.min(at + pageSize, codeLimit))).digest())
    return Buffer.concat(slots)
  }

  it('a warm pool serves job after job, and closes itself after a failure', async () => {
    const pool = PageHashPool.start(2)
    try {
      for (const [codeLimit, pageSize] of [[600 * 1024, 4096], [300 * 1024 + 5, 16384], [600 * 1024, 4096]] as const) {
        const slots = await hashPagesInWorkers(pagesOf(codeLimit, pageSize), 2, undefined, workersOnly, pool)
        assert.deepEqual(slots, expectedSlots(codeLimit, pageSize))
      }
      assert.equal(pool.usable, true)
      const tooLong = {...pagesOf(600 * 1024), codeLimit: 700 * 1024, pageCount: 175}
      await assert.rejects(hashPagesInWorkers(tooLong, 2, undefined, workersOnly, pool), (e: unknown) => e instanceof FormatError)
      assert.equal(pool.usable, false)
      // A closed pool is not used again: the job starts workers of its own.
      assert.deepEqual(await hashPagesInWorkers(pagesOf(600 * 1024), 2, undefined, workersOnly, pool), expectedSlots(600 * 1024, 4096))
    } finally {
      await pool.close()
    }
  })

  it('two jobs at once: one takes the pool, the other boots workers of its own', async () => {
    const pool = PageHashPool.start(1)
    try {
      const [a, b] = await Promise.all([
        hashPagesInWorkers(pagesOf(600 * 1024), 1, undefined, workersOnly, pool),
        hashPagesInWorkers(pagesOf(300 * 1024 + 5, 16384), 1, undefined, workersOnly, pool),
      ])
      assert.deepEqual(a, expectedSlots(600 * 1024, 4096))
      assert.deepEqual(b, expectedSlots(300 * 1024 + 5, 16384))
      assert.equal(pool.usable, true)
    } finally {
      await pool.close()
    }
  })

  it('gives the same slots as the definition with 1, 2 and 3 workers sharing many units', async () => {
    for (const workers of [1, 2, 3]) {
      const slots = await hashPagesInWorkers(pagesOf(CODE.length - 5), workers, undefined, workersOnly)
      assert.ok(slots.equals(expectedSlots(CODE.length - 5, 4096)), `${workers} workers`)
    }
  })

  it('gives the same slots when the caller also hashes', async () => {
    for (const callerHashes of ['until-workers-start', 'throughout'] as const) {
      const slots = await hashPagesInWorkers(pagesOf(CODE.length), 2, undefined, {unitBytes: 8192, callerHashes})
      assert.ok(slots.equals(expectedSlots(CODE.length, 4096)), callerHashes)
    }
  })

  it('turns a short read inside a worker into the FormatError the caller would have raised', async () => {
    const beyond = pagesOf(CODE.length + 4096 * 3)
    const fromWorkers = await hashPagesInWorkers(beyond, 2, undefined, workersOnly).then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    )
    const onCaller = await hashPagesSequentially(beyond).then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    )
    assert.ok(fromWorkers instanceof FormatError)
    assert.ok(onCaller instanceof FormatError)
    assert.equal(fromWorkers.code, 'pages.short-read')
    assert.equal(fromWorkers.message, onCaller.message)
    assert.match(fromWorkers.message, new RegExp(`ends at offset ${CODE.length}$`))
  })

  it('stops the workers and rejects with the reason when the signal fires', async () => {
    const controller = new AbortController()
    const reason = new Error('abandon')
    const hashing = hashPagesInWorkers(pagesOf(CODE.length), 2, controller.signal, workersOnly)
    setImmediate(() => controller.abort(reason))
    await assert.rejects(hashing, reason)
  })
})
