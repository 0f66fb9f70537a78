import type {DaemonStatus, StatusReport} from './status-report.js'

/** The `--json` document: Ansible's `changed`/`failed`/`rc`/`msg` around the rows. */
export interface StatusJson {
  changed: false
  failed: boolean
  rc: number
  msg: string
  daemons: DaemonStatus[]
}

export function statusJson(report: StatusReport, rc: number): StatusJson {
  return {changed: false, failed: rc !== 0, rc, msg: summary(report), daemons: report.daemons}
}

/** `2 daemons: a running, b crash-looping`; a damaged install says so beside launchd's state. */
export function summary(report: StatusReport): string {
  const n = report.daemons.length
  if (n === 0) return 'no daemons installed by esdctl'
  return `${n} daemon${n === 1 ? '' : 's'}: ${report.daemons.map((d) => `${d.name} ${d.state}${d.damaged ? ' (install record damaged)' : ''}`).join(', ')}`
}

/**
 * A Jamf extension attribute is the text between `<result>` and `</result>`: exactly one line,
 * `<state> <version>` for one daemon (smart groups match on "like running" or "like 1.2."),
 * `name=<state> <version>` joined by `; ` for several. A daemon whose install record is damaged
 * reads `damaged` alone, whatever launchd says: Jamf's "like" is a substring match, so a healthy
 * group ("like running", "like 1.2.") must not take in an install only a reinstall repairs, and a
 * repair group matches "like damaged". The version is unknown then anyway (it is in the record).
 */
export function renderJamf(report: StatusReport, failure?: string): string {
  let text: string
  if (failure !== undefined) text = `error: ${failure}`
  else if (report.daemons.length === 0) text = 'not installed'
  else if (report.daemons.length === 1) text = jamfValue(report.daemons[0]!)
  else text = report.daemons.map((d) => `${d.name}=${jamfValue(d)}`).join('; ')
  return `<result>${oneLine(text)}</result>\n`
}

/** The word for a damaged install in the Jamf form (README, man page). */
const JAMF_DAMAGED = 'damaged'

function jamfValue(d: DaemonStatus): string {
  if (d.damaged) return JAMF_DAMAGED
  if (d.error !== undefined && d.state === 'unknown') return `error ${d.version ?? ''}`.trim()
  return d.version === undefined ? d.state : `${d.state} ${d.version}`
}

/** Nothing may end the element early or split the line Jamf stores. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/</g, '(').replace(/>/g, ')')
}

const COLUMNS: ReadonlyArray<readonly [string, (d: DaemonStatus) => string]> = [
  ['NAME', (d) => d.name],
  ['LABEL', (d) => d.label ?? '-'],
  ['VERSION', (d) => (d.version === undefined ? '-' : d.build !== undefined && d.build !== d.version ? `${d.version} (${d.build})` : d.version)],
  ['STATE', (d) => d.state],
  ['PID', (d) => (d.pid === undefined ? '-' : String(d.pid))],
  ['LAST EXIT', (d) => d.lastExit?.text ?? '-'],
  ['SINCE', (d) => shortTime(d.processStartedAt ?? d.installedAt)],
  ['TEAM', (d) => d.teamId ?? '-'],
  ['PROFILE EXPIRES', (d) => (d.profile ? `${d.profile.expires.slice(0, 10)}${d.profile.status === 'ok' ? '' : ` (${d.profile.status})`}` : '-')],
  ['BUNDLE', (d) => d.bundlePath ?? '-'],
]

/** The table for people, then one line per thing to act on. */
export function renderTable(report: StatusReport): string {
  if (report.daemons.length === 0) return 'No daemons installed by esdctl.\n'
  const cells = report.daemons.map((d) => COLUMNS.map(([, cell]) => cell(d)))
  const widths = COLUMNS.map(([title], i) => Math.max(title.length, ...cells.map((row) => row[i]!.length)))
  const line = (row: readonly string[]) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ') + '\n'
  let out = line(COLUMNS.map(([title]) => title)) + cells.map(line).join('')
  const notes = report.daemons.flatMap((d) => [...(d.error ? [`${d.name}: ${d.error}`] : []), ...d.warnings.map((w) => `${d.name}: ${w}`)])
  if (notes.length > 0) out += '\n' + notes.map((n) => `! ${n}\n`).join('')
  return out
}

/** `2026-01-02 10:00 UTC` from an ISO time; `-` when unknown. */
function shortTime(iso: string | undefined): string {
  if (iso === undefined) return '-'
  const t = new Date(iso)
  return Number.isNaN(t.getTime()) ? iso : `${t.toISOString().slice(0, 16).replace('T', ' ')} UTC`
}
