import {Worker} from 'node:worker_threads'

const WORKER_URL = new URL('./page-hash-worker.js', import.meta.url)

/**
 * Page-hashing worker threads started ahead of need and reused across jobs. A worker takes tens
 * of milliseconds to boot; started when a large file is opened, that boot overlaps the parsing
 * of headers and signature, and a universal file's second slice pays nothing.
 */
export class PageHashPool {
  private closed = false
  private constructor(readonly workers: readonly Worker[]) {}

  static start(count: number): PageHashPool {
    const workers = Array.from({length: count}, () => new Worker(WORKER_URL))
    // A job listens for its own failures; between jobs an 'error' must not take the process down.
    for (const w of workers) w.on('error', () => {})
    return new PageHashPool(workers)
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
    this.closed = true
    for (const w of this.workers) w.terminate().catch(() => {})
  }
}
