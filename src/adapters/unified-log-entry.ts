/** One line of `log show|stream --style ndjson`, reduced to what esdctl reads. */
export interface UnifiedLogEntry {
  /** As `log` prints it, e.g. `2026-03-01 10:00:00.123456+0000`. */
  timestamp: string
  /** Last component of processImagePath: `amfid`, `taskgated-helper`, `kernel`, the daemon's name. */
  process: string
  pid?: number
  subsystem?: string
  category?: string
  /** Default, Info, Debug, Error, Fault. */
  type?: string
  message: string
}

/** Longer lines are cut: a log message is never this long, and a reader must stay bounded. */
export const MAX_LINE_CHARS = 64 * 1024

/**
 * Reads one ndjson line. `log` also prints lines that are not entries (a trailing summary, a
 * "Filtering the log data using …" banner); those give undefined, never an exception.
 */
export function parseLogLine(line: string): UnifiedLogEntry | undefined {
  const text = line.slice(0, MAX_LINE_CHARS).trim()
  if (!text.startsWith('{')) return undefined
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const v = value as Record<string, unknown>
  if (typeof v.eventMessage !== 'string' || typeof v.timestamp !== 'string') return undefined
  const image = typeof v.processImagePath === 'string' ? v.processImagePath : ''
  const entry: UnifiedLogEntry = {timestamp: v.timestamp, process: image.slice(image.lastIndexOf('/') + 1) || 'unknown', message: v.eventMessage}
  if (typeof v.processID === 'number' && Number.isInteger(v.processID)) entry.pid = v.processID
  if (typeof v.subsystem === 'string' && v.subsystem !== '') entry.subsystem = v.subsystem
  if (typeof v.category === 'string' && v.category !== '') entry.category = v.category
  if (typeof v.messageType === 'string') entry.type = v.messageType
  return entry
}

/**
 * Milliseconds since the epoch of a `log` timestamp: `2026-03-01 10:00:00.123456+0000` (ndjson)
 * or `2024-01-10 14:36:03.306061 -0800` (Console, syslog style). undefined for anything else.
 */
export function logTimeMs(timestamp: string): number | undefined {
  const m = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?\s*([+-])(\d\d):?(\d\d)$/.exec(timestamp.trim())
  if (!m) return undefined
  const fraction = Number(`0.${m[3] ?? '0'}`) * 1000
  const t = Date.parse(`${m[1]}T${m[2]}${m[4]}${m[5]}:${m[6]}`)
  return Number.isNaN(t) ? undefined : t + fraction
}

/** The way `log show --style syslog` reads to people. */
export function formatLogEntry(e: UnifiedLogEntry): string {
  return `${e.timestamp} ${e.process}${e.pid === undefined ? '' : `[${e.pid}]`}: ${e.message}`
}
