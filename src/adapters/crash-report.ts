/**
 * One crash report macOS wrote to /Library/Logs/DiagnosticReports, reduced to what says why the
 * process died. Two formats: `.ips` (macOS 12+: one JSON header line — `app_name`, `timestamp`,
 * `bug_type`, `name` — then a JSON body with `pid`, `procName`, `procPath`, `captureTime`,
 * `exception {type, signal}` and `termination {namespace, code, indicator}`), and the older
 * `.crash` text (`Process:`, `Path:`, `Date/Time:`, `Exception Type:`, `Termination Reason:`).
 * A code-signing kill reads `SIGKILL (Code Signature Invalid)` with namespace `CODESIGNING`.
 */
export interface CrashReport {
  /** The report as the booted Mac names it. */
  file: string
  format: 'ips' | 'crash'
  process?: string
  pid?: number
  path?: string
  /** As the report gives it, e.g. `2025-12-15 13:22:02.0660 +0800`. */
  time?: string
  /** `EXC_CRASH`, `EXC_BAD_ACCESS`. */
  exceptionType?: string
  /** `SIGKILL (Code Signature Invalid)`. */
  signal?: string
  /** `CODESIGNING`, `SIGNAL`, … */
  terminationNamespace?: string
  terminationCode?: number
  /** `Invalid Page`, `Launch Constraint Violation`, `Taskgated Invalid Signature`. */
  terminationIndicator?: string
  /** Killed for its code signature. */
  codeSigning: boolean
}

const MAX_FIELD_CHARS = 1024

/**
 * Reads a report's text; undefined when it is neither format (a truncated or foreign file). Never
 * throws: the body is JSON.parse'd once, inside a bounded text the caller has already cut.
 */
export function parseCrashReport(text: string, file: string): CrashReport | undefined {
  const trimmed = text.trimStart()
  if (trimmed.startsWith('{')) return parseIps(trimmed, file)
  return parseCrashText(text, file)
}

function parseIps(text: string, file: string): CrashReport | undefined {
  const newline = text.indexOf('\n')
  if (newline < 0) return undefined
  const header = json(text.slice(0, newline))
  const body = json(text.slice(newline + 1)) ?? fieldsOf(text.slice(newline + 1))
  if (!header) return undefined
  const report: CrashReport = {file, format: 'ips', codeSigning: false}
  const process = str(body?.procName) ?? str(header.app_name) ?? str(header.name)
  if (process !== undefined) report.process = process
  const pid = body?.pid
  if (typeof pid === 'number' && Number.isInteger(pid) && pid >= 0) report.pid = pid
  const path = str(body?.procPath)
  if (path !== undefined) report.path = path
  const time = str(body?.captureTime) ?? str(header.timestamp)
  if (time !== undefined) report.time = time
  const exception = obj(body?.exception)
  const type = str(exception?.type)
  if (type !== undefined) report.exceptionType = type
  const signal = str(exception?.signal)
  if (signal !== undefined) report.signal = signal
  const termination = obj(body?.termination)
  const namespace = str(termination?.namespace)
  if (namespace !== undefined) report.terminationNamespace = namespace
  if (typeof termination?.code === 'number' && Number.isInteger(termination.code)) report.terminationCode = termination.code
  const indicator = str(termination?.indicator)
  if (indicator !== undefined) report.terminationIndicator = indicator
  report.codeSigning = isCodeSigning(report)
  return report
}

const TEXT_FIELDS: ReadonlyArray<readonly [RegExp, (r: CrashReport, m: RegExpExecArray) => void]> = [
  [/^Process:\s+(.+?)(?:\s+\[(\d{1,10})\])?$/, (r, m) => {
    r.process = m[1]!.slice(0, MAX_FIELD_CHARS)
    if (m[2] !== undefined) r.pid = Number(m[2])
  }],
  [/^Path:\s+(.+)$/, (r, m) => (r.path = m[1]!.slice(0, MAX_FIELD_CHARS))],
  [/^Date\/Time:\s+(.+)$/, (r, m) => (r.time = m[1]!.slice(0, MAX_FIELD_CHARS))],
  // `EXC_CRASH (Code Signature Invalid)` on older releases, `EXC_CRASH (SIGKILL (Code Signature Invalid))` later.
  [/^Exception Type:\s+(\S+)(?:\s+\((.+)\))?$/, (r, m) => {
    r.exceptionType = m[1]!
    if (m[2] !== undefined) r.signal = m[2].slice(0, MAX_FIELD_CHARS)
  }],
  // `Namespace CODESIGNING, Code 0x1` or `Namespace CODESIGNING, Code 2, Invalid Page`.
  [/^Termination Reason:\s+Namespace (\S+?),\s*Code (0x[0-9a-fA-F]{1,16}|\d{1,16})(?:,\s*(.+))?$/, (r, m) => {
    r.terminationNamespace = m[1]!
    r.terminationCode = Number(m[2]!)
    if (m[3] !== undefined) r.terminationIndicator = m[3].slice(0, MAX_FIELD_CHARS)
  }],
]

function parseCrashText(text: string, file: string): CrashReport | undefined {
  const report: CrashReport = {file, format: 'crash', codeSigning: false}
  let found = false
  for (const line of text.split('\n')) {
    const trimmed = line.trim()
    for (const [pattern, apply] of TEXT_FIELDS) {
      const m = pattern.exec(trimmed)
      if (m) {
        apply(report, m)
        found = true
      }
    }
  }
  if (!found) return undefined
  report.codeSigning = isCodeSigning(report)
  return report
}

function isCodeSigning(r: CrashReport): boolean {
  return r.terminationNamespace === 'CODESIGNING' || /Code Signature Invalid/i.test(r.signal ?? '')
}

/**
 * A body cut short (larger than the bytes read) is no longer JSON; its first keys still are, and
 * `exception`/`termination` are small flat objects near the top.
 */
function fieldsOf(body: string): Record<string, unknown> {
  const fields: Record<string, unknown> = {}
  for (const key of ['exception', 'termination']) {
    const m = new RegExp(`"${key}"\\s*:\\s*(\\{[^{}]{0,4096}\\})`).exec(body)
    const value = m ? json(m[1]!) : undefined
    if (value) fields[key] = value
  }
  for (const key of ['procName', 'procPath', 'captureTime']) {
    const m = new RegExp(`"${key}"\\s*:\\s*("(?:[^"\\\\]|\\\\.){0,1024}")`).exec(body)
    if (!m) continue
    try {
      fields[key] = JSON.parse(m[1]!) as unknown
    } catch {
      // An escape JSON does not know: the field is left out.
    }
  }
  const pid = /"pid"\s*:\s*(\d{1,10})\b/.exec(body)
  if (pid) fields.pid = Number(pid[1])
  return fields
}

function json(text: string): Record<string, unknown> | undefined {
  try {
    return obj(JSON.parse(text))
  } catch {
    return undefined
  }
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v.slice(0, MAX_FIELD_CHARS) : undefined
}
