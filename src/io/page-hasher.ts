import {join} from 'node:path'
import {readdirSync, statSync} from 'node:fs'
import {availableParallelism} from 'node:os'
import {openRegularFile} from './regular-file.js'
import {FormatError} from '../formats/format-error.js'
import {shortReadError, type CodePages} from './code-pages.js'
import {pageDigestOf} from './page-digest.js'
import {hashPagesInWorkers} from './parallel-page-hasher.js'
import {PageHashPool} from './page-hash-pool.js'
import {hashPagesSequentially} from './sequential-page-hasher.js'

export interface PageHashJob {
  /** The file. */
  path: string
  /** Where the slice starts in the file. */
  sliceOffset: number
  /** Bytes of the slice covered (CodeDirectory codeLimit). */
  codeLimit: number
  /** Bytes per page; 0 means one page covering the whole codeLimit. */
  pageSize: number
  /** 1 sha1, 2 sha256, 3 sha256 truncated to 20, 4 sha384. */
  hashType: number
}

export interface PageHashOptions {
  /** Worker threads to use; 'auto' uses them only above PARALLEL_THRESHOLD_BYTES. */
  parallel?: 'auto' | 'off' | number
  signal?: AbortSignal
  /** Warm workers to use instead of starting new ones (see PageHashPool). */
  pool?: PageHashPool
}

/** Below this much code, starting workers costs more than it saves. */
export const PARALLEL_THRESHOLD_BYTES = 64 << 20
/**
 * Ceiling on the slots one job may produce. A 1 GiB slice in 4 KiB SHA-384 pages needs 12 MiB; a
 * hostile page size (2 bytes) would otherwise make us allocate many times the file's size.
 */
export const MAX_SLOT_BYTES = 256 << 20

/**
 * Returns the concatenated page hashes (pageCount × slot size), read from disk in large
 * page-aligned pieces into reused buffers. 'auto' uses workers only when codeLimit exceeds
 * PARALLEL_THRESHOLD_BYTES. A file shorter than sliceOffset + codeLimit rejects with
 * FormatError('pages.short-read') naming the path and offsets, never a partial result.
 */
export async function hashPages(job: PageHashJob, opts: PageHashOptions = {}): Promise<Buffer> {
  opts.signal?.throwIfAborted()
  const resolved = resolveJob(job)
  const workers = workerCountFor(resolved, opts.parallel ?? 'auto')
  const {handle: file, size} = await openRegularFile(job.path)
  try {
    const pages: CodePages = {...resolved, path: job.path, fd: file.fd}
    if (size < job.sliceOffset + job.codeLimit) throw shortReadError(pages, size)
    if (workers > 0) return await hashPagesInWorkers(pages, workers, opts.signal, undefined, opts.pool ?? PageHashPool.shared(workers))
    return await hashPagesSequentially(pages, opts.signal)
  } finally {
    await file.close()
  }
}

/**
 * Compares actual and expected slots; returns how many differ and the indexes of the first
 * `limit` of them. Slots missing from either side count as mismatches.
 */
export function findMismatchedPages(actual: Buffer, expected: Buffer, hashSize: number, limit = 10): {count: number; first: number[]} {
  if (!Number.isSafeInteger(hashSize) || hashSize <= 0) throw new RangeError(`hash size must be a positive integer, got ${hashSize}`)
  // The common case, an intact file: one comparison instead of one per page.
  if (actual.equals(expected)) return {count: 0, first: []}
  const slots = Math.max(Math.ceil(actual.length / hashSize), Math.ceil(expected.length / hashSize))
  const first: number[] = []
  let count = 0
  for (let i = 0; i < slots; i++) {
    const start = i * hashSize
    const end = start + hashSize
    const same = end <= actual.length && end <= expected.length && actual.compare(expected, start, end, start, end) === 0
    if (same) continue
    count++
    if (first.length < limit) first.push(i)
  }
  return {count, first}
}

type ResolvedJob = Omit<CodePages, 'path' | 'fd'>

function resolveJob(job: PageHashJob): ResolvedJob {
  const {sliceOffset, codeLimit, pageSize, hashType} = job
  for (const [name, value] of [['sliceOffset', sliceOffset], ['codeLimit', codeLimit], ['pageSize', pageSize]] as const) {
    if (!Number.isSafeInteger(value) || value < 0 || !Number.isSafeInteger(sliceOffset + codeLimit)) {
      throw new FormatError('pages.bad-job', `${job.path}: ${name} ${value} is not a usable byte count`)
    }
  }
  if (pageSize !== 0 && !Number.isInteger(Math.log2(pageSize))) {
    throw new FormatError('pages.bad-job', `${job.path}: page size ${pageSize} is not a power of two`)
  }
  const {digestName, slotSize} = pageDigestOf(hashType)
  const pageCount = pageSize === 0 ? 1 : Math.ceil(codeLimit / pageSize)
  if (pageCount * slotSize > MAX_SLOT_BYTES) {
    throw new FormatError('pages.bad-job', `${job.path}: ${pageCount} pages of ${pageSize} bytes would need more than ${MAX_SLOT_BYTES} bytes of hashes`)
  }
  return {sliceOffset, codeLimit, pageSize: pageSize === 0 ? Math.max(codeLimit, 1) : pageSize, pageCount, digestName, slotSize}
}

/** 0 means hash on the calling thread. */
function workerCountFor(job: ResolvedJob, parallel: PageHashOptions['parallel']): number {
  return job.pageCount < 2 ? 0 : workersFor(job.codeLimit, parallel)
}

/**
 * Worker threads for `codeBytes` of code. The calling thread hashes too, so 'auto' starts one
 * fewer than the cores (measured on 2 cores, 256 MiB: 1 worker 1.5×, 2 workers 1.35× the limit).
 */
export function workersFor(codeBytes: number, parallel: PageHashOptions['parallel']): number {
  if (parallel === 'off') return 0
  if (parallel === 'auto' || parallel === undefined) {
    const cores = availableParallelism()
    return codeBytes > PARALLEL_THRESHOLD_BYTES && cores > 1 ? cores - 1 : 0
  }
  if (!Number.isSafeInteger(parallel) || parallel < 0) throw new RangeError(`parallel must be 'auto', 'off' or a worker count, got ${parallel}`)
  return parallel
}

/**
 * The warm workers a file of `fileBytes` will want: the process-wide pool, started now if nobody
 * started it earlier, so that at worst its boot overlaps the parsing.
 */
export function prewarmPageHashing(fileBytes: number, opts: PageHashOptions = {}): PageHashPool | undefined {
  const n = workersFor(fileBytes, opts.parallel ?? 'auto')
  return n > 0 ? PageHashPool.shared(n) : undefined
}

/** Boots the process-wide workers for large files ahead of need (the CLI calls it before oclif loads). */
export function warmPageHashing(): void {
  const n = workersFor(PARALLEL_THRESHOLD_BYTES + 1, 'auto')
  if (n > 0) PageHashPool.shared(n)
}

/**
 * Boots the workers ahead of need only when `path` can hold code past the parallel threshold: a
 * file that large, a folder whose Contents/MacOS holds that much, or a package whose compressed size
 * alone is that large. Everyday inputs (a daemon of a few megabytes, a profile) never pay for idle
 * workers' start-up and memory. Reads nothing but directory entries and sizes; never throws.
 * Returns whether it started them.
 */
export function warmPageHashingFor(path: string | undefined): boolean {
  if (path === undefined) return false
  try {
    const st = statSync(path)
    let bytes = st.size
    if (st.isDirectory()) {
      const macos = join(path, 'Contents', 'MacOS')
      bytes = readdirSync(macos).reduce((sum, name) => sum + statSync(join(macos, name), {throwIfNoEntry: false})!.size, 0)
    }
    if (bytes <= PARALLEL_THRESHOLD_BYTES || workersFor(bytes, 'auto') === 0) return false
    warmPageHashing()
    return true
  } catch {
    // unreadable or not a bundle: the verifier will say so; hashing falls back to prewarmPageHashing
    return false
  }
}
