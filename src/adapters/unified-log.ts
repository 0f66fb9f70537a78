import {execa} from 'execa'
import {parseLogLine, type UnifiedLogEntry} from './unified-log-entry.js'

export {formatLogEntry, logTimeMs, parseLogLine, type UnifiedLogEntry} from './unified-log-entry.js'

export interface UnifiedLogOptions {
  /** Default `/usr/bin/log`. Only tests set it (to the double); never read from env or flags. */
  executable?: string
}

const DEFAULT_EXECUTABLE = '/usr/bin/log'
const SHOW_TIMEOUT_MS = 120_000
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024
const DEFAULT_MAX_ENTRIES = 10_000
/** `log show --last` takes minutes up to a day here; more is a different question. */
const MAX_MINUTES = 24 * 60

/** Thrown when `log` could not be run or refused the query. */
export class UnifiedLogError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UnifiedLogError'
  }
}

/**
 * The one place esdctl runs macOS's `log` tool, always with `--style ndjson` so entries are read
 * as data rather than scraped from text.
 */
export class UnifiedLogAdapter {
  private readonly executable: string

  constructor(opts: UnifiedLogOptions = {}) {
    this.executable = opts.executable ?? DEFAULT_EXECUTABLE
  }

  /** Entries of the last `lastMinutes` minutes matching `predicate`, oldest first, at most `maxEntries` (the newest kept). */
  async show(opts: {predicate: string; lastMinutes: number; maxEntries?: number}): Promise<UnifiedLogEntry[]> {
    const minutes = Math.min(MAX_MINUTES, Math.max(1, Math.floor(opts.lastMinutes)))
    const result = await execa(this.executable, ['show', '--style', 'ndjson', '--last', `${minutes}m`, '--predicate', opts.predicate], {
      reject: false,
      stdin: 'ignore',
      timeout: SHOW_TIMEOUT_MS,
      maxBuffer: MAX_OUTPUT_BYTES,
    })
    if (typeof result.exitCode !== 'number' || result.timedOut || result.isTerminated || result.exitCode !== 0) {
      const said = String(result.stderr ?? '').trim().slice(0, 2000)
      throw new UnifiedLogError(`${this.executable} show failed (${result.exitCode ?? result.shortMessage ?? 'not run'})${said ? `: ${said}` : ''}`)
    }
    const entries: UnifiedLogEntry[] = []
    for (const line of String(result.stdout ?? '').split('\n')) {
      const entry = parseLogLine(line)
      if (entry) entries.push(entry)
    }
    const max = opts.maxEntries ?? DEFAULT_MAX_ENTRIES
    return entries.length > max ? entries.slice(entries.length - max) : entries
  }

  /** Follows the log until `signal` aborts it; calls `onEntry` for every matching entry. */
  async stream(opts: {predicate: string; signal: AbortSignal; onEntry(entry: UnifiedLogEntry): void}): Promise<void> {
    const child = execa(this.executable, ['stream', '--style', 'ndjson', '--predicate', opts.predicate], {
      reject: false,
      stdin: 'ignore',
      cancelSignal: opts.signal,
      buffer: false,
    })
    let pending = ''
    child.stdout!.setEncoding('utf8')
    child.stdout!.on('data', (chunk: string) => {
      pending += chunk
      let nl: number
      while ((nl = pending.indexOf('\n')) >= 0) {
        const entry = parseLogLine(pending.slice(0, nl))
        pending = pending.slice(nl + 1)
        if (entry) opts.onEntry(entry)
      }
      // A line longer than any real entry is dropped rather than buffered without bound.
      if (pending.length > 4 * 64 * 1024) pending = ''
    })
    const result = await child
    if (opts.signal.aborted) return
    if (result.exitCode !== 0) throw new UnifiedLogError(`${this.executable} stream ended (${result.exitCode ?? result.shortMessage})${result.stderr ? `: ${String(result.stderr).trim().slice(0, 2000)}` : ''}`)
  }
}

/** Quotes a value for a `log` predicate (NSPredicate string literal). */
export function predicateString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
}
