import {predicateString, type UnifiedLogAdapter, type UnifiedLogEntry} from '../adapters/unified-log.js'
import type {PrefixLayout} from '../layout/prefix-layout.js'
import {ES_CLIENT_CONTEXT, ES_CLIENT_RESULTS, FAILURE_WORDS, NUMERIC_RESULT} from './amfi-messages.js'
import {failed, passed, skipped, type DoctorCheck} from './doctor-check.js'
import {attributeRefusals} from './log-attribution.js'

/**
 * The processes that speak when macOS refuses code at launch. The kernel's lines are many, so only
 * the refusal forms are asked for: its `mac_vnode_check_signature … validation failed fatally`
 * line has no "AMFI" in it, and AppleSystemPolicy's "ASP:" line neither.
 */
export function amfiPredicate(): string {
  const kernelForms = ['AMFI', 'mac_vnode_check_signature', 'signature not valid', 'Security policy would not allow'].map((f) => `eventMessage CONTAINS ${predicateString(f)}`)
  return `(process == "amfid" OR process == "taskgated-helper" OR process == "taskgated" OR (process == "kernel" AND (${kernelForms.join(' OR ')})))`
}

/**
 * The last `minutes` of amfid, taskgated-helper and kernel refusals of this daemon, each known
 * message translated into its cause; lines without a path are tied to it by time and process
 * (log-attribution.ts). Only macOS has a unified log.
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
  return amfiChecks(entries, layout, bundleId, minutes)
}

/** The checks for refusal lines already read (doctor's log query, or a recorded transcript). */
export function amfiChecks(entries: readonly UnifiedLogEntry[], layout: PrefixLayout, bundleId: string | undefined, minutes: number): DoctorCheck[] {
  const where = 'unified log'
  const daemon = {executable: layout.system.executable, app: layout.system.app, name: layout.executableName, ...(bundleId === undefined ? {} : {bundleId})}
  const checks: DoctorCheck[] = []
  const seen = new Set<string>()
  for (const {entry, cause, how} of attributeRefusals(entries, daemon)) {
    if (seen.has(cause.id)) continue
    seen.add(cause.id)
    const tied = how === 'tied' ? ' (no path in this line: tied to the daemon by time and process)' : ''
    checks.push(failed(cause.id, 'error', where, `${entry.timestamp} ${entry.process}: "${entry.message.slice(0, 500)}"${tied} — ${cause.cause}`, cause.fix))
  }
  if (checks.length === 0) checks.push(passed('log.amfi', where, `no code-signing refusals of ${layout.name} by amfid, taskgated-helper or the kernel in the last ${minutes} minutes`))
  return checks
}

/**
 * ES client results in the daemon's output lines, in any spelling (amfi-messages.ts); a line about
 * the ES client that reports a failure esdctl has no name for is a failure too, shown verbatim,
 * so the client is never called fine while such a line is there.
 */
export function esClientChecks(lines: readonly {text: string; where: string}[]): DoctorCheck[] {
  const checks: DoctorCheck[] = []
  const newestFirst = [...lines].reverse()
  const matched = new Set<string>()
  for (const result of ES_CLIENT_RESULTS) {
    const hit = newestFirst.find((l) => {
      const about = ES_CLIENT_CONTEXT.test(l.text) && FAILURE_WORDS.test(l.text)
      const numeric = NUMERIC_RESULT.exec(l.text)
      return result.token.test(l.text) || (about && result.words.test(l.text)) || (numeric !== null && Number(numeric[1]) === result.code)
    })
    if (!hit) continue
    matched.add(hit.text)
    checks.push(failed(result.id, 'error', hit.where, `${result.cause} (it logged: "${hit.text.trim().slice(0, 300)}")`, result.fix))
  }
  if (checks.length === 0) {
    const unknown = newestFirst.find((l) => ES_CLIENT_CONTEXT.test(l.text) && FAILURE_WORDS.test(l.text))
    if (unknown) {
      checks.push(failed('es.client-failed', 'error', unknown.where, `the daemon reported an Endpoint Security client failure esdctl has no name for: "${unknown.text.trim().slice(0, 300)}"`, 'Read the daemon\'s output around this line (`esdctl logs NAME`); es_new_client fails for a missing entitlement, Full Disk Access (TCC) or root.'))
    }
  }
  return checks
}
