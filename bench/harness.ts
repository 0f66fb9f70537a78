/**
 * A benchmark case: something that processes `bytes` bytes, timed as a whole. Cases are measured
 * in groups; each group's first case is its baseline, and every figure is reported as a ratio to
 * a baseline measured in the same run, because absolute speeds on a shared machine drift.
 */
export interface BenchCase {
  name: string
  bytes: number
  run(): Promise<unknown>
  /** Target, as a minimum throughput ratio to the group baseline. */
  minRatio?: number
}

export interface BenchGroup {
  title: string
  /** The first is the baseline the others are compared with. */
  cases: BenchCase[]
}

export interface Measured {
  bench: BenchCase
  medianSeconds: number
  gibPerSecond: number
  ratio: number
}

/**
 * Runs every case `repeats` times, round-robin (so drift in machine speed hits all cases alike),
 * after one untimed warm-up pass; reports the median of each.
 */
export async function measureGroup(group: BenchGroup, repeats: number): Promise<Measured[]> {
  for (const bench of group.cases) await bench.run()
  const seconds = group.cases.map((): number[] => [])
  for (let r = 0; r < repeats; r++) {
    for (const [i, bench] of group.cases.entries()) {
      const start = process.hrtime.bigint()
      await bench.run()
      seconds[i]!.push(Number(process.hrtime.bigint() - start) / 1e9)
    }
  }
  const measured = group.cases.map((bench, i) => {
    const medianSeconds = median(seconds[i]!)
    return {bench, medianSeconds, gibPerSecond: bench.bytes / 2 ** 30 / medianSeconds, ratio: 0}
  })
  const baseline = measured[0]!.gibPerSecond
  for (const m of measured) m.ratio = m.gibPerSecond / baseline
  return measured
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}
