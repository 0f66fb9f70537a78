import {Worker} from 'node:worker_threads'

const WORKER_URL = new URL('./page-hash-worker.js', import.meta.url)

/**
 * Page-hashing worker threads started ahead of need and reused across jobs. A worker takes 20-30
 * ms to boot, a sixth of hashing 256 MiB on two cores; booted early (the CLI starts one while
 * oclif loads, a long-running process keeps them between verifications), that cost is hidden.
 */
export class PageHashPool {
  private closed = false
  private running = false
  private constructor(
    readonly workers: readonly Worker[],
    /** Kept for the process (idle workers do not keep it alive); never closed by a finished job. */
    readonly shared: boolean,
  ) {}

  static start(count: number, opts: {shared?: boolean} = {}): PageHashPool {
    const workers = Array.from({length: count}, () => new Worker(WORKER_URL))
    // A job listens for its own failures; between jobs an 'error' must not take the process down.
    for (const w of workers) w.on('error', () => {})
    const pool = new PageHashPool(workers, opts.shared === true)
    pool.idle()
    return pool
  }

  /** The process-wide pool of `count` workers, started on first use (or again after a failure closed it). */
  static shared(count: number): PageHashPool {
    const current = sharedPool
    // A pool in the middle of a job is never replaced under it; the new job will start its own workers.
    if (current?.usable && (current.workers.length >= count || current.running)) return current
    current?.release()
    sharedPool = PageHashPool.start(count, {shared: true})
    return sharedPool
  }

  /** Stops the process-wide pool's idle workers; the next large job boots new ones. */
  static releaseShared(): void {
    if (sharedPool && !sharedPool.running) sharedPool.release()
  }

  /**
   * Takes the pool for one job, or says no: workers serve one job at a time, and a second
   * concurrent verification in the same process starts workers of its own instead. While a job
   * runs the workers keep the process alive; idle, they must not.
   */
  acquire(): boolean {
    if (this.closed || this.running) return false
    this.running = true
    for (const w of this.workers) w.ref()
    return true
  }

  /** Ends the job that acquire() began. */
  idle(): void {
    this.running = false
    for (const w of this.workers) w.unref()
  }

  get usable(): boolean {
    return !this.closed
  }

  /** Stops every worker and waits for it: after a failed or aborted job, since a worker may be mid-read. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await Promise.all(this.workers.map(w => w.terminate()))
  }

  /**
   * Stops idle workers without waiting (terminating takes milliseconds a caller need not spend).
   * Only when no job is running: every worker has reported, none holds the file.
   */
  release(): void {
    if (this.closed) return
    if (this.shared && sharedPool === this) sharedPool = undefined
    this.closed = true
    for (const w of this.workers) w.terminate().catch(() => {})
  }
}

let sharedPool: PageHashPool | undefined
