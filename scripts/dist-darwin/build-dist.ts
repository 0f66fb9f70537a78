import {cp, mkdir, rename, rm, writeFile, lstat} from 'node:fs/promises'
import {dirname, join, resolve} from 'node:path'
import * as tar from 'tar'
import {bundledNodeProblems} from '../../src/payload-build/bundled-node-check.js'
import {DARWIN_ARCHES, DIST_PATHS, distDirName, distTarballName, type DarwinArch, type DistInfo} from '../../src/payload-build/esdctl-dist-layout.js'
import {extractNode} from './darwin-node.js'
import {NODE_PINS} from './node-pins.js'
import {DEFAULT_PKG_IDENTIFIER, writePkgInputs, type PkgInputs} from './pkg-root.js'
import {hasPlatformSpecificProductionPackages, installProductionDependencies, packEsdctl} from './stage-esdctl.js'
import {checkNativeAddons} from './native-addons.js'
import {normaliseModes} from './tree-modes.js'

export interface DistRequest {
  /** The esdctl checkout, built (`tsc -b && oclif manifest`). */
  repo: string
  /** Output directory, replaced as a whole when the build succeeds. */
  out: string
  /** Where fetched Node packages are kept between runs (gitignored `.cache/node-darwin`). */
  cacheDir: string
  arches?: readonly DarwinArch[]
  /** pkgbuild --identifier of esdctl's own package. */
  identifier?: string
}

export interface DistArtifact {
  arch: DarwinArch
  /** `esdctl-<version>-darwin-<arch>.tar.gz` in `out`. */
  tarball: string
  info: DistInfo
  /** The pkgbuild inputs in `out/pkg-<arch>/`. */
  pkg: PkgInputs
}

export interface DistResult {
  version: string
  out: string
  artifacts: DistArtifact[]
}

/**
 * Builds, on any OS, the self-contained darwin esdctl for each processor: esdctl's published files
 * and locked production dependencies, the POSIX launcher, and the official Node from the registry
 * (pinned in node-pins.ts; integrity checked, and its Node.js Foundation Developer ID signature
 * verified with esdctl's own verifier). Writes into `out` one tarball per processor and the
 * pkgbuild inputs that install it at /usr/local/esdctl/<version>/. Throws on any failure and
 * leaves a previous `out` untouched.
 */
export async function buildDarwinDist(req: DistRequest): Promise<DistResult> {
  const out = resolve(req.out)
  const arches = req.arches ?? DARWIN_ARCHES
  await mkdir(dirname(out), {recursive: true})
  const staging = `${out}.building-${process.pid}`
  await rm(staging, {recursive: true, force: true})
  await mkdir(staging)
  try {
    const work = join(staging, '.work')
    await mkdir(work)
    const app = join(work, 'app')
    const {version} = await packEsdctl(req.repo, app)
    const perArch = await hasPlatformSpecificProductionPackages(join(app, 'package-lock.json'))
    if (!perArch) await installProductionDependencies(app, arches[0]!)

    const artifacts: DistArtifact[] = []
    for (const arch of arches) {
      const tree = join(work, distDirName(version, arch))
      await cp(app, tree, {recursive: true, verbatimSymlinks: true})
      if (perArch) await installProductionDependencies(tree, arch)
      await checkNativeAddons(tree, arch)
      const info = await addNode(tree, arch, req.cacheDir, version)
      await checkLauncher(tree)
      await normaliseModes(tree)

      const tarball = join(staging, distTarballName(version, arch))
      await tar.c({gzip: true, file: tarball, cwd: work, portable: true, strict: true}, [distDirName(version, arch)])
      const pkg = await writePkgInputs({tree, dir: join(staging, `pkg-${arch}`), version, arch, identifier: req.identifier ?? DEFAULT_PKG_IDENTIFIER, templates: join(req.repo, 'templates')})
      artifacts.push({arch, tarball: join(out, distTarballName(version, arch)), info, pkg: rebase(pkg, staging, out)})
    }
    await rm(work, {recursive: true, force: true})
    await rm(out, {recursive: true, force: true})
    await rename(staging, out)
    return {version, out, artifacts}
  } finally {
    await rm(staging, {recursive: true, force: true})
  }
}

async function addNode(tree: string, arch: DarwinArch, cacheDir: string, version: string): Promise<DistInfo> {
  const pin = NODE_PINS[arch]
  const binary = join(tree, ...DIST_PATHS.node.split('/'))
  await mkdir(dirname(binary), {recursive: true})
  await extractNode(pin, cacheDir, {binary, license: join(tree, ...DIST_PATHS.nodeLicense.split('/'))})
  const problems = await bundledNodeProblems(binary, arch)
  if (problems.length > 0) throw new Error(`${pin.package}@${pin.version} (${binary}) cannot be shipped:\n  ${problems.join('\n  ')}`)
  const info: DistInfo = {name: 'esdctl', version, platform: 'darwin', arch, node: {package: pin.package, version: pin.version, integrity: pin.integrity}}
  await writeFile(join(tree, DIST_PATHS.info), JSON.stringify(info, null, 2) + '\n')
  return info
}

async function checkLauncher(tree: string): Promise<void> {
  for (const entry of [DIST_PATHS.launcher, DIST_PATHS.runJs]) {
    if (!(await lstat(join(tree, entry)).catch(() => undefined))?.isFile()) throw new Error(`${entry} is not in the packed esdctl: check package.json "files"`)
  }
}

function rebase(pkg: PkgInputs, from: string, to: string): PkgInputs {
  const move = (p: string): string => to + p.slice(from.length)
  return {...pkg, dir: move(pkg.dir), root: move(pkg.root), scripts: move(pkg.scripts), instructions: move(pkg.instructions)}
}
