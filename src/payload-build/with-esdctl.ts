import {lstat, open, readdir, rename, rm} from 'node:fs/promises'
import {join} from 'node:path'
import {BuildRefusal} from '../bundle/bundle-error.js'
import {isFormatError} from '../formats/format-error.js'
import {extractPayloadArchive} from '../payload/extract-archive.js'
import {bundledNodeProblems} from './bundled-node-check.js'
import {DARWIN_ARCHES, DIST_PATHS, distDirName, type DarwinArch, type DistInfo} from './esdctl-dist-layout.js'

/** The folder of the install payload that holds the self-contained esdctl the pkg scripts run. */
export const BUNDLED_ESDCTL_DIR = 'esdctl'

const MAX_INFO_BYTES = 64 * 1024
const FIX = 'Pass an esdctl-<version>-darwin-<arch>.tar.gz written by npm run dist:darwin.'

/** Where the pkg scripts find the bundled esdctl on the Mac, given where the pkg drops the payload. */
export function bundledEsdctlLauncher(installedPayload: string): string {
  return `${installedPayload}/${BUNDLED_ESDCTL_DIR}/${DIST_PATHS.launcher}`
}

/**
 * Unpacks a `npm run dist:darwin` tarball (with the payload extractor's checks: no absolute paths,
 * no `..`, no links leaving it, bounded sizes) into `scratch`, checks it is one (its
 * esdctl-dist.json, launcher, run.js, and a Node signed by the Node.js Foundation that passes
 * `esdctl verify`), and moves its tree to `to`. Throws a BuildRefusal naming the tarball and what
 * is wrong; `scratch` is the caller's to remove.
 */
export async function addBundledEsdctl(tarball: string, scratch: string, to: string): Promise<DistInfo> {
  if (!(await lstat(tarball).catch(() => undefined))?.isFile()) throw refusal(tarball, 'is not a file')
  const unpacked = join(scratch, 'esdctl-dist')
  try {
    await extractPayloadArchive(tarball, unpacked)
  } catch (e) {
    if (!isFormatError(e)) throw e
    throw refusal(tarball, `is not a tarball esdctl accepts (${e.message})`)
  }
  const top = await readdir(unpacked)
  const match = top.length === 1 ? /^esdctl-(.+)-darwin-([a-z0-9]+)$/.exec(top[0]!) : null
  if (match === null) throw refusal(tarball, `holds ${top.length === 1 ? JSON.stringify(top[0]) : `${top.length} top-level entries`}, not one esdctl-<version>-darwin-<arch>/ directory`)
  const tree = join(unpacked, top[0]!)
  const info = await readInfo(tarball, join(tree, DIST_PATHS.info))
  if (info.version !== match[1] || info.arch !== match[2] || distDirName(info.version, info.arch) !== top[0]) {
    throw refusal(tarball, `${DIST_PATHS.info} describes esdctl ${info.version} for ${info.arch}, but the directory is ${top[0]}`)
  }
  for (const [entry, executable] of [[DIST_PATHS.launcher, true], [DIST_PATHS.runJs, false], [DIST_PATHS.node, true]] as const) {
    const st = await lstat(join(tree, entry)).catch(() => undefined)
    if (!st?.isFile() || (executable && (st.mode & 0o100) === 0)) throw refusal(tarball, `has no ${executable ? 'executable ' : ''}${entry}`)
  }
  const problems = await bundledNodeProblems(join(tree, DIST_PATHS.node), info.arch)
  if (problems.length > 0) throw refusal(tarball, `its ${DIST_PATHS.node} would not be accepted on a Mac: ${problems.join('; ')}`)
  await rename(tree, to)
  await rm(unpacked, {recursive: true, force: true})
  return info
}

async function readInfo(tarball: string, path: string): Promise<DistInfo> {
  let text: string
  try {
    const handle = await open(path, 'r')
    try {
      const buffer = Buffer.alloc(MAX_INFO_BYTES + 1)
      const {bytesRead} = await handle.read(buffer, 0, buffer.length, 0)
      if (bytesRead > MAX_INFO_BYTES) throw refusal(tarball, `its ${DIST_PATHS.info} is larger than ${MAX_INFO_BYTES} bytes`)
      text = buffer.subarray(0, bytesRead).toString('utf8')
    } finally {
      await handle.close()
    }
  } catch (e) {
    if (e instanceof BuildRefusal) throw e
    throw refusal(tarball, `has no ${DIST_PATHS.info}`)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw refusal(tarball, `its ${DIST_PATHS.info} is not JSON`)
  }
  const v = value as Partial<DistInfo> | null
  const node = v?.node as Partial<DistInfo['node']> | undefined
  if (v?.name !== 'esdctl' || v.platform !== 'darwin' || typeof v.version !== 'string' || !(DARWIN_ARCHES as readonly unknown[]).includes(v.arch) || typeof node?.package !== 'string' || typeof node.version !== 'string' || typeof node.integrity !== 'string') {
    throw refusal(tarball, `its ${DIST_PATHS.info} does not describe a darwin build of esdctl (name, version, platform, arch, node)`)
  }
  return {name: 'esdctl', version: v.version, platform: 'darwin', arch: v.arch as DarwinArch, node: {package: node.package, version: node.version, integrity: node.integrity}}
}

function refusal(tarball: string, problem: string): BuildRefusal {
  return new BuildRefusal('payload.with-esdctl', tarball, '--with-esdctl', problem, FIX)
}
