import type {CrashReport, CrashReportAdapter} from '../adapters/crash-reports.js'
import type {PrefixLayout} from '../layout/prefix-layout.js'
import {failed, passed, type DoctorCheck} from './doctor-check.js'

const VERIFY = 'Run `esdctl verify` on the installed bundle for the cause.'

/**
 * What a code-signing kill's `termination.indicator` says happened (seen in real reports: `Invalid
 * Page`, `Launch Constraint Violation`, `Taskgated Invalid Signature`).
 */
const INDICATORS: Readonly<Record<string, string>> = {
  'Invalid Page': 'a page of the executable no longer matched its signature when it was loaded: the file was changed after signing, or overwritten in place so the kernel kept the old signature for its inode; install a freshly signed copy (a new file, renamed into place)',
  'Launch Constraint Violation': 'a launch constraint was violated: the executable is not the code launchd or the system expects for this job (rebuilt or replaced since the job was registered); reinstall it and bootstrap the job again',
  'Taskgated Invalid Signature': 'taskgated refused the signature: restricted entitlements without a provisioning profile that allows them, or an ad-hoc signature claiming them',
}

function describe(r: CrashReport): string {
  const when = [r.time, r.pid === undefined ? undefined : `pid ${r.pid}`].filter(Boolean).join(', ')
  const exception = r.exceptionType ? `${r.exceptionType}${r.signal ? ` (${r.signal})` : ''}` : r.signal ?? 'no exception recorded'
  const termination = r.terminationNamespace ? `, termination namespace ${r.terminationNamespace}${r.terminationCode === undefined ? '' : ` code ${r.terminationCode}`}${r.terminationIndicator ? ` (${r.terminationIndicator})` : ''}` : ''
  return `${r.file}${when ? ` (${when})` : ''}: ${exception}${termination}`
}

/**
 * A report's time as milliseconds since the epoch, or undefined when it is not in the form macOS
 * writes: `2026-03-01 10:00:05.1234 +0000` (.ips `captureTime`/`timestamp`, .crash `Date/Time`).
 */
export function crashTimeMs(time: string | undefined): number | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d+))? ([+-]\d{2})(\d{2})$/.exec(time?.trim() ?? '')
  if (!m) return undefined
  const ms = Date.parse(`${m[1]}T${m[2]}.${(m[3] ?? '0').slice(0, 3).padEnd(3, '0')}${m[4]}:${m[5]}`)
  return Number.isNaN(ms) ? undefined : ms
}

/**
 * The daemon's newest crash reports (CrashReportAdapter: bounded in count and bytes), explained:
 * a code-signing kill is an error with what its indicator means; another crash is a warning.
 * `installedAt` (the receipt's, ISO 8601) splits them: a report dated before it is about code that
 * install or upgrade replaced, so it is history (one info check), never an error the current code
 * could fix; a report whose date cannot be read is judged as current, since it may be.
 */
export async function checkCrashReports(layout: PrefixLayout, reports: CrashReportAdapter, installedAt?: string): Promise<DoctorCheck[]> {
  const where = layout.system.diagnosticReportsDir
  let recent
  try {
    // macOS names a report after the process, i.e. the executable's file name (CFBundleExecutable).
    recent = await reports.recent(layout.executableName)
  } catch (e) {
    return [failed('crash.unreadable', 'warning', where, `crash reports could not be listed: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'Run esdctl doctor as root.')]
  }
  const checks: DoctorCheck[] = []
  const since = installedAt === undefined ? Number.NaN : Date.parse(installedAt)
  const isHistory = (r: CrashReport) => {
    const t = crashTimeMs(r.time)
    return t !== undefined && t < since
  }
  const history = recent.reports.filter(isHistory)
  const current = recent.reports.filter((r) => !isHistory(r))
  const signing = current.filter((r) => r.codeSigning)
  if (signing.length > 0) {
    const newest = signing[0]!
    const indicator = newest.terminationIndicator ? INDICATORS[newest.terminationIndicator] : undefined
    checks.push(failed('crash.code-signing', 'error', newest.file,
      `macOS killed ${layout.name} for its code signature (${signing.length} of its ${current.length} newest crash reports since it was installed): ${describe(newest)}${indicator ? ` — ${indicator}` : ''}`,
      `${VERIFY} Then install a correctly signed build with \`esdctl upgrade\`.`))
  }
  const other = current.find((r) => !r.codeSigning)
  if (other && signing.length === 0) {
    checks.push(failed('crash.other', 'warning', other.file, `${layout.name} crashed: ${describe(other)}`, `Read the report (${other.file}) and the daemon's output (\`esdctl logs ${layout.name}\`).`))
  }
  for (const u of recent.unreadable.slice(0, 3)) checks.push(failed('crash.unreadable', 'warning', u.file, `crash report could not be read: ${u.why}`, 'Run esdctl doctor as root, or open the report in Console.'))
  if (history.length > 0) {
    const killed = history.filter((r) => r.codeSigning).length
    checks.push(passed('crash.before-install', history[0]!.file, `${history.length} crash report${history.length === 1 ? '' : 's'} of ${layout.name} (${killed} code-signing kill${killed === 1 ? '' : 's'}) predate this install (installed ${installedAt}): history of the code it replaced, not held against the installed one; newest: ${describe(history[0]!)}`))
  }
  if (checks.every((c) => c.outcome === 'passed')) {
    checks.push(passed('crash.none', where, history.length > 0 ? `no crash reports of ${layout.name} in ${where} since it was installed` : `no crash reports of ${layout.name} in ${where}`))
  }
  return checks
}
