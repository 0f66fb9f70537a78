import {availableParallelism} from 'node:os'
import {Worker} from 'node:worker_threads'
import type {BenchCase} from './harness.js'
import {hashShare, sharesOf} from './parallel-ceiling-share.js'

const WORKER_URL = new URL('./parallel-ceiling-worker.js', import.meta.url)

/**
 * What this machine's cores can give page hashing at best: the one-shot digest per page (as
 * hashPages uses) over bytes already in shared memory, split evenly between the calling thread
 * and `availableParallelism() − 1` warm workers, with no reading, no claiming and no slots
 * written. No implementation that reads the file can beat it, so the parallel rows are reported
 * against it as well as against the one-core limit: the share of what the cores give that the
 * page hasher gets.
 */
export class ParallelCeiling {
  private constructor(private readonly workers: Worker[]) {}

  static async start(): Promise<ParallelCeiling> {
    const workers = Array.from({length: Math.max(0, availableParallelism() - 1)}, () => new Worker(WORKER_URL))
    await Promise.all(workers.map((w) => new Promise((resolve, reject) => w.once('online', resolve).once('error', reject))))
    return new ParallelCeiling(workers)
  }

  get threads(): number {
    return this.workers.length + 1
  }

  /** A case hashing `code` (copied once into shared memory) in `pageSize` pages on every thread at once. */
  benchCase(code: Buffer, pageSize: number): BenchCase {
    const bytes = new SharedArrayBuffer(code.length)
    new Uint8Array(bytes).set(code)
    const pageCount = Math.ceil(code.length / pageSize)
    const [own, ...theirs] = sharesOf(pageCount, this.threads)
    return {
      name: `ceiling: crypto.hash() per ${pageSize / 1024} KiB page, in memory, ${this.threads} threads`,
      bytes: code.length,
      run: async () => {
        const done = this.workers.map((w, i) => {
          const finished = new Promise((resolve) => w.once('message', resolve))
          w.postMessage({bytes, pageSize, firstPage: theirs[i]![0], endPage: theirs[i]![1]})
          return finished
        })
        hashShare({bytes, pageSize, firstPage: own![0], endPage: own![1]})
        await Promise.all(done)
      },
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()))
  }
}
