import {existsSync} from 'node:fs'
import {chmod, mkdir, readFile, symlink, writeFile} from 'node:fs/promises'
import {dirname, join, resolve} from 'node:path'
import {gunzipSync, inflateSync} from 'node:zlib'
import {DOMParser, type Element, type Node} from '@xmldom/xmldom'
import {REPO_ROOT} from './real-artifacts.js'
import {skipBecause} from './skip.js'

/**
 * TEST SUPPORT ONLY: takes a bundle out of a real flat installer package so lifecycle tests can
 * install a real notarized daemon. It reads just enough of xar (header, zlib TOC, one heap entry)
 * and of an odc cpio archive (magic 070707) to do that, trusting the fixtures' integrity to the
 * sha256 sums their README lists; the product's own package reader lives in src/formats/.
 * Facts: xar header and TOC layout per DESIGN.md §10 (all big-endian, heap after the TOC, data
 * offsets relative to the heap); odc cpio headers are 76 bytes of octal ASCII fields.
 */

export const REAL_PACKAGES_DIR = resolve(REPO_ROOT, '..', 'shared', 'fixtures', 'real-packages')

/** The Karabiner daemon's bundle inside the package payload, per the fixtures' README. */
export const KARABINER_DAEMON_IN_PAYLOAD = 'Library/Application Support/org.pqrs/Karabiner-DriverKit-VirtualHIDDevice/Applications/Karabiner-VirtualHIDDevice-Daemon.app'

export function realPackage(version: '6.0.0' | '6.10.0'): string | undefined {
  const p = join(REAL_PACKAGES_DIR, `Karabiner-DriverKit-VirtualHIDDevice-${version}.pkg`)
  return existsSync(p) ? p : undefined
}

/** Both real Karabiner packages as [version, path], oldest first; skips the suite (fixtures-absent) when either is missing. */
export function bothRealPackages(ctx: Mocha.Context): Array<readonly ['6.0.0' | '6.10.0', string]> {
  const found = (['6.0.0', '6.10.0'] as const).map((v) => [v, realPackage(v)] as const)
  if (found.some(([, p]) => p === undefined)) skipBecause(ctx, 'fixtures-absent')
  return found.map(([v, p]) => [v, p!] as const)
}

function elements(el: Element): Element[] {
  const out: Element[] = []
  for (let i = 0; i < el.childNodes.length; i++) {
    const node: Node | null = el.childNodes.item(i)
    if (node !== null && node.nodeType === 1) out.push(node as Element)
  }
  return out
}

function child(el: Element, tag: string): Element | undefined {
  return elements(el).find((c) => c.tagName === tag)
}

function text(el: Element, tag: string): string | undefined {
  return child(el, tag)?.textContent ?? undefined
}

/** The bytes of the top-level xar member `name` (a component package's `Payload`), decoded. */
export function xarMember(pkg: Buffer, name: string): Buffer {
  if (pkg.toString('latin1', 0, 4) !== 'xar!') throw new Error('not a xar archive')
  const headerSize = pkg.readUInt16BE(4)
  const tocLength = Number(pkg.readBigUInt64BE(8))
  const heap = headerSize + tocLength
  const toc = new DOMParser().parseFromString(inflateSync(pkg.subarray(headerSize, heap)).toString('utf8'), 'text/xml')
  const tocEl = toc.getElementsByTagName('toc').item(0)
  if (tocEl === null) throw new Error('xar TOC has no <toc>')
  for (const file of elements(tocEl).filter((c) => c.tagName === 'file')) {
    if (text(file, 'name') !== name) continue
    const data = child(file, 'data')
    if (data === undefined) throw new Error(`${name} has no data`)
    const offset = Number(text(data, 'offset'))
    const length = Number(text(data, 'length'))
    const raw = pkg.subarray(heap + offset, heap + offset + length)
    const encoding = child(data, 'encoding')?.getAttribute('style')
    return encoding === 'application/x-gzip' ? inflateSync(raw) : raw
  }
  throw new Error(`xar archive has no top-level ${name}`)
}

const S_IFMT = 0o170000
const S_IFDIR = 0o040000
const S_IFLNK = 0o120000
const S_IFREG = 0o100000

/** Writes every cpio entry under `prefix` into `out` (the prefix itself becomes `out`); returns how many. */
export async function extractCpio(archive: Buffer, prefix: string, out: string): Promise<number> {
  let at = 0
  let count = 0
  const field = (start: number, len: number): number => Number.parseInt(archive.toString('latin1', at + start, at + start + len), 8)
  while (at + 76 <= archive.length) {
    if (archive.toString('latin1', at, at + 6) !== '070707') throw new Error(`cpio: bad magic at ${at}`)
    const mode = field(18, 6)
    const nameSize = field(59, 6)
    const fileSize = field(65, 11)
    const name = archive.toString('utf8', at + 76, at + 76 + nameSize - 1).replace(/^\.\//, '')
    const dataAt = at + 76 + nameSize
    at = dataAt + fileSize
    if (name === 'TRAILER!!!') break
    if (name !== prefix && !name.startsWith(`${prefix}/`)) continue
    const target = join(out, name.slice(prefix.length))
    const type = mode & S_IFMT
    if (type === S_IFDIR) await mkdir(target, {recursive: true, mode: 0o755})
    else if (type === S_IFLNK) {
      await mkdir(dirname(target), {recursive: true})
      await symlink(archive.toString('utf8', dataAt, dataAt + fileSize), target)
    } else if (type === S_IFREG) {
      await mkdir(dirname(target), {recursive: true})
      await writeFile(target, archive.subarray(dataAt, dataAt + fileSize))
      await chmod(target, mode & 0o777)
    }
    count++
  }
  return count
}

/** Copies the bundle at `inPayload` out of a component package's gzip'd cpio Payload into `out`. */
export async function extractBundleFromPkg(pkgPath: string, inPayload: string, out: string): Promise<void> {
  const payload = xarMember(await readFile(pkgPath), 'Payload')
  const cpio = payload[0] === 0x1f && payload[1] === 0x8b ? gunzipSync(payload) : payload
  const n = await extractCpio(cpio, inPayload, out)
  if (n === 0) throw new Error(`${pkgPath}: the payload has nothing under ${inPayload}`)
}
