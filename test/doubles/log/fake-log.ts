import {chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

/** What the fake `log` prints, one entry per ndjson line, in the fields real `log --style ndjson` uses. */
export interface FakeLogEntry {
  timestamp: string
  processImagePath: string
  processID: number
  eventMessage: string
  subsystem?: string
  category?: string
  messageType?: string
}

export interface FakeLog {
  /** Executable fake `log`; hand it to `new UnifiedLogAdapter({executable})`. */
  readonly logPath: string
  /** argv of every call so far. */
  calls(): string[][]
  remove(): void
}

export const ENTRIES_NAME = 'entries.json'
export const CALLS_NAME = 'calls.jsonl'

/**
 * A stand-in for macOS's `/usr/bin/log`: `show` prints the given entries whose process the
 * predicate names (`process == "amfid"`; for the kernel only those containing one of the
 * predicate's `eventMessage CONTAINS "…"` strings, when it has any), as real
 * `log show --style ndjson` would, then exits;
 * `stream` prints them and keeps running until it is killed. `exitCode` makes every call fail.
 */
export function createFakeLog(entries: FakeLogEntry[], opts: {exitCode?: number} = {}): FakeLog {
  const dir = mkdtempSync(join(tmpdir(), 'fake-log-'))
  writeFileSync(join(dir, ENTRIES_NAME), JSON.stringify({entries, exitCode: opts.exitCode ?? 0}))
  const logPath = join(dir, 'log')
  const cli = pathToFileURL(fileURLToPath(new URL('./log-cli.js', import.meta.url))).href
  writeFileSync(logPath, `#!/usr/bin/env node\nimport(${JSON.stringify(cli)}).then((m) => m.main(${JSON.stringify(dir)}))\n`)
  chmodSync(logPath, 0o755)
  return {
    logPath,
    calls: () => {
      try {
        return readFileSync(join(dir, CALLS_NAME), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as string[])
      } catch {
        return []
      }
    },
    remove: () => rmSync(dir, {recursive: true, force: true}),
  }
}

export {consoleCopyEntries, kernelMessageEntries, processEntry} from './transcript-entries.js'
