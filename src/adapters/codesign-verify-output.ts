/**
 * What `codesign --verify` says, read into reasons a person can act on.
 *
 * codesign reports on stderr, one `<path>: <reason>` line, then detail lines: `file modified: …`,
 * `file missing: …`, `file added: …`, `In subcomponent: …`, `In architecture: …`. The reasons and
 * detail forms here are the ones real macOS printed in ../shared/fixtures/macos-transcripts/10
 * (blocks B–J); the exit statuses are the codesign man page's (block K): 0 verified, 1 signing or
 * verification failed, 2 invalid arguments, 3 verified but the -R requirement failed.
 */

export type CodesignProblemKind =
  | 'sealed-resource'
  | 'resources-expected'
  | 'resource-directory'
  | 'code-modified'
  | 'nested-code'
  | 'detritus'
  | 'obsolete-envelope'
  | 'not-signed'
  | 'other'

export interface CodesignProblem {
  kind: CodesignProblemKind
  /** The reason as codesign printed it, without the leading path. */
  reason: string
  /** What this means and what to do, in esdctl's words. */
  explanation: string
  /** `file modified: X` → {change: 'modified', path: X}; one per detail line, in order. */
  files: {change: 'modified' | 'missing' | 'added'; path: string}[]
  /** `In subcomponent: X`: the nested code the reason is about. */
  subcomponent?: string
  /** `In architecture: X`: the slice of a universal binary the reason is about. */
  architecture?: string
}

/** codesign's exit statuses (codesign(1)). */
export const CODESIGN_EXIT = {verified: 0, failed: 1, invalidArguments: 2, requirementFailed: 3} as const

const REASONS: readonly {kind: Exclude<CodesignProblemKind, 'other'>; text: string; explanation: string}[] = [
  {kind: 'sealed-resource', text: 'a sealed resource is missing or invalid', explanation: 'a file the bundle seal covers was changed, removed or added after signing; sign the bundle again after the last change and ship it unmodified'},
  {kind: 'resources-expected', text: 'code has no resources but signature indicates they must be present', explanation: 'the signature expects Contents/_CodeSignature/CodeResources but the bundle has none (it was lost in copying, or the bundle was signed as a plain binary); sign the bundle as a whole'},
  {kind: 'resource-directory', text: 'invalid resource directory (directory or signature have been modified)', explanation: 'Contents/_CodeSignature/CodeResources does not match the hash the signature binds; sign the bundle again'},
  {kind: 'code-modified', text: 'invalid signature (code or signature have been modified)', explanation: 'the executable\'s pages differ from the hashes its CodeDirectory holds (patched, stripped or damaged after signing); sign it again'},
  {kind: 'nested-code', text: 'nested code is modified or invalid', explanation: 'a framework, helper or other nested code inside the bundle fails its own signature; sign nested code first, then the bundle'},
  {kind: 'detritus', text: 'resource fork, Finder information, or similar detritus not allowed', explanation: 'files carry extended attributes (resource forks, Finder info) that strict verification refuses; remove them with xattr -cr before signing'},
  {kind: 'obsolete-envelope', text: 'resource envelope is obsolete', explanation: 'the bundle was sealed by a codesign too old for this macOS (version 1 resource rules); sign it again with a current codesign'},
  {kind: 'not-signed', text: 'code object is not signed at all', explanation: 'the code has no signature; sign it (nested code first, then the bundle)'},
]

/** The most lines read; codesign's own output for one bundle is a handful, and the adapter caps bytes. */
const MAX_LINES = 10_000

function reasonOf(line: string): {reason: string; known?: (typeof REASONS)[number]} | undefined {
  for (const known of REASONS) {
    if (line === known.text || line.endsWith(`: ${known.text}`)) return {reason: known.text, known}
  }
  return undefined
}

/**
 * The problems in codesign's verify output, in the order printed. A `<path>: <reason>` line whose
 * reason is not one esdctl knows becomes kind `other` with the reason verbatim, so nothing codesign
 * said is lost. Lines that are neither (the `valid on disk` lines, `--verbose` chatter) are ignored.
 *
 * @param output codesign's stderr then stdout, as `CodesignAdapter.verify` returns it.
 * @param path the path codesign was given: an unknown `<path>: <reason>` line is read only when it starts with it.
 */
export function readCodesignVerifyOutput(output: string, path?: string): CodesignProblem[] {
  const problems: CodesignProblem[] = []
  const lines = output.split('\n', MAX_LINES).map((l) => l.trimEnd())
  for (const line of lines) {
    const detail = /^(file (modified|missing|added)|In subcomponent|In architecture): (.+)$/.exec(line)
    if (detail) {
      const current = problems.at(-1)
      if (current === undefined) continue
      if (detail[2] !== undefined) current.files.push({change: detail[2] as 'modified' | 'missing' | 'added', path: detail[3]!})
      else if (detail[1] === 'In subcomponent') current.subcomponent = detail[3]!
      else current.architecture = detail[3]!
      continue
    }
    const found = reasonOf(line)
    if (found?.known) {
      problems.push({kind: found.known.kind, reason: found.reason, explanation: found.known.explanation, files: []})
      continue
    }
    if (path !== undefined && line.startsWith(`${path}: `)) {
      const reason = line.slice(path.length + 2)
      if (/^(valid on disk|satisfies its Designated Requirement)$/.test(reason)) continue
      problems.push({kind: 'other', reason, explanation: `codesign said: ${reason}`, files: []})
    }
  }
  return problems
}

/** One line per problem: the explanation, then where (file, subcomponent, architecture) when codesign said. */
export function describeCodesignProblems(problems: readonly CodesignProblem[]): string {
  return problems
    .map((p) => {
      const where = [
        ...p.files.map((f) => `${f.path} ${f.change}`),
        ...(p.subcomponent ? [`in ${p.subcomponent}`] : []),
        ...(p.architecture ? [`in the ${p.architecture} slice`] : []),
      ]
      return `${p.reason}${where.length ? ` (${where.join(', ')})` : ''}: ${p.explanation}`
    })
    .join('; ')
}
