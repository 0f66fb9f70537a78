import {existsSync} from 'node:fs'
import {copyFile, mkdir, mkdtemp, readFile, rm} from 'node:fs/promises'
import {join} from 'node:path'
import {execa} from 'execa'
import * as tar from 'tar'
import type {DarwinArch} from '../../src/payload-build/esdctl-dist-layout.js'

/**
 * Lays esdctl's own files into `into` (which must not exist): exactly what `npm pack` publishes
 * (package.json `files`: bin/, dist/src/, templates/, schemas/, man/, oclif.manifest.json) plus the
 * lockfile, so the production dependencies installed next are the locked ones. Requires a built
 * tree (`tsc -b && oclif manifest`). Returns the version from package.json.
 */
export async function packEsdctl(repo: string, into: string): Promise<{version: string}> {
  for (const built of ['dist/src/commands', 'oclif.manifest.json']) {
    if (!existsSync(join(repo, built))) throw new Error(`${join(repo, built)} is missing: build first (npm run build)`)
  }
  await mkdir(into)
  const scratch = await mkdtemp(join(into, '..', '.pack-'))
  try {
    // --ignore-scripts: the tree is already built; prepack would only rebuild it.
    const {stdout} = await execa('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], {cwd: repo, stdin: 'ignore'})
    const packed = JSON.parse(stdout) as Array<{filename: string; version: string}>
    await tar.x({file: join(scratch, packed[0]!.filename), cwd: into, strict: true, strip: 1})
    await copyFile(join(repo, 'package-lock.json'), join(into, 'package-lock.json'))
    return {version: packed[0]!.version}
  } finally {
    await rm(scratch, {recursive: true, force: true})
  }
}

/**
 * Installs the production dependencies (and only those) of the tree in `dir` from its lockfile,
 * for a Mac with the given processor: `npm ci --omit=dev`, with npm told the target platform so
 * that optional platform packages are chosen for the Mac, not for the machine building. No
 * install scripts run, no bin links are made (nothing here is meant for a PATH).
 */
export async function installProductionDependencies(dir: string, arch: DarwinArch): Promise<void> {
  await execa('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-bin-links', '--no-audit', '--no-fund', '--prefer-offline', '--os=darwin', `--cpu=${arch}`], {cwd: dir, stdin: 'ignore'})
}

/**
 * Whether any production package in the lockfile is limited to some platforms (`os`/`cpu`); when
 * none is, one install serves every processor.
 */
export async function hasPlatformSpecificProductionPackages(lockfile: string): Promise<boolean> {
  const lock = JSON.parse(await readFile(lockfile, 'utf8')) as {packages?: Record<string, {dev?: boolean; os?: unknown; cpu?: unknown}>}
  return Object.entries(lock.packages ?? {}).some(([path, entry]) => path !== '' && entry.dev !== true && (entry.os !== undefined || entry.cpu !== undefined))
}
