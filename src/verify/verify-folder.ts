import {join} from 'node:path'
import {isFormatError} from '../formats/format-error.js'
import {walkTree} from '../io/bundle-tree.js'
import {looksLikeMachO} from '../io/macho-sniff.js'
import {finding, type Finding} from './finding.js'
import {bundleRootOf} from './package-payload.js'
import type {ContainedItemReport} from './package-report.js'
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
    if (!isFormatError(e) && !(e instanceof Error && 'code' in e)) throw e
    return {findings: [finding('input.unreadable', root, `${root}: the folder cannot be walked (${(e as Error).message})`)], items: []}
  }
  const items: ContainedItemReport[] = []
  const findings: Finding[] = []
  const bundles = new Set<string>()
  for (const e of tree) {
    const bundle = bundleRootOf(e.rel)
    if (bundle) {
      if (bundles.has(bundle)) continue
      bundles.add(bundle)
      const entry = tree.find(t => t.rel === bundle)
      if (entry?.kind !== 'dir') continue
      items.push(await judge(root, bundle, 'bundle', verifyItem, findings))
    } else if (e.kind === 'file' && e.size >= 4 && (await looksLikeMachO(join(root, e.rel)).catch(() => false))) {
      items.push(await judge(root, e.rel, 'macho', verifyItem, findings))
    } else if (e.kind === 'file' && /\.(pkg|mpkg)$/i.test(e.rel)) {
      // A flat installer package ships code too; a bundle-style .pkg folder is not one (kind 'dir').
      items.push(await judge(root, e.rel, 'package', verifyItem, findings))
    } else if (e.kind === 'file' && /\.provisionprofile$/i.test(e.rel)) {
      items.push(await judge(root, e.rel, 'profile', verifyItem, findings))
    }
  }
  if (items.length === 0) {
    findings.push(finding('input.unknown-kind', root, `${root}: a folder with no app-like bundle (no Contents/), no Mach-O file, no .pkg and no .provisionprofile in it`, 'Point esdctl at <name>.app, a Mach-O executable, a .provisionprofile, a .pkg, or a folder that holds them.'))
  }
  return {findings, items}
}

async function judge(root: string, rel: string, kind: ContainedItemReport['kind'], verifyItem: (path: string) => Promise<VerifyReport>, all: Finding[]): Promise<ContainedItemReport> {
  const path = join(root, rel)
  const r = await verifyItem(path)
  if (r.kind === 'unknown') {
    const f = finding('input.item-unchecked', path, `${path}: esdctl cannot verify this kind of item yet (${r.findings.map(x => x.message).join('; ')})`, 'Check it on a Mac: codesign --verify --deep --strict <path>.')
    all.push(f)
    return {path: rel, kind, slices: [], findings: [f]}
  }
  all.push(...r.findings)
  const item: ContainedItemReport = {path: rel, kind, slices: [...r.slices, ...(r.items ?? []).flatMap(i => i.slices)], findings: r.findings}
  if (r.profile) item.profile = r.profile
  if (r.notarization) item.notarization = r.notarization
  if (r.items?.length) item.contains = [...new Set(r.items.flatMap(i => (i.kind === 'bundle' || i.kind === 'macho' ? [i.kind] : [])))]
  return item
}
