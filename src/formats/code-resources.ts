import {FormatError} from './format-error.js'
import {isDict, parsePropertyListDict, type PlistValue} from './property-list.js'

/** One sealed path in `files2`: a plain file (by hash), a symlink (by target) or nested code (by cdhash). */
export type SealEntry =
  | {kind: 'file'; sha256?: Buffer; sha1?: Buffer; optional: boolean}
  | {kind: 'symlink'; target: string; optional: boolean}
  | {kind: 'nested'; cdhash: Buffer; requirement?: string; optional: boolean}

export interface SealRule {
  pattern: RegExp
  source: string
  omit: boolean
  optional: boolean
  nested: boolean
  weight: number
}

export interface CodeResources {
  /** files2 when present (what modern macOS uses), else the legacy `files`. */
  files: Map<string, SealEntry>
  rules: SealRule[]
  version: 1 | 2
}

const MAX_ENTRIES = 200_000
const MAX_RULE_LENGTH = 512
/** A quantified group that itself contains a quantifier: the shape of catastrophic backtracking. */
const NESTED_QUANTIFIER = /\([^)]*[*+}][^)]*\)\s*[*+{]/

/** Parses `_CodeSignature/CodeResources`. Anything it cannot interpret is a FormatError naming the key. */
export function parseCodeResources(bytes: Buffer, what: string): CodeResources {
  const dict = parsePropertyListDict(bytes, what)
  const version = isDict(dict.files2) ? 2 : 1
  const rawFiles = version === 2 ? dict.files2 : dict.files
  const rawRules = version === 2 ? dict.rules2 : dict.rules
  if (!isDict(rawFiles)) throw new FormatError('seal.no-files', `${what}: has neither a files2 nor a files dictionary`)
  const names = Object.keys(rawFiles)
  if (names.length > MAX_ENTRIES) throw new FormatError('seal.too-many', `${what}: ${names.length} sealed entries exceed the limit of ${MAX_ENTRIES}`)
  const files = new Map<string, SealEntry>()
  for (const name of names) files.set(name, sealEntry(rawFiles[name]!, `${what}: ${version === 2 ? 'files2' : 'files'}["${name}"]`))
  return {files, rules: isDict(rawRules) ? parseRules(rawRules, what) : [], version}
}

function sealEntry(v: PlistValue, where: string): SealEntry {
  if (Buffer.isBuffer(v)) return {kind: 'file', sha1: v, optional: false}
  if (!isDict(v)) throw new FormatError('seal.bad-entry', `${where} is neither data nor a dictionary`)
  const optional = v.optional === true
  if (typeof v.symlink === 'string') return {kind: 'symlink', target: v.symlink, optional}
  if (Buffer.isBuffer(v.cdhash)) {
    return typeof v.requirement === 'string' ? {kind: 'nested', cdhash: v.cdhash, requirement: v.requirement, optional} : {kind: 'nested', cdhash: v.cdhash, optional}
  }
  const sha256 = Buffer.isBuffer(v.hash2) ? v.hash2 : undefined
  const sha1 = Buffer.isBuffer(v.hash) ? v.hash : undefined
  if (!sha256 && !sha1) throw new FormatError('seal.bad-entry', `${where} has no hash, hash2, symlink or cdhash`)
  return {kind: 'file', sha256, sha1, optional}
}

function parseRules(raw: Record<string, PlistValue>, what: string): SealRule[] {
  const rules: SealRule[] = []
  for (const [source, value] of Object.entries(raw)) {
    if (source.length > MAX_RULE_LENGTH || NESTED_QUANTIFIER.test(source)) {
      // The rules come from the file being judged; a pattern that can backtrack exponentially would let it hang us.
      throw new FormatError('seal.unsafe-rule', `${what}: rule "${source.slice(0, 80)}" is too long or nests quantifiers; esdctl does not evaluate it`)
    }
    let pattern: RegExp
    try {
      pattern = new RegExp(source)
    } catch {
      throw new FormatError('seal.bad-rule', `${what}: rule "${source}" is not a valid regular expression`)
    }
    const d = isDict(value) ? value : {}
    const weight = typeof d.weight === 'number' ? d.weight : 1
    rules.push({pattern, source, omit: d.omit === true, optional: d.optional === true, nested: d.nested === true, weight})
  }
  return rules
}

/** The rule that governs a path: the heaviest matching one, as codesign resolves them. */
export function ruleFor(rules: readonly SealRule[], relPath: string): SealRule | undefined {
  let best: SealRule | undefined
  for (const r of rules) {
    if (r.pattern.test(relPath) && (!best || r.weight > best.weight)) best = r
  }
  return best
}
