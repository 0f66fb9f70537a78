import {join} from 'node:path'
import {ruleFor, type CodeResources, type SealEntry} from '../formats/code-resources.js'
import {fileDigest} from '../io/file-digest.js'
import type {TreeEntry} from '../io/bundle-tree.js'
import type {FindingId} from './finding-catalogue.js'
import {finding, type Finding} from './finding.js'
import {STAPLED_TICKET_REL} from './bundle-ticket.js'
import {judgeSealedRequirement, type NestedIdentity} from './sealed-requirement.js'
import {isReadRefusal, UNREADABLE_MEMBER_FIX, unreadableMessage} from './unreadable-member.js'

const RESEAL = 'Sign the bundle again after the last change to its contents (codesign --force … <name>.app), and ship it unmodified.'
const XATTRS = 'Ship the bundle in a form that keeps extended attributes (a signed .pkg or .dmg, or ditto -c -k --keepParent for a zip), or move the script to Contents/Resources so the seal covers it by hash, then sign again.'

/** What the verifier found when it looked at one nested code item in depth. */
export type NestedLook =
  | {kind: 'code'; identity: NestedIdentity}
  /** A directory that is not a bundle, or nesting too deep to follow. */
  | {kind: 'not-verified'; reason: string}
  /** A file that is not Mach-O: its signature would be in extended attributes. */
  | {kind: 'not-mach-o'}
  /** There but not readable by esdctl: its own input.unreadable finding says so, the seal adds nothing. */
  | {kind: 'unreadable'}

export interface SealContext {
  contentsDir: string
  /** How findings name the bundle's files: `<bundle>/Contents/<rel>`. */
  display: (rel: string) => string
  /** `MacOS/<name>`: never in the seal, bound by the CodeDirectory itself. */
  mainExecutable: string
  /** Info.plist relative to the content directory: bound by special slot −1, never in the seal. */
  infoPlist: string
  tree: TreeEntry[]
  seal: CodeResources
  /** Looks at nested code at a relative path in depth (the caller's verifier, memoised). */
  nested: (rel: string) => Promise<NestedLook>
}

/**
 * Compares `_CodeSignature/CodeResources` with the bundle on disk: every sealed file unchanged, no
 * file added that the rules would seal, none missing unless optional, links as recorded, nested code
 * with the cdhash and requirement recorded, and no plain file where the rules expect nested code.
 */
export async function checkSeal(ctx: SealContext): Promise<Finding[]> {
  const out: Finding[] = []
  const onDisk = new Map(ctx.tree.filter(e => e.kind !== 'dir').map(e => [e.rel, e]))
  const sealedDirs = new Set([...ctx.seal.files].filter(([, v]) => v.kind === 'nested').map(([k]) => k))
  const insideSealedDir = (rel: string) => [...sealedDirs].some(d => rel.startsWith(`${d}/`))

  for (const [rel, entry] of ctx.seal.files) {
    const disk = onDisk.get(rel) ?? ctx.tree.find(e => e.rel === rel)
    if (!disk) {
      if (!entry.optional) {
        out.push(finding('seal.missing', ctx.display(rel), `${ctx.display(rel)} is sealed by the signature but missing from the bundle`, RESEAL))
      }
      continue
    }
    const problem = await compareEntry(ctx, rel, entry, disk)
    if (problem) out.push(finding(problem.id, ctx.display(rel), problem.message, problem.fix ?? RESEAL))
  }

  for (const e of onDisk.values()) {
    // The seal itself and the stapled ticket (written after signing) lie outside the seal (DESIGN §4).
    if (e.rel === ctx.mainExecutable || e.rel === ctx.infoPlist || e.rel.startsWith('_CodeSignature/') || e.rel === STAPLED_TICKET_REL || ctx.seal.files.has(e.rel) || insideSealedDir(e.rel)) continue
    const rule = ruleFor(ctx.seal.rules, e.rel)
    if (ctx.seal.rules.length > 0 && (!rule || rule.omit)) continue
    out.push(finding('seal.added', ctx.display(e.rel),
      `${ctx.display(e.rel)} was added to the bundle after it was signed; macOS rejects the whole bundle`,
      'Remove the file, or put it in the bundle before signing. Configuration that changes after signing belongs outside the bundle (for example /opt/<name>/etc).'))
  }
  return out
}

async function compareEntry(ctx: SealContext, rel: string, entry: SealEntry, disk: TreeEntry): Promise<{id: FindingId; message: string; fix?: string} | undefined> {
  const shown = ctx.display(rel)
  switch (entry.kind) {
    case 'symlink':
      if (disk.kind !== 'symlink') return {id: 'seal.modified', message: `${shown} was a symbolic link when signed and is now ${disk.what}`}
      if (disk.linkTarget !== entry.target) return {id: 'seal.modified', message: `${shown} points to "${disk.linkTarget}" but was sealed pointing to "${entry.target}"`}
      return undefined
    case 'nested':
      // Never followed: a link could lead out of the bundle or round in a loop.
      if (disk.kind === 'symlink') return {id: 'seal.modified', message: `${shown} was sealed as nested code but is now a symbolic link (to "${disk.linkTarget}")`}
      return compareNested(ctx, rel, entry, shown)
    case 'file': {
      if (disk.kind !== 'file') return {id: 'seal.modified', message: `${shown} was a file when signed and is now ${disk.what}`}
      const path = join(ctx.contentsDir, rel)
      let ok: boolean
      try {
        ok = entry.sha256 ? (await fileDigest(path, 'sha256')).equals(entry.sha256) : (await fileDigest(path, 'sha1')).equals(entry.sha1!)
      } catch (e) {
        // Stryker disable next-line ConditionalExpression: the walk just found a regular file here; only one removed or swapped for another kind in between fails otherwise, and that is rethrown
        if (!isReadRefusal(e)) throw e
        return {id: 'input.unreadable', message: unreadableMessage(shown, e), fix: UNREADABLE_MEMBER_FIX}
      }
      if (!ok) return {id: 'seal.modified', message: `${shown} was modified after the bundle was signed (its hash no longer matches the seal)`}
      const rule = ruleFor(ctx.seal.rules, rel)
      if (rule?.nested) {
        return {
          id: 'seal.plain-file-in-nested-location',
          message: `${shown} is sealed as a plain file (by hash) in a place the seal's rules reserve for nested code (rule "${rule.source}"); codesign --verify --strict refuses the bundle ("code object is not signed at all … In subcomponent") and so does Gatekeeper`,
          fix: `Move ${rel.split('/').pop()} to Contents/Resources (data, scripts and configuration belong there) and read it from there, then sign the bundle again.`,
        }
      }
      return undefined
    }
  }
}

async function compareNested(ctx: SealContext, rel: string, entry: Extract<SealEntry, {kind: 'nested'}>, shown: string): Promise<{id: FindingId; message: string; fix?: string} | undefined> {
  const sealed = entry.cdhash.toString('hex')
  const look = await ctx.nested(rel)
  if (look.kind === 'not-verified') {
    return {id: 'seal.nested-bundle-unchecked', message: `${shown} is sealed as nested code (cdhash ${sealed}) but ${look.reason}, so esdctl does not verify it in depth`, fix: 'Verify it on a Mac with codesign --verify --deep --strict.'}
  }
  if (look.kind === 'unreadable') return undefined
  if (look.kind === 'not-mach-o') {
    return {
      id: 'seal.nested-code-in-xattrs',
      message: `${shown} is nested code that is not Mach-O (a script or similar), sealed with cdhash ${sealed}; its signature lives in extended attributes (com.apple.cs.*), which git, zip and tar drop and esdctl cannot read: a copy that lost them is refused by macOS`,
      fix: XATTRS,
    }
  }
  const {identity} = look
  if (!identity.cdhashes.includes(sealed)) {
    return {id: 'seal.nested-modified', message: `${shown} is nested code sealed with cdhash ${sealed} but its signature now has ${identity.cdhashes.length ? identity.cdhashes.join(', ') : 'no readable cdhash'}`}
  }
  if (entry.requirement) {
    const verdict = judgeSealedRequirement(entry.requirement, identity)
    if (verdict.evaluated && verdict.unmet.length > 0) {
      return {id: 'seal.nested-requirement-unmet', message: `${shown} does not satisfy the requirement its parent sealed for it (${verdict.unmet.join('; ')}): sealed "${entry.requirement}", signed as ${identity.identifier ?? 'no identifier'}${identity.leafTeam ? ` by team ${identity.leafTeam}` : ''}`}
    }
  }
  return undefined
}
