import {join} from 'node:path'
import {walkTree} from '../io/bundle-tree.js'
import {hasErrorCode} from '../io/error-code.js'
import {looksLikeMachO} from '../io/macho-sniff.js'
import {finding, type Finding} from './finding.js'
import {bundleRootOf, namedKindOf} from './package-payload.js'
import {containedKinds, type ContainedItemReport} from './package-report.js'
import type {VerifyReport} from './report.js'

/**
 * Verifies every code item a plain folder holds (an npm package, a build output): each outermost
 * bundle, and each Mach-O file outside a bundle, with the on-disk verifier `verifyItem`, in one
 * report. Links are never followed; the walk is bounded like a bundle's. Never throws for bad input.
 */
export async function verifyFolder(root: string, verifyItem: (path: string) => Promise<VerifyReport>): Promise<{findings: Finding[]; items: ContainedItemReport[]}> {
  let tree
  try {
    tree = await walkTree(root)
  } catch (e) {
    // A FormatError (past a bound) has a code too.
    // Stryker disable next-line ConditionalExpression,LogicalOperator,BooleanLiteral: walkTree raises fs errors and FormatErrors only, both with a code; anything else is a bug
    if (!(e instanceof Error && 'code' in e)) throw e
    return {findings: [finding('input.unreadable', root, `${root}: the folder cannot be walked (${e.message})`)], items: []}
  }
  const items: ContainedItemReport[] = []
  const findings: Finding[] = []
  const kinds = new Map(tree.map(t => [t.rel, t.kind]))
  const bundles = new Set<string>()
  for (const e of tree) {
    const bundle = bundleRootOf(e.rel)
    if (bundle) {
      if (bundles.has(bundle)) continue
      bundles.add(bundle)
      if (kinds.get(bundle) !== 'dir') continue
      items.push(await judge(root, bundle, 'bundle', verifyItem, findings))
    } else if (e.kind === 'file') {
      const kind = await itemKindOf(root, e.rel, findings)
      if (kind) items.push(await judge(root, e.rel, kind, verifyItem, findings))
    }
  }
  // A folder whose only files could not be read is not called empty: their findings say why nothing was judged.
  if (items.length === 0 && findings.length === 0) {
    findings.push(finding('input.unknown-kind', root, `${root}: a folder with no app-like bundle (no Contents/), no Mach-O file, no .pkg and no .provisionprofile in it`, 'Point esdctl at <name>.app, a Mach-O executable, a .provisionprofile, a .pkg, or a folder that holds them.'))
  }
  return {findings, items}
}

/**
 * What the regular file at `rel` is to the folder's report: Mach-O code by its first bytes, a flat
 * installer package or a profile by its name, or nothing to judge (undefined). A file that cannot be
 * read could be code: it is an `input.unreadable` finding, never silently left out of the report.
 */
async function itemKindOf(root: string, rel: string, findings: Finding[]): Promise<'macho' | 'package' | 'profile' | undefined> {
  const path = join(root, rel)
  try {
    if (await looksLikeMachO(path)) return 'macho'
  } catch (e) {
    // Stryker disable next-line ConditionalExpression: open and read raise fs errors only (NotRegularFileError too has a code); anything else is a bug
    if (!hasErrorCode(e)) throw e
    findings.push(finding('input.unreadable', path, `${path}: cannot be read (${e.code}), so esdctl cannot tell whether it is code`))
    return undefined
  }
  // A flat installer package ships code too; a bundle-style .pkg folder is not one (kind 'dir').
  return namedKindOf(rel)
}

async function judge(root: string, rel: string, kind: ContainedItemReport['kind'], verifyItem: (path: string) => Promise<VerifyReport>, all: Finding[]): Promise<ContainedItemReport> {
  const path = join(root, rel)
  const r = await verifyItem(path)
  // A file that became unreadable after it was sniffed is unread, and a .pkg or .provisionprofile (chosen by its name) of 0 bytes is empty: not of a kind esdctl cannot verify yet; their errors stand.
  const unread = r.findings.filter(x => x.id === 'input.unreadable' || x.id === 'input.empty')
  if (r.kind === 'unknown' && unread.length > 0) {
    all.push(...unread)
    return {path: rel, kind, slices: [], findings: unread}
  }
  if (r.kind === 'unknown') {
    const f = finding('input.item-unchecked', path, `${path}: esdctl cannot verify this kind of item yet (${r.findings.map(x => x.message).join('; ')})`, 'Check it on a Mac: codesign --verify --deep --strict <path>.')
    all.push(f)
    return {path: rel, kind, slices: [], findings: [f]}
  }
  all.push(...r.findings)
  const item: ContainedItemReport = {path: rel, kind, slices: [...r.slices, ...(r.items ?? []).flatMap(i => i.slices)], findings: r.findings}
  if (r.profile) item.profile = r.profile
  if (r.notarization) item.notarization = r.notarization
  if (r.items?.length) item.contains = containedKinds(r.items)
  return item
}
