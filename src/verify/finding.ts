/**
 * A finding is one judgement about an artifact: stable id (for scripts and docs), severity,
 * a message that names the file and the values involved, and a fix written for someone who has
 * never heard of AMFI. Checks return findings; they never throw for bad input.
 * Ids, severities and default fixes come from one catalogue (`finding-catalogue.ts`).
 */
import {FINDING_CATALOGUE, type FindingId, type Severity} from './finding-catalogue.js'

export type {Severity} from './finding-catalogue.js'

export interface Finding {
  /** Stable, dotted, lower-case: `slice.code-page-mismatch`, `profile.expired`. */
  id: string
  severity: Severity
  message: string
  /** The file (or file inside a bundle) the finding is about. */
  path: string
  /** What to do about it; absent for purely informative findings. */
  fix?: string
  /** The key inside that file the finding is about (`ExpirationDate`, `CFBundleExecutable`), where there is one. */
  field?: string
}

export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some(f => f.severity === 'error')
}

/**
 * One finding of the catalogued kind `id`: severity from the catalogue; `fix` defaults to the
 * catalogue's; `field` names the key inside `path` when the finding is about one.
 */
export function finding(id: FindingId, path: string, message: string, fix?: string, field?: string): Finding {
  const def = FINDING_CATALOGUE[id]
  const out: Finding = {id, severity: def.severity, path, message}
  const chosenFix = fix ?? ('fix' in def ? def.fix : undefined)
  if (chosenFix !== undefined) out.fix = chosenFix
  if (field !== undefined) out.field = field
  return out
}

/** `message` led by `path` once: a FormatError's message already names its file, so it is not named twice. */
export function namingPath(path: string, message: string): string {
  return message.startsWith(`${path}:`) || message.startsWith(`${path} `) ? message : `${path}: ${message}`
}
