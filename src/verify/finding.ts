/**
 * A finding is one judgement about an artifact: stable id (for scripts and docs), severity,
 * a message that names the file and the values involved, and a fix written for someone who has
 * never heard of AMFI. Checks return findings; they never throw for bad input.
 */
export type Severity = 'error' | 'warning' | 'info'

export interface Finding {
  /** Stable, dotted, lower-case: `slice.code-page-mismatch`, `profile.expired`. */
  id: string
  severity: Severity
  message: string
  /** The file (or file inside a bundle) the finding is about. */
  path: string
  /** What to do about it; absent for purely informative findings. */
  fix?: string
}

export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some(f => f.severity === 'error')
}

export function finding(id: string, severity: Severity, path: string, message: string, fix?: string): Finding {
  return fix === undefined ? {id, severity, path, message} : {id, severity, path, message, fix}
}
