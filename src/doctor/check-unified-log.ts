import {predicateString, type UnifiedLogAdapter, type UnifiedLogEntry} from '../adapters/unified-log.js'
import type {PrefixLayout} from '../layout/prefix-layout.js'
import {amfiCauseOf, ES_CLIENT_RESULTS} from './amfi-messages.js'
import {failed, passed, skipped, type DoctorCheck} from './doctor-check.js'

/** The processes that speak when macOS refuses restricted entitlements. */
export function amfiPredicate(): string {
  return `(process == "amfid" OR process == "taskgated-helper" OR (process == "kernel" AND eventMessage CONTAINS[c] "AMFI"))`
}

/** Lines about this daemon: they name its executable path, bundle id or bundle. */
function mentions(entry: UnifiedLogEntry, layout: PrefixLayout, bundleId: string | undefined): boolean {
  const m = entry.message
  return m.includes(layout.system.executable) || m.includes(layout.system.app) || (bundleId !== undefined && m.includes(bundleId))
}

/**
 * The last `minutes` of amfid, taskgated-helper and kernel AMFI lines about this daemon, each
 * known message translated into its cause. Only macOS has a unified log.
 */
export async function checkAmfiLog(layout: PrefixLayout, bundleId: string | undefined, log: UnifiedLogAdapter, platform: NodeJS.Platform, minutes: number): Promise<DoctorCheck[]> {
  const where = 'unified log'
  if (platform !== 'darwin') return [skipped('log.amfi', where, 'not macOS: there is no unified log to read for amfid, taskgated-helper or kernel AMFI messages')]
  let entries: UnifiedLogEntry[]
  try {
    entries = await log.show({predicate: amfiPredicate(), lastMinutes: minutes})
  } catch (e) {
    return [failed('log.unreadable', 'warning', where, `the unified log could not be read: ${(e as Error).message}`, 'Run esdctl doctor as root on the Mac itself.')]
  }
  const checks: DoctorCheck[] = []
  const seen = new Set<string>()
  for (const entry of entries) {
    if (!mentions(entry, layout, bundleId)) continue
    const cause = amfiCauseOf(entry.message)
    if (!cause || seen.has(cause.id)) continue
    seen.add(cause.id)
    checks.push(failed(cause.id, 'error', where, `${entry.timestamp} ${entry.process}: "${entry.message.slice(0, 500)}" — ${cause.cause}`, cause.fix))
  }
  if (checks.length === 0) checks.push(passed('log.amfi', where, `no AMFI refusals of ${layout.name} by amfid, taskgated-helper or the kernel in the last ${minutes} minutes`))
  return checks
}

/** The daemon's own unified-log lines (macOS) for es_new_client results. */
export function daemonPredicate(layout: PrefixLayout): string {
  return `process == ${predicateString(layout.name)}`
}

/** ES client results in the daemon's output lines: Full Disk Access (ERR_NOT_PERMITTED) vs root (ERR_NOT_PRIVILEGED). */
export function esClientChecks(lines: readonly {text: string; where: string}[]): DoctorCheck[] {
  const checks: DoctorCheck[] = []
  for (const result of ES_CLIENT_RESULTS) {
    const hit = [...lines].reverse().find((l) => result.pattern.test(l.text))
    if (hit) checks.push(failed(result.id, 'error', hit.where, `${result.cause} (it logged: "${hit.text.trim().slice(0, 300)}")`, result.fix))
  }
  return checks
}
