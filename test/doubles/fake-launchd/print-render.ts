import type {DisabledStore} from './disabled-store.js'
import type {SupervisedJob} from './supervised-job.js'

/**
 * How launchd (via strsignal on macOS) names the signals a test daemon can die of, with the
 * Darwin numbers launchd prints (Linux numbers differ for several of them).
 */
const DARWIN_SIGNAL_TEXT: Readonly<Record<string, readonly [string, number]>> = {
  SIGHUP: ['Hangup', 1],
  SIGINT: ['Interrupt', 2],
  SIGQUIT: ['Quit', 3],
  SIGABRT: ['Abort trap', 6],
  SIGKILL: ['Killed', 9],
  SIGBUS: ['Bus error', 10],
  SIGSEGV: ['Segmentation fault', 11],
  SIGPIPE: ['Broken pipe', 13],
  SIGALRM: ['Alarm clock', 14],
  SIGTERM: ['Terminated', 15],
  SIGUSR1: ['User defined signal 1', 30],
  SIGUSR2: ['User defined signal 2', 31],
}

/** The shape of `launchctl print system/<label>`: tab-indented `key = value` lines in braces. */
export function renderServicePrint(job: SupervisedJob): string {
  const def = job.definition
  const lines = [
    `system/${def.label} = {`,
    `\tactive count = ${job.pid === undefined ? 0 : 1}`,
    `\tpath = ${def.plistPath}`,
    `\ttype = LaunchDaemon`,
    `\tstate = ${job.state}`,
    '',
    `\tprogram = ${def.program}`,
    `\targuments = {`,
    ...def.argv.map((a) => `\t\t${a}`),
    `\t}`,
    '',
    `\tdefault environment = {`,
    `\t\tPATH => /usr/bin:/bin:/usr/sbin:/sbin`,
    `\t}`,
    '',
    `\tdomain = system`,
    `\tminimum runtime = ${def.throttleIntervalMs / 1000}`,
    `\texit timeout = ${def.exitTimeOutMs / 1000}`,
    `\truns = ${job.runs}`,
  ]
  if (job.pid !== undefined) lines.push(`\tpid = ${job.pid}`)
  const exit = job.lastExit
  if (job.exitReason !== undefined) {
    // A kernel kill: real launchd prints the reason and no terminating signal (04 transcript).
    lines.push(`\tlast exit reason = ${job.exitReason}`)
  } else if (exit?.signal !== undefined) {
    const [text, number] = DARWIN_SIGNAL_TEXT[exit.signal] ?? [exit.signal, 0]
    lines.push(`\tlast terminating signal = ${text}: ${number}`)
  } else {
    lines.push(`\tlast exit code = ${exit?.code === undefined ? '(never exited)' : exitCodeText(exit.code)}`)
  }
  if (job.jobState !== undefined) lines.push(`\tjob state = ${job.jobState}`)
  // Nested blocks carry their own `state =` lines in real output; readers must not mistake them.
  lines.push('', `\tendpoints = {`, `\t\t"${def.label}.xpc" = {`, `\t\t\tport = 0x0`, `\t\t\tactive = 0`, `\t\t\tstate = active`, `\t\t}`, `\t}`, '}')
  return lines.join('\n') + '\n'
}

function exitCodeText(code: number): string {
  return code === 78 ? '78: EX_CONFIG' : String(code)
}

/** `launchctl print-disabled system`, in the `enabled`/`disabled` words of macOS 13 and later. */
export function renderPrintDisabled(store: DisabledStore): string {
  const lines = ['disabled services = {']
  for (const [label, disabled] of store.entries()) lines.push(`\t"${label}" => ${disabled ? 'disabled' : 'enabled'}`)
  lines.push('}', '', 'login item associations = {', '}')
  return lines.join('\n') + '\n'
}
