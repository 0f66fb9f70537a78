import {lstat, open, readdir} from 'node:fs/promises'
import {join} from 'node:path'
import {parseCrashReport, type CrashReport} from './crash-report.js'

export {parseCrashReport, type CrashReport} from './crash-report.js'

export interface CrashReportOptions {
  /** The directory to read, rebased under `--root` (PrefixLayout.diagnosticReportsDir). */
  directory: string
  /** The same directory as the booted Mac names it, for the reports' `file`. */
  systemDirectory: string
}

/** A Mac keeps many reports; a daemon's newest few say what is happening now. */
export const MAX_REPORTS = 10
/** The header and exception of a report come first; real .ips files are tens to hundreds of KiB. */
export const MAX_REPORT_BYTES = 2 * 1024 * 1024
/** A directory listing read no further than this many names. */
const MAX_NAMES = 20_000

export interface RecentReports {
  /** Newest first. */
  reports: CrashReport[]
  /** Files that matched the name but could not be read or parsed, with why. */
  unreadable: {file: string; why: string}[]
}

/**
 * The one place esdctl reads crash reports. macOS names them `<process>-<date>-<time>.ips`
 * (`.crash` before macOS 12, `<process>_<date>…crash`); only regular files, no symlinks followed.
 */
export class CrashReportAdapter {
  constructor(private readonly opts: CrashReportOptions) {}

  /** The newest `max` reports of `processName` (by modification time), each read to at most `maxBytes`. */
  async recent(processName: string, opts: {max?: number; maxBytes?: number} = {}): Promise<RecentReports> {
    const max = Math.max(0, Math.min(opts.max ?? MAX_REPORTS, 100))
    const maxBytes = Math.max(1, opts.maxBytes ?? MAX_REPORT_BYTES)
    let names: string[]
    try {
      names = (await readdir(this.opts.directory)).slice(0, MAX_NAMES)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {reports: [], unreadable: []}
      throw e
    }
    const ours = names.filter((n) => isReportOf(n, processName))
    const dated: {name: string; mtimeMs: number}[] = []
    for (const name of ours) {
      try {
        const st = await lstat(join(this.opts.directory, name))
        if (st.isFile()) dated.push({name, mtimeMs: st.mtimeMs})
      } catch {
        // Rotated away between the listing and now.
      }
    }
    dated.sort((a, b) => b.mtimeMs - a.mtimeMs)
    const result: RecentReports = {reports: [], unreadable: []}
    for (const {name} of dated.slice(0, max)) {
      const file = join(this.opts.systemDirectory, name)
      try {
        const report = parseCrashReport(await readHead(join(this.opts.directory, name), maxBytes), file)
        if (report) result.reports.push(report)
        else result.unreadable.push({file, why: 'neither an .ips (JSON header line and body) nor a .crash text report'})
      } catch (e) {
        result.unreadable.push({file, why: (e as NodeJS.ErrnoException).code ?? (e as Error).message})
      }
    }
    return result
  }
}

function isReportOf(fileName: string, processName: string): boolean {
  if (!fileName.endsWith('.ips') && !fileName.endsWith('.crash')) return false
  return fileName.startsWith(`${processName}-`) || fileName.startsWith(`${processName}_`) || fileName.startsWith(`${processName}.`)
}

async function readHead(path: string, maxBytes: number): Promise<string> {
  const fh = await open(path, 'r')
  try {
    const buf = Buffer.alloc(maxBytes)
    const {bytesRead} = await fh.read(buf, 0, maxBytes, 0)
    return buf.subarray(0, bytesRead).toString('utf8')
  } finally {
    await fh.close()
  }
}
