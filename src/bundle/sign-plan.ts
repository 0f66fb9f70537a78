import {lstat, readdir} from 'node:fs/promises'
import {join, relative, sep} from 'node:path'
import {CodesignAdapter, type CodesignSignOptions} from '../adapters/codesign.js'
import {looksLikeMachO} from '../io/macho-sniff.js'

export interface PlannedSignature {
  /** Absolute path of the code to sign. */
  path: string
  options: CodesignSignOptions
}

/**
 * codesign without --deep signs one piece of code and requires nested code to be signed already,
 * so nested code (every Mach-O in the bundle other than the main executable) comes first, deepest
 * first, then the bundle with the entitlements. Nested code gets no entitlements: a restricted one
 * there is not covered by the profile and gets that process killed.
 */
export async function planSignatures(app: string, mainExecutable: string, opts: {identity: string; entitlementsFile: string; bundleId: string}): Promise<PlannedSignature[]> {
  const nested: string[] = []
  const walk = async (dir: string): Promise<void> => {
    for (const entry of (await readdir(dir)).sort()) {
      const path = join(dir, entry)
      const info = await lstat(path)
      if (info.isDirectory()) await walk(path)
      else if (info.isFile() && path !== mainExecutable && (await looksLikeMachO(path))) nested.push(path)
    }
  }
  await walk(join(app, 'Contents'))
  const depth = (p: string): number => relative(app, p).split(sep).length
  nested.sort((a, b) => depth(b) - depth(a) || (a < b ? -1 : a > b ? 1 : 0))
  const common = {identity: opts.identity, runtime: true, timestamp: true, force: true}
  return [
    ...nested.map(path => ({path, options: {...common}})),
    {path: app, options: {...common, entitlements: opts.entitlementsFile, identifier: opts.bundleId}},
  ]
}

/** The argv each planned signature runs, with `from` (the staging dir) replaced by `to`. */
export function signingArgv(plan: PlannedSignature, from: string, to: string): string[] {
  const rebase = (p: string): string => (p === from || p.startsWith(from + sep) ? to + p.slice(from.length) : p)
  const options = {...plan.options}
  if (options.entitlements !== undefined) options.entitlements = rebase(options.entitlements)
  return CodesignAdapter.signArguments(rebase(plan.path), options)
}
