import type {DoctorReport} from './doctor-report.js'

const MARK = {passed: 'ok  ', failed: 'FAIL', skipped: 'skip'} as const

/** One line per check, failures with their fix indented below. */
export function renderDoctorText(report: DoctorReport): string {
  const out: string[] = []
  if (report.registry) out.push(`[FAIL] ${report.registry.id}: ${report.registry.message}`, `       fix: ${report.registry.fix ?? ''}`, '')
  for (const name of report.notInstalled) out.push(`${name}: not installed by esdctl (no entry in its registry)`)
  if (report.daemons.length === 0 && report.notInstalled.length === 0) out.push('No daemons installed by esdctl.')
  for (const d of report.daemons) {
    out.push(`${d.name} (${d.label})`)
    for (const c of d.checks) {
      const mark = c.outcome === 'failed' && c.severity === 'warning' ? 'warn' : MARK[c.outcome]
      out.push(`  [${mark}] ${c.id}: ${c.message}`)
      if (c.outcome === 'failed' && c.fix) out.push(`         fix: ${c.fix}`)
    }
    const warnings = d.checks.filter((c) => c.outcome === 'failed' && c.severity === 'warning').length
    const noted = warnings === 0 ? '' : `; ${warnings} warning${warnings === 1 ? '' : 's'} above (warn)`
    out.push(d.ok ? `  → no error found${noted}` : `  → problems found: see FAIL above${noted}`, '')
  }
  return out.join('\n') + '\n'
}
