/**
 * launchctl reports failures only as an exit code plus a terse strerror-style line. Callers (and
 * the admin reading our output) need to know what the code means for the verb that produced it,
 * so every code launchd is known to return for the verbs we use has words here.
 */
const EXPLANATIONS: ReadonlyMap<number, string> = new Map([
  [3, 'No such process: the service is not loaded (what bootout of an already stopped service answers)'],
  [5, 'Input/output error: launchd\'s catch-all failure. For bootstrap it usually means the service is already loaded or an earlier bootout of it has not finished, the plist is not owned by root or is writable by group or others, the service is disabled, or the plist is invalid'],
  [36, 'Operation now in progress: launchd is still tearing the service down after a bootout; wait until `print` no longer finds it'],
  [37, 'Operation already in progress: the service is already loaded, or an earlier bootout of it has not finished yet'],
  [113, 'Could not find service: no service with this label is loaded in the system domain'],
  [119, 'Service is disabled: run `launchctl enable system/<label>` before bootstrap; a disable persists across bootout and reboots'],
  [122, 'Path had bad ownership/permissions: the plist and every directory above it must be owned by root and not writable by group or others'],
  [125, 'Domain does not support specified action: the verb is not valid for the system domain'],
])

/** Pseudo-code for "launchctl could not be run at all" (missing executable, timeout, signal). */
export const LAUNCHCTL_NOT_RUN = -1

export function explainLaunchctlCode(code: number): string {
  return EXPLANATIONS.get(code) ?? `launchctl exited with ${code}, a code esdctl has no explanation for`
}

export function isKnownLaunchctlCode(code: number): boolean {
  return EXPLANATIONS.has(code)
}

export class LaunchctlError extends Error {
  constructor(
    readonly verb: string,
    readonly code: number,
    readonly explanation: string,
    /** What launchctl itself printed on stderr, kept verbatim for the audit log. */
    readonly stderr = '',
  ) {
    super(`launchctl ${verb} failed (${code}): ${explanation}${stderr ? ` [launchctl said: ${stderr}]` : ''}`)
    this.name = 'LaunchctlError'
  }
}
