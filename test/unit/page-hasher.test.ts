import {strict as assert} from 'node:assert'
import {createHash} from 'node:crypto'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {FormatError} from '../../src/formats/format-error.js'
import {findMismatchedPages, hashPages, type PageHashJob, type PageHashOptions} from '../../src/io/page-hasher.js'

const DIGESTS: Record<number, {name: string; size: number}> = {
  1: {name: 'sha1', size: 20},
  2: {name: 'sha256', size: 32},
  3: {name: 'sha256', size: 20},
  4: {name: 'sha384', size: 48},
}

/** The definition, spelled out: slot i = digest of slice bytes [i·page, min((i+1)·page, codeLimit)). */
function referencePageHashes(job: PageHashJob): Buffer {
  const code = readFileSync(job.path).subarray(job.sliceOffset, job.sliceOffset + job.codeLimit)
  assert.equal(code.length, job.codeLimit, 'test file too short for the reference')
  const {name, size} = DIGESTS[job.hashType]!
  const page = job.pageSize === 0 ? Math.max(job.codeLimit, 1) : job.pageSize
  const count = job.pageSize === 0 ? 1 : Math.ceil(job.codeLimit / page)
  const slots: Buffer[] = []
  for (let i = 0; i < count; i++) {
    slots.push(createHash(name).update(code.subarray(i * page, Math.min((i + 1) * page, job.codeLimit))).digest().subarray(0, size))
  }
  return Buffer.concat(slots)
}

/** Deterministic bytes that differ from page to page (so a misplaced slot cannot match). */
function pseudoRandomBytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length)
  let x = seed >>> 0 || 1
  for (let i = 0; i < length; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

describe('hashPages', () => {
  let dir: string
  let path: string
  const FILE_BYTES = 5 * 1024 * 1024 + 777

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'esdctl-page-hasher-'))
    path = join(dir, 'code.bin')
    writeFileSync(path, pseudoRandomBytes(FILE_BYTES, 0x5eed))
  })
  after(() => rmSync(dir, {recursive: true, force: true}))

  const cases: Array<{what: string; sliceOffset: number; codeLimit: number; pageSize: number}> = [
    {what: 'one byte', sliceOffset: 0, codeLimit: 1, pageSize: 4096},
    {what: 'less than a page', sliceOffset: 0, codeLimit: 4095, pageSize: 4096},
    {what: 'exactly one page', sliceOffset: 0, codeLimit: 4096, pageSize: 4096},
    {what: 'a page and a byte', sliceOffset: 0, codeLimit: 4097, pageSize: 4096},
    {what: 'an exact multiple of the page', sliceOffset: 0, codeLimit: 40 * 16384, pageSize: 16384},
    {what: 'not a multiple, spanning read pieces', sliceOffset: 0, codeLimit: 3 * 1024 * 1024 + 123, pageSize: 4096},
    {what: 'a slice that starts mid-file', sliceOffset: 12345, codeLimit: 2 * 1024 * 1024 + 99, pageSize: 4096},
    {what: 'a slice that ends at the end of the file', sliceOffset: 777, codeLimit: 5 * 1024 * 1024, pageSize: 16384},
    {what: 'pages larger than a read piece', sliceOffset: 3, codeLimit: 5 * 1024 * 1024 - 1, pageSize: 2 * 1024 * 1024},
    {what: 'page size 0 (one page over everything)', sliceOffset: 4096, codeLimit: 3 * 1024 * 1024 + 1, pageSize: 0},
    {what: 'page size 0 with nothing covered', sliceOffset: 0, codeLimit: 0, pageSize: 0},
  ]
  const modes: PageHashOptions['parallel'][] = ['off', 2, 'auto']

  for (const c of cases) {
    for (const hashType of [1, 2, 3, 4]) {
      it(`matches the definition for ${c.what}, hash type ${hashType}, in every mode`, async () => {
        const job = {path, hashType, ...c}
        const expected = referencePageHashes(job)
        for (const parallel of modes) {
          const actual = await hashPages(job, {parallel})
          assert.equal(actual.length, expected.length, `slot bytes with parallel=${parallel}`)
          assert.ok(actual.equals(expected), `slots differ with parallel=${parallel}`)
        }
      })
    }
  }

  it('returns no slots when nothing is covered and pages have a size', async () => {
    const slots = await hashPages({path, sliceOffset: 10, codeLimit: 0, pageSize: 4096, hashType: 2})
    assert.equal(slots.length, 0)
  })

  it('rejects a file shorter than the code with a FormatError naming the path and offsets', async () => {
    for (const parallel of ['off', 2] as const) {
      await assert.rejects(
        hashPages({path, sliceOffset: 1000, codeLimit: FILE_BYTES - 999, pageSize: 4096, hashType: 2}, {parallel}),
        (e: unknown) => {
          assert.ok(e instanceof FormatError)
          assert.equal(e.code, 'pages.short-read')
          assert.match(e.message, new RegExp(path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
          assert.match(e.message, /offset 1000/)
          assert.match(e.message, new RegExp(`${FILE_BYTES + 1}\\)`))
          assert.match(e.message, new RegExp(`ends at offset ${FILE_BYTES}`))
          return true
        },
      )
    }
  })

  it('rejects jobs that cannot describe code pages, before touching the file', async () => {
    const missing = join(dir, 'does-not-exist')
    const bad: Array<[Partial<PageHashJob>, string]> = [
      [{hashType: 9}, 'pages.hash-type'],
      [{pageSize: 3000}, 'pages.bad-job'],
      [{sliceOffset: -1}, 'pages.bad-job'],
      [{codeLimit: 1.5}, 'pages.bad-job'],
      [{codeLimit: Number.MAX_SAFE_INTEGER, sliceOffset: 10}, 'pages.bad-job'],
      [{codeLimit: 2 ** 40, pageSize: 2}, 'pages.bad-job'],
    ]
    for (const [override, code] of bad) {
      const job = {path: missing, sliceOffset: 0, codeLimit: 4096, pageSize: 4096, hashType: 2, ...override}
      await assert.rejects(hashPages(job), (e: unknown) => e instanceof FormatError && e.code === code, JSON.stringify(override))
    }
  })

  it('passes on the error of a file that cannot be opened', async () => {
    await assert.rejects(hashPages({path: join(dir, 'nope'), sliceOffset: 0, codeLimit: 1, pageSize: 4096, hashType: 2}), {code: 'ENOENT'})
  })

  it('rejects with the abort reason when the signal has fired', async () => {
    const reason = new Error('stop')
    for (const parallel of ['off', 2] as const) {
      await assert.rejects(hashPages({path, sliceOffset: 0, codeLimit: FILE_BYTES, pageSize: 4096, hashType: 2}, {parallel, signal: AbortSignal.abort(reason)}), reason)
    }
  })

  it('stops hashing on this thread when the signal fires mid-way', async () => {
    const controller = new AbortController()
    const reason = new Error('stop now')
    const hashing = hashPages({path, sliceOffset: 0, codeLimit: FILE_BYTES, pageSize: 4096, hashType: 2}, {parallel: 'off', signal: controller.signal})
    setImmediate(() => controller.abort(reason))
    await assert.rejects(hashing, reason)
  })
})

describe('findMismatchedPages', () => {
  const slots = (...bytes: number[]) => Buffer.concat(bytes.map((b) => Buffer.alloc(4, b)))

  it('finds nothing when every slot matches', () => {
    assert.deepEqual(findMismatchedPages(slots(1, 2, 3), slots(1, 2, 3), 4), {count: 0, first: []})
  })

  it('lists mismatching pages in order', () => {
    assert.deepEqual(findMismatchedPages(slots(1, 9, 3, 9, 5), slots(1, 2, 3, 4, 5), 4), {count: 2, first: [1, 3]})
  })

  it('counts every mismatch but lists at most `limit`', () => {
    assert.deepEqual(findMismatchedPages(slots(9, 9, 9, 9), slots(1, 2, 3, 4), 4, 2), {count: 4, first: [0, 1]})
  })

  it('detects a difference in a single byte of a slot', () => {
    const actual = slots(1, 2)
    actual[7] = 0
    assert.deepEqual(findMismatchedPages(actual, slots(1, 2), 4), {count: 1, first: [1]})
  })

  it('counts slots present on one side only as mismatches', () => {
    assert.deepEqual(findMismatchedPages(slots(1, 2, 3), slots(1, 2), 4), {count: 1, first: [2]})
    assert.deepEqual(findMismatchedPages(slots(1), slots(1, 2, 3), 4), {count: 2, first: [1, 2]})
  })

  it('refuses a hash size that is not a positive integer', () => {
    assert.throws(() => findMismatchedPages(slots(1), slots(1), 0), RangeError)
  })
})
