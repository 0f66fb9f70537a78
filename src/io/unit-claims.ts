/**
 * The counters threads share while hashing one job: which unit of pages is next to claim, and
 * how many workers have begun (the calling thread hashes only until they all have).
 */
export class UnitClaims {
  private static readonly NEXT_UNIT = 0
  private static readonly STARTED_WORKERS = 1
  private readonly counters: Int32Array

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(8)) {
    this.counters = new Int32Array(buffer)
  }

  /** The next unclaimed unit index (may be past the last unit: then there is nothing left). */
  claim(): number {
    return Atomics.add(this.counters, UnitClaims.NEXT_UNIT, 1)
  }

  markWorkerStarted(): void {
    Atomics.add(this.counters, UnitClaims.STARTED_WORKERS, 1)
  }

  startedWorkers(): number {
    return Atomics.load(this.counters, UnitClaims.STARTED_WORKERS)
  }
}
