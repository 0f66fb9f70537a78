import {open, readdir, rm} from 'node:fs/promises'
import {join, relative} from 'node:path'
import {isFormatError} from '../../src/formats/format-error.js'
import {parseFileLayout} from '../../src/formats/macho.js'
import {MACHO_ARCH, type DarwinArch} from '../../src/payload-build/esdctl-dist-layout.js'

export interface NativeAddonCheck {
  /** Packages with native code, relative to the tree, each with the darwin build kept for the processor. */
  kept: {package: string; addon: string}[]
  /** `.node` files removed because they are not Mach-O for this processor (other platforms' prebuilds). */
  removed: string[]
}

/**
 * Makes sure every production package with native code can load on a Mac with processor `arch`:
 * the build runs on any OS with install scripts off, so a package that compiles its addon at
 * install time would ship nothing, or a Linux ELF, and fail on the Mac at the first lock.
 * Each package holding `.node` files or a `binding.gyp` must carry at least one `.node` that is a
 * Mach-O with a slice for `arch`; other platforms' `.node` files are removed. Throws naming the
 * package otherwise. Facts: Node loads addons with dlopen, which on macOS takes Mach-O only.
 */
export async function checkNativeAddons(tree: string, arch: DarwinArch): Promise<NativeAddonCheck> {
  const result: NativeAddonCheck = {kept: [], removed: []}
  const missing: string[] = []
  for (const pkg of await packageDirs(join(tree, 'node_modules'))) {
    const files = await filesBelow(pkg)
    const addons = files.filter((f) => f.endsWith('.node'))
    if (addons.length === 0 && !files.some((f) => f.endsWith('binding.gyp'))) continue
    let kept: string | undefined
    for (const addon of addons) {
      if (await isMachOFor(addon, arch)) kept ??= addon
      else {
        await rm(addon)
        result.removed.push(relative(tree, addon))
      }
    }
    if (kept) result.kept.push({package: relative(tree, pkg), addon: relative(tree, kept)})
    else missing.push(relative(tree, pkg))
  }
  if (missing.length > 0) {
    throw new Error(`native code with no darwin-${arch} build, which a Mac cannot load: ${missing.join(', ')}. Use a package that ships macOS prebuilds, or none.`)
  }
  return result
}

async function isMachOFor(path: string, arch: DarwinArch): Promise<boolean> {
  const fh = await open(path, 'r')
  try {
    const head = Buffer.alloc(4096)
    const {bytesRead} = await fh.read(head, 0, head.length, 0)
    const layout = parseFileLayout(head.subarray(0, bytesRead), (await fh.stat()).size)
    return layout.slices.some((s) => s.arch === MACHO_ARCH[arch])
  } catch (e) {
    if (isFormatError(e)) return false
    throw e
  } finally {
    await fh.close()
  }
}

/** Every installed package directory (scoped ones too, and nested node_modules). */
async function packageDirs(nodeModules: string): Promise<string[]> {
  const out: string[] = []
  const entries = await readdir(nodeModules, {withFileTypes: true}).catch(() => [])
  for (const e of entries) {
    if (!e.isDirectory() || e.name.startsWith('.')) continue
    const dir = join(nodeModules, e.name)
    if (e.name.startsWith('@')) {
      for (const scoped of await readdir(dir, {withFileTypes: true})) if (scoped.isDirectory()) out.push(join(dir, scoped.name), ...(await packageDirs(join(dir, scoped.name, 'node_modules'))))
    } else out.push(dir, ...(await packageDirs(join(dir, 'node_modules'))))
  }
  return out
}

/** Regular files below `dir`, not descending into nested node_modules (those are packages of their own). */
async function filesBelow(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, {withFileTypes: true})) {
    const path = join(dir, e.name)
    if (e.isDirectory() && e.name !== 'node_modules') out.push(...(await filesBelow(path)))
    else if (e.isFile()) out.push(path)
  }
  return out
}
