/**
 * Judges nested code against the requirement its parent's seal recorded for it (`files2[path].requirement`,
 * in Apple's code-requirement language, "Code Signing Requirement Language", TN2206). codesign writes
 * the nested code's designated requirement there: a conjunction of clauses. The clauses evaluated
 * here are the ones designated requirements are made of; any other form (`or`, `!`, parentheses,
 * `info[...]`, `entitlement[...]`) leaves the requirement unevaluated rather than guessed.
 */
export interface NestedIdentity {
  identifier?: string
  /** Hex cdhashes of every CodeDirectory of every slice. */
  cdhashes: string[]
  /** The signing leaf's subject OU. */
  leafTeam?: string
  /** Extension OIDs on the leaf certificate. */
  leafOids: string[]
  /** The chain reaches a pinned anchor. */
  trusted: boolean
  /** Signed by Apple's own Software Signing leaf. */
  appleSigned: boolean
}

export type RequirementVerdict = {evaluated: false} | {evaluated: true; unmet: string[]}

const MAX_REQUIREMENT_TEXT = 4096

export function judgeSealedRequirement(text: string, id: NestedIdentity): RequirementVerdict {
  if (text.length > MAX_REQUIREMENT_TEXT) return {evaluated: false}
  const body = text.replace(/\/\*.*?\*\//g, ' ').trim().replace(/^designated\s*=>\s*/, '')
  if (/[()!]|\bor\b|\|\|/.test(body)) return {evaluated: false}
  const unmet: string[] = []
  // The body is trimmed and each separator takes all the whitespace around it: no clause has any at its ends.
  for (const clause of body.split(/\s+and\s+|\s*&&\s*/)) {
    const met = judgeClause(clause, id)
    if (met === undefined) return {evaluated: false}
    if (!met) unmet.push(clause)
  }
  return {evaluated: true, unmet}
}

const unquote = (s: string) => (s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1).replace(/\\(.)/g, '$1') : s)

/** true / false for a clause understood, undefined for one that is not. */
function judgeClause(clause: string, id: NestedIdentity): boolean | undefined {
  let m: RegExpMatchArray | null
  if ((m = /^identifier\s*=?\s*("(?:[^"\\]|\\.)*"|\S+)$/.exec(clause))) return id.identifier === unquote(m[1]!)
  if ((m = /^cdhash\s+H"([0-9a-fA-F]+)"$/.exec(clause))) return id.cdhashes.includes(m[1]!.toLowerCase())
  if (clause === 'anchor apple generic') return id.trusted
  if (clause === 'anchor apple') return id.trusted && id.appleSigned
  if ((m = /^certificate\s+leaf\s*\[\s*subject\.OU\s*\]\s*=\s*("(?:[^"\\]|\\.)*"|\S+)$/.exec(clause))) return id.leafTeam === unquote(m[1]!)
  if ((m = /^certificate\s+leaf\s*\[\s*field\.([0-9.]+)\s*\](?:\s+exists)?$/.exec(clause))) return id.leafOids.includes(m[1]!)
  // An intermediate's marker (certificate 1[field.…]) is vouched for by the chain to the pinned anchor.
  if (/^certificate\s+1\s*\[\s*field\.[0-9.]+\s*\](?:\s+exists)?$/.test(clause)) return id.trusted
  return undefined
}
