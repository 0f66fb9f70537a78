import type {Finding, Severity} from '../verify/finding.js'

/**
 * One check `esdctl doctor` ran, as a finding (id, severity, message, fix) plus its outcome. A
 * check that could not run here says `skipped` and why; it is never reported as passed.
 */
export interface DoctorCheck extends Finding {
  outcome: 'passed' | 'failed' | 'skipped'
}

export function passed(id: string, path: string, message: string): DoctorCheck {
  return {id, severity: 'info', path, message, outcome: 'passed'}
}

export function failed(id: string, severity: Exclude<Severity, 'info'>, path: string, message: string, fix: string): DoctorCheck {
  return {id, severity, path, message, fix, outcome: 'failed'}
}

export function skipped(id: string, path: string, why: string): DoctorCheck {
  return {id, severity: 'info', path, message: `skipped: ${why}`, outcome: 'skipped'}
}

export function fromFinding(f: Finding): DoctorCheck {
  return {...f, outcome: f.severity === 'info' ? 'passed' : 'failed'}
}
