import {join} from 'node:path'
import {ruleFor, type CodeResources, type SealEntry} from '../formats/code-resources.js'
import {fileDigest} from '../io/file-digest.js'
import type {TreeEntry} from '../io/bundle-tree.js'
import type {FindingId} from './finding-catalogue.js'
import {finding, type Finding} from './finding.js'
import {STAPLED_TICKET_REL} from './bundle-ticket.js'

const RESEAL = 'Sign the bundle again after the last change to its contents (codesign --force … <name>.app), and ship it unmodified.'

export interface SealContext {
  contentsDir: string
  /** How findings name the bundle's files: `<bundle>/Contents/<rel>`. */
  display: (rel: string) => string
  /** `MacOS/<name>`: never in the seal, bound by the CodeDirectory itself. */
  mainExecutable: string
  tree: TreeEntry[]
  seal: CodeResources
  /** cdhashes (hex) of nested code at a relative path, computed by the caller's verifier. */
  nestedCdHashes: (rel: string) => Promise<string[]>
}

/**
 * Compares `_CodeSignature/CodeResources` with the bundle on disk: every sealed file unchanged, no
 * file added that the rules would seal, none missing unless optional, links and nested code as recorded.
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
    if (e.rel === ctx.mainExecutable || e.rel.startsWith('_CodeSignature/') || e.rel === STAPLED_TICKET_REL || ctx.seal.files.has(e.rel) || insideSealedDir(e.rel)) continue
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
      if (disk.kind !== 'symlink') return {id: 'seal.modified', message: `${shown} was a symbolic link when signed and is now a ${disk.kind}`}
      if (disk.linkTarget !== entry.target) return {id: 'seal.modified', message: `${shown} points to "${disk.linkTarget}" but was sealed pointing to "${entry.target}"`}
      return undefined
    case 'nested': {
      if (disk.kind === 'dir') {
        return {id: 'seal.nested-bundle-unchecked', message: `${shown} is a nested bundle; esdctl checks that it is there but does not yet verify a nested bundle's own signature against its sealed cdhash ${entry.cdhash.toString('hex')}`, fix: 'Verify it on a Mac with codesign --verify --deep --strict, or with esdctl verify on the nested bundle itself.'}
      }
      const hashes = await ctx.nestedCdHashes(rel)
      if (!hashes.includes(entry.cdhash.toString('hex'))) {
        return {id: 'seal.nested-modified', message: `${shown} is nested code sealed with cdhash ${entry.cdhash.toString('hex')} but its signature now has ${hashes.length ? hashes.join(', ') : 'no readable cdhash'}`}
      }
      return undefined
    }
    case 'file': {
      if (disk.kind !== 'file') return {id: 'seal.modified', message: `${shown} was a file when signed and is now a ${disk.kind}`}
      const path = join(ctx.contentsDir, rel)
      const ok = entry.sha256 ? (await fileDigest(path, 'sha256')).equals(entry.sha256) : (await fileDigest(path, 'sha1')).equals(entry.sha1!)
      return ok ? undefined : {id: 'seal.modified', message: `${shown} was modified after the bundle was signed (its hash no longer matches the seal)`}
    }
  }
}
