import {basename} from 'node:path'
import {logTimeMs, type UnifiedLogEntry} from '../adapters/unified-log-entry.js'
import {amfiCauseOf, refusalSubject, type AmfiCause} from './amfi-messages.js'

/** The daemon as refusal lines can name it. */
export interface DaemonIdentity {
  /** Main executable, as the booted Mac sees it: `/opt/x/x.app/Contents/MacOS/x`. */
  executable: string
  /** The bundle: `/opt/x/x.app`. */
  app: string
  /** The executable's file name (CFBundleExecutable): the process name macOS logs it under. */
  name: string
  bundleId?: string
}

export interface AttributedRefusal {
  entry: UnifiedLogEntry
  cause: AmfiCause
  /** `named`: the line names the daemon; `tied`: a path-less line tied by time and process to one that does. */
  how: 'named' | 'tied'
}

/**
 * One refusal is logged by several processes within milliseconds (06 transcript: taskgated-helper,
 * amfid and the kernel within 0.5 ms); a path-less line further than this from any named line is
 * about something else.
 */
export const TIE_WINDOW_MS = 2_000

function names(subject: ReturnType<typeof refusalSubject>, daemon: DaemonIdentity): boolean | undefined {
  if (subject.path !== undefined) {
    const p = subject.path
    return p === daemon.executable || p === daemon.app || p.startsWith(`${daemon.app}/`) || basename(p) === daemon.name
  }
  if (subject.bundleId !== undefined) return subject.bundleId === daemon.bundleId
  return undefined
}

/**
 * The refusal lines about this daemon, each with its cause. Lines naming a path or bundle id count
 * when it is the daemon's. Lines naming nothing (amfid's "Restricted entitlements not validated,
 * bailing out", the kernel's "AMFI: bailing out because of restricted entitlements.") are tied to
 * the nearest line in time that names a subject, within TIE_WINDOW_MS, logged by the same process
 * (same pid when both carry one) or by the kernel, which logs every refusal; they count when that
 * line names the daemon. Entries are `log show` output, in any order.
 */
export function attributeRefusals(entries: readonly UnifiedLogEntry[], daemon: DaemonIdentity): AttributedRefusal[] {
  const lines = entries.map((entry) => ({entry, cause: amfiCauseOf(entry.message), subject: refusalSubject(entry.message), t: logTimeMs(entry.timestamp)}))
  const anchors = lines.filter((l) => names(l.subject, daemon) !== undefined)
  const result: AttributedRefusal[] = []
  for (const line of lines) {
    if (!line.cause) continue
    const named = names(line.subject, daemon)
    if (named === true) {
      result.push({entry: line.entry, cause: line.cause, how: 'named'})
      continue
    }
    if (named === false || line.t === undefined) continue
    let nearest: (typeof anchors)[number] | undefined
    let distance = Number.POSITIVE_INFINITY
    for (const a of anchors) {
      if (a.t === undefined || !sameSource(a.entry, line.entry)) continue
      const d = Math.abs(a.t - line.t)
      if (d <= TIE_WINDOW_MS && d < distance) {
        nearest = a
        distance = d
      }
    }
    if (nearest && names(nearest.subject, daemon)) result.push({entry: line.entry, cause: line.cause, how: 'tied'})
  }
  return result
}

function sameSource(a: UnifiedLogEntry, b: UnifiedLogEntry): boolean {
  if (a.process === 'kernel' || b.process === 'kernel') return true
  return a.process === b.process && (a.pid === undefined || b.pid === undefined || a.pid === b.pid)
}
