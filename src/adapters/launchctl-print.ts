import {darwinSignalName} from './launchctl-darwin-signals.js'
import {exitReason} from './launchd-exit-reasons.js'

/**
 * launchd's `state` word, normalised: `exited` is `not running`, `spawn-scheduled` a throttled
 * respawn, `stopping` is `SIGTERMed` (draining after a bootout or kickstart -k), `spawning` is
 * `xpcproxy` (being exec'd). `unknown` is any other word; `stateText` keeps it verbatim.
 */
export type ServiceState = 'running' | 'waiting' | 'exited' | 'spawn-scheduled' | 'stopping' | 'spawning' | 'unknown'

export interface ServiceInfo {
  label: string
  state: ServiceState
  /** The `state` value exactly as launchd printed it, e.g. `SIGTERMed`. */
  stateText?: string
  /** `job state` (macOS 13+), verbatim: `running`, `exited`, `spawn failed`, … */
  jobState?: string
  pid?: number
  lastExitCode?: number
  /** Darwin signal name from `last terminating signal`, e.g. `SIGKILL`. */
  lastSignal?: string
  /** `last exit reason`, verbatim: `OS_REASON_CODESIGNING`, `JETSAM_REASON_MEMORY_PERPROCESSLIMIT`, … */
  exitReason?: string
  /** In words, the most telling of the three: exit reason, then signal, then exit code. */
  lastExitReason?: string
  runs?: number
  program?: string
}

/** Bigger than any real `print` of one service; anything longer is read only this far. */
const MAX_PRINT_CHARS = 256 * 1024
const MAX_INT = 0x7fffffff
const MAX_VALUE_CHARS = 256

/** Every `state` word seen in real `launchctl print` output (shared/fixtures/macos-transcripts). */
const STATES: ReadonlyMap<string, ServiceState> = new Map([
  ['running', 'running'],
  ['waiting', 'waiting'],
  // launchd says `not running` for a loaded job whose process is gone (or never started).
  ['not running', 'exited'],
  ['exited', 'exited'],
  ['spawn scheduled', 'spawn-scheduled'],
  ['SIGTERMed', 'stopping'],
  ['xpcproxy', 'spawning'],
])

/**
 * Reads the few fields of `launchctl print <domain>/<label>` that have been stable across macOS
 * releases: state, pid, runs, program, last exit code, last terminating signal, last exit reason
 * and job state. Apple says the output is not an API, so this never fails: fields it cannot read
 * are left out and an unrecognised state is `unknown` with its text kept. Only top-level lines
 * count, because nested blocks (endpoints, coalitions) carry their own `state =` lines; text
 * without any block (a trimmed fragment) is read as top level. Tabs or spaces both indent.
 */
export function parseServicePrint(label: string, output: string): ServiceInfo {
  const info: ServiceInfo = {label, state: 'unknown'}
  const fields = new Map<string, string>()
  let depth = 0
  let sawBlock = false
  for (const rawLine of output.slice(0, MAX_PRINT_CHARS).split('\n')) {
    const line = rawLine.trim()
    const topLevel = depth === 1 || (depth === 0 && !sawBlock)
    if (line.endsWith('{')) {
      depth++
      sawBlock = true
    }
    if (line.startsWith('}')) depth = Math.max(0, depth - 1)
    if (!topLevel) continue
    const eq = line.indexOf(' = ')
    if (eq < 0 || line.endsWith('{')) continue
    fields.set(line.slice(0, eq), line.slice(eq + 3, eq + 3 + MAX_VALUE_CHARS))
  }
  const state = fields.get('state')
  if (state !== undefined) {
    info.stateText = state
    info.state = STATES.get(state) ?? 'unknown'
  }
  const jobState = fields.get('job state')
  if (jobState !== undefined) info.jobState = jobState
  const pid = smallInt(fields.get('pid'))
  if (pid !== undefined) info.pid = pid
  const runs = smallInt(fields.get('runs'))
  if (runs !== undefined) info.runs = runs
  const program = fields.get('program')
  if (program !== undefined) info.program = program
  readExitCode(info, fields.get('last exit code'))
  readSignal(info, fields.get('last terminating signal'))
  readExitReason(info, fields.get('last exit reason'))
  return info
}

function smallInt(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,10}$/.test(text)) return undefined
  const n = Number(text)
  return n <= MAX_INT ? n : undefined
}

/** `0`, `78: EX_CONFIG`, or `(never exited)`. */
function readExitCode(info: ServiceInfo, text: string | undefined): void {
  const m = text === undefined ? null : /^(\d{1,10})(?::\s*(\S.*))?$/.exec(text)
  const code = m ? smallInt(m[1]!) : undefined
  if (code === undefined) return
  info.lastExitCode = code
  info.lastExitReason = m?.[2] ? `exited with status ${code} (${m[2]})` : `exited with status ${code}`
}

/** `Killed: 9`: strsignal text, then the Darwin signal number. */
function readSignal(info: ServiceInfo, text: string | undefined): void {
  const m = text === undefined ? null : /:\s*(\d{1,3})$/.exec(text)
  if (!m) return
  info.lastSignal = darwinSignalName(Number(m[1]))
  info.lastExitReason = `killed by ${info.lastSignal}`
}

/** `OS_REASON_CODESIGNING`: the kernel's reason outranks the signal and exit code it caused. */
function readExitReason(info: ServiceInfo, text: string | undefined): void {
  if (text === undefined || !/^[A-Z][A-Z0-9_]{0,80}$/.test(text)) return
  info.exitReason = text
  const reason = exitReason(text)
  info.lastExitReason = reason ? `${reason.words} (${text})` : text
}

/**
 * `launchctl print-disabled system`: lines `"label" => disabled|enabled` (macOS 13+) or
 * `=> true|false` (earlier releases) inside `disabled services = { … }`. Text with no block at all
 * (a filtered or trimmed listing) is read line by line. Returns label → disabled.
 */
export function parsePrintDisabled(output: string): Map<string, boolean> {
  const result = new Map<string, boolean>()
  const text = output.slice(0, MAX_PRINT_CHARS)
  let inDisabledBlock = !/\{\s*$/m.test(text)
  for (const line of text.split('\n')) {
    const trimmed = line.trim()
    if (trimmed.endsWith('{')) inDisabledBlock = trimmed === 'disabled services = {'
    else if (trimmed.startsWith('}')) inDisabledBlock = false
    if (!inDisabledBlock) continue
    const m = /^"([^"]{1,1024})"\s*=>\s*(disabled|enabled|true|false)$/.exec(trimmed)
    if (m) result.set(m[1]!, m[2] === 'disabled' || m[2] === 'true')
  }
  return result
}
