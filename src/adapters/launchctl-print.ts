import {darwinSignalName} from './launchctl-darwin-signals.js'

export type ServiceState = 'running' | 'waiting' | 'exited' | 'spawn-scheduled' | 'unknown'

export interface ServiceInfo {
  label: string
  state: ServiceState
  pid?: number
  lastExitCode?: number
  /** e.g. `killed by SIGKILL`, `exited with status 1`. */
  lastExitReason?: string
  runs?: number
  program?: string
}

/** Bigger than any real `print` of one service; anything longer is read only this far. */
const MAX_PRINT_CHARS = 256 * 1024
const MAX_INT = 0x7fffffff

/**
 * Reads the few fields of `launchctl print system/<label>` that have been stable across macOS
 * releases. Apple says the output is not an API, so this never fails: fields it cannot read are
 * left out and an unrecognised state is `unknown`. Only top-level lines count, because nested
 * blocks (endpoints, event triggers) carry their own `state =` lines.
 */
export function parseServicePrint(label: string, output: string): ServiceInfo {
  const info: ServiceInfo = {label, state: 'unknown'}
  let depth = 0
  for (const rawLine of output.slice(0, MAX_PRINT_CHARS).split('\n')) {
    const line = rawLine.trim()
    const topLevel = depth === 1
    if (line.endsWith('{')) depth++
    if (line.startsWith('}')) depth = Math.max(0, depth - 1)
    if (!topLevel) continue
    const eq = line.indexOf(' = ')
    if (eq < 0) continue
    const key = line.slice(0, eq)
    const value = line.slice(eq + 3)
    switch (key) {
      case 'state': info.state = serviceState(value); break
      case 'pid': info.pid = smallInt(value); break
      case 'runs': info.runs = smallInt(value); break
      case 'program': info.program = value; break
      case 'last exit code': readExitCode(info, value); break
      case 'last terminating signal': readSignal(info, value); break
    }
  }
  return info
}

function serviceState(text: string): ServiceState {
  switch (text) {
    case 'running': return 'running'
    case 'waiting': return 'waiting'
    // launchd says `not running` for a loaded job whose process is gone (or never started).
    case 'not running':
    case 'exited': return 'exited'
    case 'spawn scheduled': return 'spawn-scheduled'
    default: return 'unknown'
  }
}

function smallInt(text: string): number | undefined {
  if (!/^\d{1,10}$/.test(text)) return undefined
  const n = Number(text)
  return n <= MAX_INT ? n : undefined
}

/** `0`, `78: EX_CONFIG`, or `(never exited)`. */
function readExitCode(info: ServiceInfo, text: string): void {
  const m = /^(\d{1,10})(?::\s*(\S.*))?$/.exec(text)
  const code = m ? smallInt(m[1]!) : undefined
  if (code === undefined) return
  info.lastExitCode = code
  info.lastExitReason ??= m?.[2] ? `exited with status ${code} (${m[2]})` : `exited with status ${code}`
}

/** `Killed: 9`: strsignal text, then the Darwin signal number. */
function readSignal(info: ServiceInfo, text: string): void {
  const m = /:\s*(\d{1,3})$/.exec(text)
  if (!m) return
  info.lastExitReason = `killed by ${darwinSignalName(Number(m[1]))}`
}

/**
 * `launchctl print-disabled system`: lines `"label" => disabled|enabled` (macOS 13+) or
 * `=> true|false` (earlier releases). Returns label → disabled.
 */
export function parsePrintDisabled(output: string): Map<string, boolean> {
  const result = new Map<string, boolean>()
  let inDisabledBlock = false
  for (const line of output.slice(0, MAX_PRINT_CHARS).split('\n')) {
    const trimmed = line.trim()
    if (trimmed.endsWith('{')) inDisabledBlock = trimmed === 'disabled services = {'
    else if (trimmed.startsWith('}')) inDisabledBlock = false
    if (!inDisabledBlock) continue
    const m = /^"([^"]{1,1024})"\s*=>\s*(disabled|enabled|true|false)$/.exec(trimmed)
    if (m) result.set(m[1]!, m[2] === 'disabled' || m[2] === 'true')
  }
  return result
}
