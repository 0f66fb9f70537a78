import {posix} from 'node:path'
import type {RootFs} from '../adapters/root-fs.js'
import {parsePropertyListDict, type PlistDict} from '../formats/property-list.js'
import {hasErrorCode} from '../io/error-code.js'
import {absoluteSegments} from '../layout/absolute-path.js'
import {isOutsidePrefix, mainExecutableTarget, placeLinks, type LinkSpec} from '../layout/daemon-links.js'
import {isValidLinkPath, isValidLinkTarget} from '../layout/names.js'
import {LayoutError, PrefixLayout} from '../layout/prefix-layout.js'

/** Where esdctl may write links (DESIGN.md §11); only these are searched for links into the bundle. */
const LINK_DIRS_IN_PREFIX = ['bin', 'sbin'] as const
const LINK_DIRS_OUTSIDE = ['/usr/local/bin', '/usr/local/sbin'] as const
/** /usr/local/bin of a busy Mac holds a few hundred entries; this bounds a hostile directory. */
const MAX_LINK_DIR_ENTRIES = 10_000

const MAX_PLIST_BYTES = 1024 * 1024

/** The property list at `path` (rebased) as a dictionary; undefined when it is missing, not a regular file, or not a property list. */
export async function plistAt(fs: RootFs, path: string): Promise<PlistDict | undefined> {
  try {
    if (!(await fs.lstat(path))?.isFile()) return undefined
    return parsePropertyListDict(await fs.readFile(path, MAX_PLIST_BYTES), path)
  } catch (e) {
    // A FormatError has a code too; so does EACCES, which a non-root reader meets on root-only files.
    if (hasErrorCode(e)) return undefined
    throw e
  }
}

export type LayoutFromDisk = {layout: PrefixLayout} | {why: string}

/**
 * The layout a launchd plist's Program implies for daemon `name`: Program (a system path, as
 * launchd reads it) must be `/opt/<name>/<bundle>/Contents/MacOS/<executable>`, where `<bundle>`
 * and `<executable>` pass the same checks as a manifest's `bundle` and a bundle's CFBundleExecutable
 * (PrefixLayout's constructor). Links are the default (`bin/<name>`) until linksOnDisk says otherwise.
 * `{why}` in words when Program is not such a path. Pure.
 */
export function layoutOfProgram(name: string, label: string, root: string, program: unknown): LayoutFromDisk {
  const prefix = `/opt/${name}`
  const shown = JSON.stringify(program)
  const segments = typeof program === 'string' ? absoluteSegments(program) : undefined
  if (segments === undefined || segments[0] !== 'opt' || segments[1] !== name) return {why: `Program ${shown} does not lie inside ${prefix}`}
  const inside = segments.slice(2)
  if (inside.length < 4 || inside.at(-3) !== 'Contents' || inside.at(-2) !== 'MacOS') return {why: `Program ${shown} is not a bundle's main executable (<bundle>.app/Contents/MacOS/<executable>) inside ${prefix}`}
  try {
    return {layout: new PrefixLayout({name, label, root, bundle: inside.slice(0, -3).join('/'), executableName: inside.at(-1)!})}
  } catch (e) {
    if (e instanceof LayoutError) return {why: `Program ${shown} names a bundle location esdctl would refuse: ${e.message}`}
    throw e
  }
}

/**
 * The links on disk that esdctl would have written for `layout`'s bundle: every symbolic link in
 * the prefix's bin/ and sbin/ and in /usr/local/bin and /usr/local/sbin (rebased) whose text is
 * exactly what esdctl writes for a file inside the bundle (relative inside the prefix, absolute
 * outside: placeLinks). Links that resolve elsewhere, or that say it another way, are not esdctl's
 * and are left out. Sorted by path.
 */
export async function linksOnDisk(fs: RootFs, layout: PrefixLayout): Promise<LinkSpec[]> {
  const system = layout.system
  const systemApp = system.app + '/'
  const found: LinkSpec[] = []
  const dirs = [...LINK_DIRS_IN_PREFIX.map((d) => ({spec: d, systemDir: posix.join(system.prefix, d)})), ...LINK_DIRS_OUTSIDE.map((d) => ({spec: d, systemDir: d}))]
  for (const {spec, systemDir} of dirs) {
    for (const file of (await fs.list(layout.rebase(systemDir))).slice(0, MAX_LINK_DIR_ENTRIES)) {
      const path = `${spec}/${file}`
      if (!isValidLinkPath(path)) continue
      const rebased = layout.rebase(posix.join(systemDir, file))
      if (!(await fs.lstat(rebased))?.isSymbolicLink()) continue
      const text = await fs.readLink(rebased)
      if (text === undefined) continue
      const resolved = posix.resolve(systemDir, text)
      if (!resolved.startsWith(systemApp)) continue
      const target = resolved.slice(systemApp.length)
      if (!isValidLinkTarget(target)) continue
      const link = {path, target}
      if (placeLinks([link], system.prefix, system.bundle, (p) => p)[0]!.text === text) found.push(link)
    }
  }
  // Inside the prefix first, as manifests list them; stable for records compared byte for byte.
  return found.sort((a, b) => Number(isOutsidePrefix(a)) - Number(isOutsidePrefix(b)) || a.path.localeCompare(b.path))
}

/**
 * Where daemon `name` (launchd label `label`) is installed, as the disk tells it without esdctl's
 * receipt: its launchd plist at `plistPath` (rebased; the installed one, or the rollback slot's
 * copy) must carry `label` and a Program layoutOfProgram accepts; the links are the ones
 * linksOnDisk finds into that bundle, and `bin/<name>` → the main executable when it is not among
 * them (every install writes it unless its manifest says otherwise; doctor then reports it missing). `{why}` in words, naming the file, when the disk does not say.
 * Used to rebuild a damaged receipt (rebuild-receipt.ts) and by read-only commands that cannot
 * read the receipt (installed-daemons.ts).
 */
export async function layoutFromDisk(fs: RootFs, root: string, name: string, label: string, plistPath: string): Promise<LayoutFromDisk> {
  const dict = await plistAt(fs, plistPath)
  if (dict === undefined) return {why: `${plistPath} is missing or not a readable property list`}
  if (dict['Label'] !== label) return {why: `${plistPath} has Label ${JSON.stringify(dict['Label'])}, not ${label}`}
  const of = layoutOfProgram(name, label, root, dict['Program'])
  if (!('layout' in of)) return {why: `${plistPath}: ${of.why}`}
  const found = await linksOnDisk(fs, of.layout)
  // bin/<name> is the link every install writes unless its manifest said otherwise; missing, it is reported, not forgotten.
  const binLink = `bin/${name}`
  const links = found.some((l) => l.path === binLink) ? found : [{path: binLink, target: mainExecutableTarget(of.layout.executableName)}, ...found]
  return {layout: of.layout.with({links})}
}
