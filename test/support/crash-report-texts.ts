/**
 * Crash reports in the two forms macOS writes, with the fields real ones carry (DESIGN §12; the
 * keys and layout of .ips files as macOS 12–26 write them: a one-line JSON header, then a
 * pretty-printed JSON body). The shared transcripts hold no crash report, so these are written
 * here from that form; values are this test daemon's.
 */
export interface CrashFacts {
  name: string
  pid: number
  path: string
  /** `2026-03-01 10:00:05.1234 +0000` */
  time: string
  exceptionType?: string
  signal?: string
  namespace?: string
  code?: number
  indicator?: string
}

export function ipsReport(f: CrashFacts): string {
  const header = {app_name: f.name, timestamp: f.time.replace(/\.\d+ /, '.00 '), app_version: '', slice_uuid: '86100d72-5eeb-35ad-94d1-a1fe80d57bb6', build_version: '', platform: 1, bug_type: '309', os_version: 'macOS 26.2 (25C56)', roots_installed: 0, incident_id: '256DCEA1-9E89-4612-8000-F0C15B122A64', name: f.name}
  const body = {
    uptime: 4100, procRole: 'Unspecified', version: 2, userID: 0, deployVersion: 210, modelCode: 'Mac15,6',
    osVersion: {train: 'macOS 26.2', build: '25C56', releaseType: 'User'},
    captureTime: f.time, codeSigningMonitor: 2, incident: '256DCEA1-9E89-4612-8000-F0C15B122A64', pid: f.pid, translated: false, cpuType: 'ARM-64',
    procLaunch: f.time, procName: f.name, procPath: f.path, parentProc: 'launchd', parentPid: 1,
    exception: {codes: '0x0000000000000000, 0x0000000000000000', rawCodes: [0, 0], type: f.exceptionType ?? 'EXC_CRASH', signal: f.signal ?? 'SIGKILL (Code Signature Invalid)'},
    termination: {flags: 0, code: f.code ?? 1, namespace: f.namespace ?? 'CODESIGNING', indicator: f.indicator ?? 'Taskgated Invalid Signature'},
    threads: [{triggered: true, id: 1, frames: []}],
  }
  // Real bodies are pretty-printed with ` : ` separators and escaped slashes.
  const pretty = JSON.stringify(body, null, 2).replace(/": /g, '" : ').replace(/\//g, '\\/')
  return `${JSON.stringify(header)}\n${pretty}\n`
}

export function crashTextReport(f: CrashFacts): string {
  return [
    `Process:               ${f.name} [${f.pid}]`,
    `Path:                  ${f.path}`,
    `Identifier:            ${f.name}`,
    'Version:               ???',
    'Code Type:             X86-64 (Native)',
    'Parent Process:        launchd [1]',
    'Responsible:           ' + f.name + ` [${f.pid}]`,
    'User ID:               0',
    '',
    `Date/Time:             ${f.time}`,
    'OS Version:            Mac OS X 10.15.7 (19H15)',
    'Report Version:        12',
    '',
    `Exception Type:        ${f.exceptionType ?? 'EXC_CRASH'} (${f.signal ?? 'Code Signature Invalid'})`,
    'Exception Codes:       0x0000000000000000, 0x0000000000000000',
    'Exception Note:        EXC_CORPSE_NOTIFY',
    '',
    `Termination Reason:    Namespace ${f.namespace ?? 'CODESIGNING'}, Code ${f.code === undefined ? '0x1' : `0x${f.code.toString(16)}`}`,
    '',
    'kernel messages:',
    '',
    'Thread 0 Crashed:',
    '0   ???                           \t0x0000000000000000 0 + 0',
    '',
  ].join('\n')
}
