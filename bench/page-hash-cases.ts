import {createHash, hash} from 'node:crypto'
import {PageHashPool} from '../src/io/page-hash-pool.js'
import {hashPages, workersFor, type PageHashOptions} from '../src/io/page-hasher.js'
import type {BenchCase} from './harness.js'
import {pieceSize} from '../src/io/code-pages.js'
import {WORKER_READ_BYTES} from '../src/io/parallel-page-hasher.js'
import {readAtSync} from '../src/io/positional-read.js'
import {openRegularFile} from '../src/io/regular-file.js'

const kib = (n: number) => `${n / 1024} KiB`
const mib = (n: number) => `${n / 2 ** 20} MiB`

/** The limit the targets refer to: a Hash object per page over bytes already in memory, one core. */
export function createHashPerPage(code: Buffer, pageSize: number): BenchCase {
  return {
    name: `limit: createHash per ${kib(pageSize)} page, in memory, 1 core`,
    bytes: code.length,
    run: async () => {
      for (let at = 0; at < code.length; at += pageSize) createHash('sha256').update(code.subarray(at, at + pageSize)).digest()
    },
  }
}

/** A stricter reference: node's one-shot crypto.hash() per page (what hashPages uses), in memory. */
export function oneShotPerPage(code: Buffer, pageSize: number): BenchCase {
  return {
    name: `ref: crypto.hash() per ${kib(pageSize)} page, in memory, 1 core`,
    bytes: code.length,
    run: async () => {
      for (let at = 0; at < code.length; at += pageSize) hash('sha256', code.subarray(at, at + pageSize), 'buffer')
    },
  }
}

export function streamingHashPages(path: string, codeLimit: number, pageSize: number, parallel: PageHashOptions['parallel'], minRatio?: number): BenchCase {
  return {
    name: `hashPages parallel:${String(parallel)}, ${mib(codeLimit)} from disk`,
    bytes: codeLimit,
    minRatio,
    run: () => hashPages({path, sliceOffset: 0, codeLimit, pageSize, hashType: 2}, {parallel}),
  }
}

/** hashPages with workers booted just before (a fresh pool per run): what a first job pays without a warm pool. */
export function coldStreamingHashPages(path: string, codeLimit: number, pageSize: number): BenchCase {
  return {
    name: `hashPages parallel:auto, workers booted cold, ${mib(codeLimit)} from disk`,
    bytes: codeLimit,
    run: async () => {
      const pool = PageHashPool.start(Math.max(1, workersFor(codeLimit, 'auto')))
      try {
        await hashPages({path, sliceOffset: 0, codeLimit, pageSize, hashType: 2}, {parallel: 'auto', pool})
      } finally {
        pool.release()
      }
    },
  }
}

/**
 * Only the reading hashPages does: the same piece size and blocking positional reads from the
 * page cache, no digest. It is the part of a reading hasher's work that the in-memory rows do not
 * have, on the same cores as the hashing, so it bounds what any reader can reach (see run.ts).
 */
export function readOnly(path: string, codeLimit: number, pageSize: number): BenchCase {
  return {
    name: `read only: ${mib(pieceSize(pageSize, WORKER_READ_BYTES))} reads from disk, no digest, 1 core`,
    bytes: codeLimit,
    run: async () => {
      const {handle} = await openRegularFile(path)
      try {
        const piece = Buffer.allocUnsafe(pieceSize(pageSize, WORKER_READ_BYTES))
        for (let at = 0; at < codeLimit; at += piece.length) readAtSync(handle.fd, piece, Math.min(piece.length, codeLimit - at), at)
      } finally {
        await handle.close()
      }
    },
  }
}
