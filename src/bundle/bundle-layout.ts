import {chmod, copyFile, mkdir, readdir, lstat, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import * as plist from 'plist'
import type {PlistDict} from '../formats/property-list.js'
import type {CheckedInputs} from './bundle-inputs.js'
import {PKG_INFO, renderInfoPlist} from './info-plist.js'

/**
 * Writes `<name>.app` and `<name>.entitlements` into `dir` (a fresh staging directory). The
 * entitlements file sits beside the bundle, not in it: anything inside is sealed.
 */
export async function writeBundleTree(dir: string, inputs: CheckedInputs, profile: Buffer, entitlements: PlistDict): Promise<{app: string; entitlementsFile: string}> {
  const app = join(dir, `${inputs.name}.app`)
  const contents = join(app, 'Contents')
  await mkdir(join(contents, 'MacOS'), {recursive: true, mode: 0o755})
  await mkdir(join(contents, 'Resources'), {mode: 0o755})
  const executable = join(contents, 'MacOS', inputs.executableName)
  await copyFile(inputs.executable, executable)
  await chmod(executable, 0o755)
  await writeFile(join(contents, 'Info.plist'), renderInfoPlist({
    executable: inputs.executableName,
    bundleId: inputs.bundleId,
    name: inputs.name,
    version: inputs.version,
    build: inputs.build,
    minMacos: inputs.minMacos,
  }), {mode: 0o644})
  await writeFile(join(contents, 'PkgInfo'), PKG_INFO, {mode: 0o644})
  await writeFile(join(contents, 'embedded.provisionprofile'), profile, {mode: 0o644})
  if (inputs.resources) await copyTree(inputs.resources, join(contents, 'Resources'))
  const entitlementsFile = join(dir, `${inputs.name}.entitlements`)
  await writeFile(entitlementsFile, plist.build(entitlements) + '\n', {mode: 0o644})
  return {app, entitlementsFile}
}

/** Directories and regular files only (checkInputs refused anything else); modes normalised. */
async function copyTree(from: string, to: string): Promise<void> {
  for (const entry of await readdir(from)) {
    const source = join(from, entry)
    const target = join(to, entry)
    const info = await lstat(source)
    if (info.isDirectory()) {
      await mkdir(target, {mode: 0o755})
      await copyTree(source, target)
    } else {
      await copyFile(source, target)
      await chmod(target, info.mode & 0o111 ? 0o755 : 0o644)
    }
  }
}
