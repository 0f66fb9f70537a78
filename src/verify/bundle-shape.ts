import {lstat, readdir, readlink} from 'node:fs/promises'
import {basename, join} from 'node:path'

/**
 * Where a bundle keeps its parts. Apple's Bundle Programming Guide and codesign know three shapes:
 * - deep (`.app`, `.xpc`, `.systemextension`, `.appex`, login items): `Contents/{Info.plist, MacOS/<exe>, _CodeSignature/}`;
 * - versioned framework (`.framework`): `Versions/<v>/{Resources/Info.plist, <exe>, _CodeSignature/}`, `Versions/Current` → `<v>`;
 * - shallow (`.dext`, iOS-style bundles): `{Info.plist, <exe>, _CodeSignature/}` at the top.
 * The seal's paths are relative to `contentDir` in every shape.
 */
export interface BundleShape {
  kind: 'deep' | 'framework' | 'shallow'
  /** The bundle directory itself. */
  bundle: string
  /** What the seal's relative paths start from: `Contents/`, `Versions/<v>/` or the bundle. */
  contentDir: string
  /** Info.plist, relative to contentDir. */
  infoPlist: string
  /** Where the main executable lives, relative to contentDir: `MacOS/` or `` (at the top). */
  executableDir: string
}

// lstat: a bundle's parts are never followed through symbolic links, which could lead out of it (or round in a loop).
const isDir = (p: string) => lstat(p).then(
  s => s.isDirectory(),
  // Stryker disable next-line ArrowFunction: every caller tests only the truth of the answer, where undefined is as false as false
  () => false,
)
const isFile = (p: string) => lstat(p).then(
  s => s.isFile(),
  // Stryker disable next-line ArrowFunction: every caller tests only the truth of the answer, where undefined is as false as false
  () => false,
)

/** The shape of the bundle at `dir`, or undefined when `dir` is not a recognisable bundle. Never throws. */
export async function bundleShapeOf(dir: string): Promise<BundleShape | undefined> {
  if (await isDir(join(dir, 'Contents'))) {
    return {kind: 'deep', bundle: dir, contentDir: join(dir, 'Contents'), infoPlist: 'Info.plist', executableDir: 'MacOS/'}
  }
  const version = await currentVersion(dir)
  if (version) {
    return {kind: 'framework', bundle: dir, contentDir: join(dir, 'Versions', version), infoPlist: 'Resources/Info.plist', executableDir: ''}
  }
  if ((await isFile(join(dir, 'Info.plist'))) || (await isDir(join(dir, '_CodeSignature')))) {
    return {kind: 'shallow', bundle: dir, contentDir: dir, infoPlist: 'Info.plist', executableDir: ''}
  }
  return undefined
}

/** `Versions/Current`'s target when it names a sibling directory, else the only version directory there is. */
async function currentVersion(dir: string): Promise<string | undefined> {
  const versions = join(dir, 'Versions')
  if (!(await isDir(versions))) return undefined
  const current = join(versions, 'Current')
  const link = await lstat(current).then(s => (s.isSymbolicLink() ? readlink(current) : undefined), () => undefined)
  if (link !== undefined) {
    const name = basename(link)
    // Only a plain sibling name counts: a link leading out of Versions/ must not choose what gets verified.
    if (name === link && name !== '.' && name !== '..' && (await isDir(join(versions, name)))) return name
    return undefined
  }
  const dirs: string[] = []
  for (const name of await readdir(versions).catch(() => [] as string[])) if (await isDir(join(versions, name))) dirs.push(name)
  return dirs.length === 1 ? dirs[0] : undefined
}
