import {appendFileSync, readFileSync} from 'node:fs'

/** One line of the fake launchd's log; `t` is wall-clock ms with sub-ms precision. */
export interface LaunchdEvent {
  t: number
  event: string
  label?: string
  [detail: string]: unknown
}

export function preciseNow(): number {
  return performance.timeOrigin + performance.now()
}

/**
 * Appends synchronously so the file order is the order things happened; a benchmark reads the
 * downtime window (bootout returned → next bootstrap called) from these timestamps.
 */
export class EventLog {
  constructor(private readonly path: string) {}

  record(event: string, detail: Record<string, unknown> = {}): void {
    appendFileSync(this.path, JSON.stringify({t: preciseNow(), event, ...detail}) + '\n')
  }
}

export function readEventLog(path: string): LaunchdEvent[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw e
  }
  return text.split('\n').filter((line) => line.length > 0).map((line) => JSON.parse(line) as LaunchdEvent)
}
