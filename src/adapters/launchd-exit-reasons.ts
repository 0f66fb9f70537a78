/**
 * The names launchd prints after `last exit reason =`: the kernel's exit-reason namespaces
 * (`OS_REASON_*`, xnu `sys/reason.h`) and, for memory kills, jetsam's own reasons
 * (`JETSAM_REASON_*`, xnu `sys/kern_memorystatus.h`). launchd records them when the kernel, not
 * the process, ended it; a code-signing kill shows only here (no `last terminating signal`).
 */
export interface ExitReason {
  /** What happened, in words an admin can act on. */
  words: string
  /** Where to look next. */
  next: string
  /** The kernel refused the code for its signature: `esdctl verify` explains why. */
  codeSigning: boolean
}

const VERIFY = 'run `esdctl verify` on the bundle and `esdctl doctor` for the cause'

const REASONS: ReadonlyMap<string, ExitReason> = new Map([
  ['OS_REASON_CODESIGNING', {words: 'macOS killed it for its code signature', next: `AMFI refused the signature or a restricted entitlement the provisioning profile does not authorise; ${VERIFY}`, codeSigning: true}],
  ['OS_REASON_TCC', {words: 'macOS killed it for a privacy (TCC) violation', next: 'it used a protected resource without the grant; deploy the Full Disk Access profile from `esdctl pppc`', codeSigning: false}],
  ['OS_REASON_DYLD', {words: 'dyld could not load it', next: 'a library it links is missing, for another architecture, or not signed by the same team; read the crash report in /Library/Logs/DiagnosticReports', codeSigning: false}],
  ['OS_REASON_EXEC', {words: 'the kernel could not exec it', next: 'the executable is missing, not executable, or for another CPU; run `esdctl doctor`', codeSigning: false}],
  ['OS_REASON_JETSAM', {words: 'macOS killed it under memory pressure (jetsam)', next: 'it used more memory than the system allows a daemon', codeSigning: false}],
  ['OS_REASON_SIGNAL', {words: 'it was killed by a signal', next: 'read its output with `esdctl logs`', codeSigning: false}],
  ['OS_REASON_GUARD', {words: 'macOS killed it for a guard violation (a misused guarded resource)', next: 'read the crash report in /Library/Logs/DiagnosticReports', codeSigning: false}],
  ['OS_REASON_SECURITY', {words: 'macOS killed it for a security policy violation', next: VERIFY, codeSigning: false}],
  ['OS_REASON_SANDBOX', {words: 'the sandbox killed it', next: 'read the unified log for Sandbox denials', codeSigning: false}],
  ['OS_REASON_ENDPOINTSECURITY', {words: 'Endpoint Security killed it (an ES client missed a deadline or was terminated)', next: 'read its output with `esdctl logs`: an ES client that does not answer AUTH events in time is killed', codeSigning: false}],
  ['OS_REASON_WATCHDOG', {words: 'the watchdog killed it (it stopped responding)', next: 'read the crash report in /Library/Logs/DiagnosticReports', codeSigning: false}],
  ['OS_REASON_LIBXPC', {words: 'libxpc killed it (an XPC contract was broken)', next: 'read the crash report in /Library/Logs/DiagnosticReports', codeSigning: false}],
])

const JETSAM = /^JETSAM_REASON_[A-Z0-9_]{1,64}$/
const OS_REASON = /^OS_REASON_[A-Z0-9_]{1,64}$/

/**
 * Words for one `last exit reason` value. Unknown names (a future release's) are kept verbatim
 * rather than guessed at; undefined only for text that is not a reason name at all.
 */
export function exitReason(name: string): ExitReason | undefined {
  const known = REASONS.get(name)
  if (known) return known
  if (JETSAM.test(name)) {
    const detail = name.slice('JETSAM_REASON_'.length).toLowerCase().replace(/_/g, ' ')
    return {words: `macOS killed it under memory pressure (jetsam: ${detail})`, next: 'it used more memory than the system allows a daemon, or the Mac ran short of memory', codeSigning: false}
  }
  if (OS_REASON.test(name)) return {words: 'macOS ended it, for a reason esdctl has no words for', next: 'read the crash report in /Library/Logs/DiagnosticReports and run `esdctl doctor`', codeSigning: false}
  return undefined
}
