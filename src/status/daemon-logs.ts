import {open, stat} from 'node:fs/promises'
import {setTimeout as sleep} from 'node:timers/promises'
import {formatLogEntry, predicateString, type UnifiedLogAdapter} from '../adapters/unified-log.js'
import type {PrefixLayout} from '../layout/prefix-layout.js'
import {outputFiles, readInstalledPlist, tailLines, type OutputFile} from './daemon-output.js'

export interface LogsContext {
  layout: PrefixLayout
  log: UnifiedLogAdapter
  /** Lines per source. */
  lines: number
  platform?: NodeJS.Platform
  /** How far back `log show` looks. */
  minutes?: number
}

export interface LogSection {
  /** `/var/log/thed.err`, or `unified log: process == "thed"`. */
  title: string
  lines: string[]
  /** Why there are no lines: unreadable file, not macOS. */
  note?: string
}

const DEFAULT_MINUTES = 60
const POLL_MS = 250
const MAX_CHUNK = 1024 * 1024

/**
 * The unified-log predicate for the daemon's own process. The log names a process after its
 * executable's file name (CFBundleExecutable, as the install record wrote it), which may differ
 * from the daemon's name (osquery: `osqueryd`).
 */
export function processPredicate(layout: PrefixLayout): string {
  return `process == ${predicateString(layout.executableName)}`
}

/**
 * The daemon's StandardOutPath/StandardErrorPath, as its installed launchd plist names them, and on
 * macOS its unified-log lines: the last `lines` of each.
 */
export async function daemonLogs(ctx: LogsContext): Promise<LogSection[]> {
  const plist = await readInstalledPlist(ctx.layout)
  const sections: LogSection[] = []
  const files = outputFiles(plist.dict, ctx.layout)
  if (!plist.dict) sections.push({title: ctx.layout.system.launchdPlist, lines: [], note: `cannot read the launchd plist: ${plist.problem}`})
  else if (files.length === 0) sections.push({title: ctx.layout.system.launchdPlist, lines: [], note: 'the plist sets neither StandardOutPath nor StandardErrorPath: launchd discards the daemon\'s output'})
  for (const file of files) {
    const lines = await tailLines(file.path, ctx.lines)
    sections.push(lines === undefined ? {title: `${file.systemPath} (${file.key})`, lines: [], note: 'cannot be read (not written yet, or no permission)'} : {title: `${file.systemPath} (${file.key})`, lines})
  }
  const title = `unified log: ${processPredicate(ctx.layout)}`
  if ((ctx.platform ?? process.platform) !== 'darwin') {
    sections.push({title, lines: [], note: 'skipped: not macOS'})
  } else {
    try {
      const entries = await ctx.log.show({predicate: processPredicate(ctx.layout), lastMinutes: ctx.minutes ?? DEFAULT_MINUTES, maxEntries: ctx.lines})
      sections.push({title, lines: entries.map(formatLogEntry)})
    } catch (e) {
      sections.push({title, lines: [], note: (e as Error).message})
    }
  }
  return sections
}

/**
 * Follows the output files (new bytes as they are appended; a truncated file is read from its
 * start) and, on macOS, `log stream`, until `signal` aborts. Each line goes to `onLine`, prefixed
 * with where it came from.
 */
export async function followLogs(ctx: LogsContext & {signal: AbortSignal; onLine(line: string): void}): Promise<void> {
  const plist = await readInstalledPlist(ctx.layout)
  const files = outputFiles(plist.dict, ctx.layout)
  const followers = files.map((f) => followFile(f, ctx.signal, ctx.onLine))
  if ((ctx.platform ?? process.platform) === 'darwin') {
    followers.push(ctx.log.stream({predicate: processPredicate(ctx.layout), signal: ctx.signal, onEntry: (e) => ctx.onLine(`[log] ${formatLogEntry(e)}`)}))
  }
  await Promise.all(followers)
}

async function followFile(file: OutputFile, signal: AbortSignal, onLine: (line: string) => void): Promise<void> {
  let offset = await size(file.path)
  let pending = ''
  const prefix = `[${file.key === 'StandardErrorPath' ? 'err' : 'out'}] `
  while (!signal.aborted) {
    // The timers API removes its abort listener when the wait ends; one added per poll by hand piled up
    // (Node's MaxListenersExceededWarning after a few seconds of `logs -f`).
    await sleep(POLL_MS, undefined, {signal}).catch(() => undefined)
    const now = await size(file.path)
    if (now < offset) offset = 0
    if (now === offset) continue
    const length = Math.min(now - offset, MAX_CHUNK)
    const fh = await open(file.path, 'r').catch(() => undefined)
    if (!fh) continue
    try {
      const buf = Buffer.alloc(length)
      const {bytesRead} = await fh.read(buf, 0, length, offset)
      offset += bytesRead
      pending += buf.subarray(0, bytesRead).toString('utf8')
    } finally {
      await fh.close()
    }
    const parts = pending.split('\n')
    pending = parts.pop() ?? ''
    for (const line of parts) onLine(prefix + line)
  }
}

async function size(path: string): Promise<number> {
  try {
    return (await stat(path)).size
  } catch {
    return 0
  }
}
