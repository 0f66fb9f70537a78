import type {FakeLogEntry} from './fake-log.js'

/** Where each process that reports a refusal lives, and the pid the double gives it. */
const PROCESSES: Readonly<Record<string, {image: string; pid: number; subsystem?: string; category?: string}>> = {
  kernel: {image: '/kernel', pid: 0},
  amfid: {image: '/usr/libexec/amfid', pid: 312, subsystem: 'com.apple.MobileFileIntegrity', category: 'amfid'},
  'taskgated-helper': {image: '/usr/libexec/taskgated-helper', pid: 1190, subsystem: 'com.apple.ManagedClient', category: 'ProvisioningProfiles'},
}

const TYPES: Readonly<Record<string, string>> = {error: 'Error', info: 'Info', default: 'Default', debug: 'Debug', fault: 'Fault'}

/** `2024-01-10 14:36:03.306061 -0800` (Console) → `2024-01-10 14:36:03.306061-0800` (ndjson). */
function ndjsonTime(console: string): string {
  return console.replace(/ ([+-]\d{4})$/, '$1')
}

/** One entry of `process` (its real image path and a fixed pid) in `log`'s ndjson fields. */
export function processEntry(process: string, eventMessage: string, timestamp = '2026-03-01 10:00:00.123456+0000', type = 'Default'): FakeLogEntry {
  return entry(process, timestamp, eventMessage, type)
}

function entry(process: string, timestamp: string, eventMessage: string, type: string): FakeLogEntry {
  const p = PROCESSES[process] ?? {image: `/usr/libexec/${process}`, pid: 999}
  return {
    timestamp, processImagePath: p.image, processID: p.pid, eventMessage, messageType: type,
    ...(p.subsystem ? {subsystem: p.subsystem} : {}), ...(p.category ? {category: p.category} : {}),
  }
}

/**
 * A Console copy (`type<TAB>timestamp<TAB>process<TAB>message`, continuation lines following, as
 * in 06-log-amfi-restricted-entitlements.txt) as the entries `log show --style ndjson` prints for
 * the same events. `replace` substitutes the poster's placeholders (e.g. `<app-name>`).
 */
export function consoleCopyEntries(text: string, replace: ReadonlyArray<readonly [string, string]> = []): FakeLogEntry[] {
  const entries: FakeLogEntry[] = []
  for (const raw of text.split('\n')) {
    if (raw.startsWith('# ')) continue
    const line = replace.reduce((l, [from, to]) => l.split(from).join(to), raw)
    const m = /^(error|info|default|debug|fault)\t([^\t]+)\t([^\t]+)\t(.*)$/.exec(line)
    if (m) entries.push(entry(m[3]!, ndjsonTime(m[2]!), m[4]!, TYPES[m[1]!]!))
    else if (entries.length > 0 && line !== '') entries.at(-1)!.eventMessage += `\n${line}`
  }
  return entries
}

/**
 * Kernel eventMessages copied without their metadata (07-log-amfi-es-daemon-sonoma.txt): each
 * `AMFI:` line starts a message, other lines continue it. The poster kept no timestamps, so all
 * get `at`: they are one refusal.
 */
export function kernelMessageEntries(text: string, at: string, replace: ReadonlyArray<readonly [string, string]> = []): FakeLogEntry[] {
  const entries: FakeLogEntry[] = []
  for (const raw of text.split('\n')) {
    if (raw.startsWith('# ') || raw.startsWith('$ ')) break
    const line = replace.reduce((l, [from, to]) => l.split(from).join(to), raw)
    if (line.startsWith('AMFI:')) entries.push(entry('kernel', at, line, 'Default'))
    else if (entries.length > 0 && line !== '') entries.at(-1)!.eventMessage += `\n${line}`
  }
  return entries
}
