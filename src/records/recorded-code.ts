import type {SliceReport} from '../verify/report.js'
import type {InstallRecord} from './install-record.js'

/**
 * Whether freshly verified `slices` are the code a receipt recorded: the same architectures, and
 * for each one the recorded cdhash is one of that slice's CodeDirectory cdhashes. Any candidate
 * counts because a receipt written before esdctl reported the strongest CodeDirectory holds the
 * slot-0 one (SHA-1 for a signature that carries SHA-1 and SHA-256), and both name the same code:
 * the signature binds every CodeDirectory to the others (check-cms.ts). An unsigned slice (no
 * candidates) is never recorded code. Pure; never throws.
 */
export function isRecordedCode(slices: readonly SliceReport[], recorded: InstallRecord['cdhashes']): boolean {
  if (slices.length !== recorded.length) return false
  const byArch = new Map(slices.map((s) => [s.arch, s.candidateCdhashes?.map((c) => c.cdhash)]))
  return byArch.size === recorded.length && recorded.every((r) => byArch.get(r.arch)?.includes(r.cdhash) === true)
}

/** 'arm64:… x86_64:…', the strongest cdhash per slice: how messages show the code found. */
export function shownCdhashes(slices: readonly Pick<SliceReport, 'arch' | 'cdhash'>[]): string {
  return slices.map((s) => `${s.arch}:${s.cdhash ?? ''}`).sort().join(' ')
}
