import {lstatSync, readdirSync, readFileSync, readlinkSync} from 'node:fs'
import {join} from 'node:path'
import {buildCodeResources, type SealedFile} from '../../support/code-resources-writer.js'
import {cdhashOf} from '../../support/signature-writer.js'
import {codeDirectoriesOf} from './macho-resign.js'
import {isMachO} from './seal-snapshot.js'

/**
 * What codesign's default rules2 do with each path under Contents/ (the rules the CodeResources
 * writer records): leave it out, seal it as nested code (by cdhash and requirement), or hash it.
 * Heaviest rule wins, as in codesign.
 */
function ruleFor(rel: string): {kind: 'omit' | 'nested' | 'file'; optional: boolean} {
  const rules: {re: RegExp; weight: number; kind: 'omit' | 'nested' | 'file'; optional?: boolean}[] = [
    {re: /^.*/, weight: 1, kind: 'file'},
    {re: /.*\.dSYM($|\/)/, weight: 11, kind: 'file'},
    {re: /^(.*\/)?\.DS_Store$/, weight: 2000, kind: 'omit'},
    {re: /^(Frameworks|SharedFrameworks|PlugIns|Plug-ins|XPCServices|Helpers|MacOS|Library\/(Automator|Spotlight|LoginItems))\//, weight: 10, kind: 'nested'},
    {re: /^Info\.plist$/, weight: 20, kind: 'omit'},
    {re: /^PkgInfo$/, weight: 20, kind: 'omit'},
    {re: /^Resources\//, weight: 20, kind: 'file'},
    {re: /^Resources\/.*\.lproj\//, weight: 1000, kind: 'file', optional: true},
    {re: /^Resources\/.*\.lproj\/locversion.plist$/, weight: 1100, kind: 'omit'},
    {re: /^Resources\/Base\.lproj\//, weight: 1010, kind: 'file'},
    {re: /^[^/]+$/, weight: 10, kind: 'nested'},
    {re: /^embedded\.provisionprofile$/, weight: 20, kind: 'file'},
    {re: /^version\.plist$/, weight: 20, kind: 'file'},
  ]
  let best = rules[0]!
  for (const r of rules) if (r.re.test(rel) && r.weight > best.weight) best = r
  return {kind: best.kind, optional: best.optional === true}
}

export class SealError extends Error {
  constructor(readonly subcomponent: string) {
    super(`code object is not signed at all\nIn subcomponent: ${subcomponent}`)
  }
}

/**
 * `_CodeSignature/CodeResources` for the bundle whose Contents/ is `contents`: every file but the
 * main executable and what the rules omit; nested code by the cdhash of its first slice's
 * strongest CodeDirectory and its designated requirement (`requirementOf`).
 */
export function sealBundle(contents: string, mainRel: string, requirementOf: (path: string, cdhash: Buffer) => string): Buffer {
  const sealed: SealedFile[] = []
  const walk = (rel: string): void => {
    for (const entry of readdirSync(join(contents, rel)).sort()) {
      const path = rel ? `${rel}/${entry}` : entry
      if (path === '_CodeSignature' || path === mainRel) continue
      const full = join(contents, path)
      const info = lstatSync(full)
      if (info.isDirectory()) {
        walk(path)
        continue
      }
      const rule = ruleFor(path)
      if (rule.kind === 'omit') continue
      const optional = rule.optional ? {optional: true} : {}
      if (info.isSymbolicLink()) sealed.push({path, symlinkTarget: readlinkSync(full), ...optional})
      else if (rule.kind === 'nested') {
        const cds = isMachO(full) ? codeDirectoriesOf(readFileSync(full)) : []
        const first = cds[0] ?? []
        const strongest = first[first.length - 1]
        if (!strongest) throw new SealError(full)
        const cdhash = cdhashOf(strongest)
        sealed.push({path, nested: {cdhash, requirement: requirementOf(full, cdhash)}, ...optional})
      } else sealed.push({path, bytes: readFileSync(full), ...optional})
    }
  }
  walk('')
  return buildCodeResources(sealed)
}
