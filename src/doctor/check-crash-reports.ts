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
 * The daemon's newest crash reports (CrashReportAdapter: bounded in count and bytes), explained:
 * a code-signing kill is an error with what its indicator means; another crash is a warning.
 */
export async function checkCrashReports(layout: PrefixLayout, reports: CrashReportAdapter): Promise<DoctorCheck[]> {
  const where = layout.system.diagnosticReportsDir
  let recent
  try {
    // macOS names a report after the process, i.e. the executable's file name (CFBundleExecutable).
    recent = await reports.recent(layout.executableName)
  } catch (e) {
    return [failed('crash.unreadable', 'warning', where, `crash reports could not be listed: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'Run esdctl doctor as root.')]
  }
  const checks: DoctorCheck[] = []
  const signing = recent.reports.filter((r) => r.codeSigning)
  if (signing.length > 0) {
    const newest = signing[0]!
    const indicator = newest.terminationIndicator ? INDICATORS[newest.terminationIndicator] : undefined
    checks.push(failed('crash.code-signing', 'error', newest.file,
      `macOS killed ${layout.name} for its code signature (${signing.length} of its ${recent.reports.length} newest crash reports): ${describe(newest)}${indicator ? ` — ${indicator}` : ''}`,
      `${VERIFY} Then install a correctly signed build with \`esdctl upgrade\`.`))
  }
  const other = recent.reports.find((r) => !r.codeSigning)
  if (other && signing.length === 0) {
    checks.push(failed('crash.other', 'warning', other.file, `${layout.name} crashed: ${describe(other)}`, `Read the report (${other.file}) and the daemon's output (\`esdctl logs ${layout.name}\`).`))
  }
  for (const u of recent.unreadable.slice(0, 3)) checks.push(failed('crash.unreadable', 'warning', u.file, `crash report could not be read: ${u.why}`, 'Run esdctl doctor as root, or open the report in Console.'))
  if (checks.length === 0) checks.push(passed('crash.none', where, `no crash reports of ${layout.name} in ${where}`))
  return checks
}
