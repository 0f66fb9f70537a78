import type {Measured} from './harness.js'
import type {PeakMemoryCheck} from './peak-memory.js'

export function throughputTable(title: string, rows: Measured[]): string {
  const lines = [
    `${title}`,
    `  ${'case'.padEnd(62)} ${'median s'.padStart(9)} ${'GiB/s'.padStart(7)} ${'× limit'.padStart(8)}  target`,
  ]
  for (const [i, m] of rows.entries()) {
    const target = i === 0 ? '(baseline)' : m.bench.minRatio === undefined ? '' : `≥ ${m.bench.minRatio.toFixed(2)} ${m.ratio >= m.bench.minRatio ? 'MET' : 'NOT MET'}`
    lines.push(`  ${m.bench.name.padEnd(62)} ${m.medianSeconds.toFixed(3).padStart(9)} ${m.gibPerSecond.toFixed(3).padStart(7)} ${m.ratio.toFixed(3).padStart(8)}  ${target}`)
  }
  return lines.join('\n')
}

export function memoryLine(check: PeakMemoryCheck): string {
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`
  const met = check.maxRssBytes < check.limitBytes ? 'MET' : 'NOT MET'
  const hwm = check.highWaterMarkBytes === undefined ? '' : ` (VmHWM ${mib(check.highWaterMarkBytes)})`
  return `  ${check.name.padEnd(62)} maxRSS ${mib(check.maxRssBytes).padStart(10)}${hwm}  < ${mib(check.limitBytes)} ${met}`
}

export function isMet(rows: Measured[]): boolean {
  return rows.every((m) => m.bench.minRatio === undefined || m.ratio >= m.bench.minRatio)
}
