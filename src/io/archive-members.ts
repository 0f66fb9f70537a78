import {createReadStream} from 'node:fs'
import {Transform} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import * as zlib from 'node:zlib'
import {Parser, type ReadEntry} from 'tar'
import yauzl from 'yauzl'
import {type CpioEntry, safeRelativePath} from '../formats/cpio-odc.js'
import {FormatError} from '../formats/format-error.js'
import type {ArchiveLimits} from '../payload/archive-limits.js'

/**
 * The members of a .zip or a gzip'd tarball, one at a time, in the shape the payload scanner reads
 * (formats/cpio-odc.ts CpioEntry): nothing is extracted, and a member's bytes are inflated only
 * while its `body()` is read. Bounded by `limits`: the member count, each member's size, their
 * sum and (tar) the inflated stream; past a bound is a FormatError whose code ends in `too-large`,
 * damage is a FormatError `archive.malformed`.
 */
export type ArchiveMember = CpioEntry

const MAX_LINK_BYTES = 4096
const S_IFMT = 0o170000

function tooLarge(what: string, why: string): FormatError {
  return new FormatError('archive.too-large', `${what}: ${why}; esdctl stopped reading it`)
}

/**
 * The FormatError code of a member whose name would leave the folder the archive is unpacked in
 * (absolute, a drive letter, '..'): the archive was built from the wrong place, not damaged.
 */
export const UNSAFE_MEMBER_PATH = 'archive.unsafe-path'

/** yauzl's own refusals of such names (its validateFileName), by their text. */
const YAUZL_UNSAFE_NAME = /^(absolute path|invalid relative path|invalid characters in fileName): /

function malformed(what: string, e: unknown): FormatError {
  if (e instanceof FormatError) return e
  const message = (e as Error).message
  return new FormatError(YAUZL_UNSAFE_NAME.test(message) ? UNSAFE_MEMBER_PATH : 'archive.malformed', `${what}: ${message}`)
}

/** A member name without its trailing slash, checked like a payload's (no absolute path, no `..`). */
function memberPath(name: string, what: string, limits: ArchiveLimits): string {
  if (Buffer.byteLength(name) > limits.maxPathBytes) throw new FormatError('archive.malformed', `${what}: a member name is longer than ${limits.maxPathBytes} bytes`)
  let path: string
  try {
    path = safeRelativePath(name.replace(/\/+$/, ''), what)
  } catch (e) {
    throw e instanceof FormatError && e.code === 'cpio.unsafe-path' ? new FormatError(UNSAFE_MEMBER_PATH, e.message) : e
  }
  if (path.split('/').length > limits.maxDepth) throw new FormatError('archive.malformed', `${what}: ${path.slice(0, 120)} is nested deeper than ${limits.maxDepth} folders`)
  return path
}

class Budget {
  private entries = 0
  private bytes = 0
  constructor(private readonly what: string, private readonly limits: ArchiveLimits) {}

  /** Counts one member of `size` bytes; throws once the archive claims more than the limits allow. */
  take(path: string, size: number): void {
    if (++this.entries > this.limits.maxEntries) throw tooLarge(this.what, `more than ${this.limits.maxEntries} members`)
    if (size > this.limits.maxEntryBytes) throw tooLarge(this.what, `${path} inflates to ${size} bytes, more than the ${this.limits.maxEntryBytes}-byte bound`)
    this.bytes += size
    if (this.bytes > this.limits.maxTotalBytes) throw tooLarge(this.what, `its members inflate to more than ${this.limits.maxTotalBytes} bytes`)
  }
}

async function collect(chunks: AsyncIterable<Buffer>, max: number, what: string): Promise<Buffer> {
  const parts: Buffer[] = []
  let n = 0
  for await (const c of chunks) {
    n += c.length
    if (n > max) throw new FormatError('archive.malformed', `${what}: longer than ${max} bytes`)
    parts.push(c)
  }
  return Buffer.concat(parts)
}

/**
 * Members of a zip archive (PKWARE APPNOTE; read with yauzl from the central directory, so the
 * archive is never held in memory). Unix modes come from the upper half of the external attributes,
 * as Info-ZIP and ditto write them; a symlink's target is its data.
 */
export async function* zipMembers(path: string, limits: ArchiveLimits): AsyncGenerator<ArchiveMember> {
  let zip: yauzl.ZipFile
  try {
    zip = await new Promise<yauzl.ZipFile>((resolve, reject) => yauzl.open(path, {lazyEntries: true, autoClose: false}, (err, z) => (err ? reject(err) : resolve(z))))
  } catch (e) {
    throw malformed(path, e)
  }
  try {
    if (zip.entryCount > limits.maxEntries) throw tooLarge(path, `${zip.entryCount} members, more than ${limits.maxEntries}`)
    const budget = new Budget(path, limits)
    for (;;) {
      const entry = await nextZipEntry(zip, path)
      if (entry === undefined) return
      const mode = (entry.externalFileAttributes >>> 16) & 0xffff
      const isDir = entry.fileName.endsWith('/') || (mode & S_IFMT) === 0o040000
      const rel = memberPath(entry.fileName, path, limits)
      budget.take(rel, entry.uncompressedSize)
      const kind: ArchiveMember['kind'] = isDir ? 'dir' : (mode & S_IFMT) === 0o120000 ? 'symlink' : mode === 0 || (mode & S_IFMT) === 0o100000 ? 'file' : 'other'
      const body = () => zipEntryBytes(zip, entry, path)
      const member: ArchiveMember = {path: rel, mode, kind, size: entry.uncompressedSize, body}
      if (kind === 'symlink') member.linkTarget = (await collect(body(), MAX_LINK_BYTES, `${path}: the link ${rel}`)).toString('utf8')
      yield member
    }
  } finally {
    zip.close()
  }
}

function nextZipEntry(zip: yauzl.ZipFile, what: string): Promise<yauzl.Entry | undefined> {
  return new Promise((resolve, reject) => {
    const done = () => {
      zip.off('entry', onEntry)
      zip.off('end', onEnd)
      zip.off('error', onError)
    }
    const onEntry = (e: yauzl.Entry) => (done(), resolve(e))
    const onEnd = () => (done(), resolve(undefined))
    const onError = (e: Error) => (done(), reject(malformed(what, e)))
    zip.on('entry', onEntry)
    zip.on('end', onEnd)
    zip.on('error', onError)
    zip.readEntry()
  })
}

async function* zipEntryBytes(zip: yauzl.ZipFile, entry: yauzl.Entry, what: string): AsyncGenerator<Buffer> {
  let stream: NodeJS.ReadableStream
  try {
    stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) => zip.openReadStream(entry, (err, s) => (err ? reject(err) : resolve(s))))
  } catch (e) {
    throw malformed(what, e)
  }
  try {
    // yauzl checks the inflated length against the central directory's, so a member cannot inflate
    // past what it claimed; it leaves the CRC-32 to its callers (its README, "No CRC-32 Checking").
    let crc = 0
    for await (const chunk of stream) {
      crc = zlib.crc32(chunk as Buffer, crc)
      yield chunk as Buffer
    }
    if (crc !== entry.crc32) throw new FormatError('archive.malformed', `${what}: ${entry.fileName}: its CRC-32 is ${crc.toString(16).padStart(8, '0')}, the directory says ${entry.crc32.toString(16).padStart(8, '0')}`)
  } catch (e) {
    throw malformed(`${what}: ${entry.fileName}`, e)
  } finally {
    ;(stream as NodeJS.ReadableStream & {destroy(): void}).destroy()
  }
}

const TAR_KINDS: Record<string, ArchiveMember['kind']> = {File: 'file', OldFile: 'file', ContiguousFile: 'file', Directory: 'dir', SymbolicLink: 'symlink'}

/**
 * Members of a gzip'd (or plain) POSIX/GNU tarball, streamed through node-tar's parser. The inflated
 * stream is counted: past `limits.maxArchiveBytes` (a gzip bomb of zero blocks holds no member) it
 * is a FormatError `archive.too-large`.
 */
export async function* tarMembers(path: string, limits: ArchiveLimits): AsyncGenerator<ArchiveMember> {
  const queue: ReadEntry[] = []
  let finished = false
  let failure: FormatError | undefined
  let wake: (() => void) | undefined
  const notify = () => {
    const w = wake
    wake = undefined
    w?.()
  }
  const parser = new Parser({strict: true})
  parser.on('entry', (e: ReadEntry) => {
    queue.push(e)
    notify()
  })
  parser.on('warn', (_code: string, message: string | Error) => {
    failure ??= new FormatError('archive.malformed', `${path}: ${typeof message === 'string' ? message : message.message}`)
  })
  let inflated = 0
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      inflated += chunk.length
      if (inflated > limits.maxArchiveBytes) cb(tooLarge(path, `the tar stream inflates past ${limits.maxArchiveBytes} bytes`))
      else cb(null, chunk)
    },
  })
  const source = createReadStream(path)
  const head = await new Promise<Buffer>((resolve) => {
    source.once('readable', () => resolve((source.read(2) as Buffer | null) ?? Buffer.alloc(0)))
  })
  if (head.length > 0) source.unshift(head)
  const gzip = head[0] === 0x1f && head[1] === 0x8b
  const flowing = (gzip ? pipeline(source, zlib.createGunzip(), counter, parser) : pipeline(source, counter, parser)).then(
    () => {
      finished = true
      notify()
    },
    (e: unknown) => {
      failure ??= malformed(path, e)
      notify()
    },
  )
  const budget = new Budget(path, limits)
  try {
    for (;;) {
      const e = queue.shift()
      if (e === undefined) {
        if (failure) throw failure
        if (finished) return
        await new Promise<void>((resolve) => (wake = resolve))
        continue
      }
      const kind = TAR_KINDS[e.type] ?? 'other'
      const rel = memberPath(e.path, path, limits)
      const size = kind === 'file' ? (e.size ?? 0) : 0
      budget.take(rel, size)
      const member: ArchiveMember = {
        path: rel,
        mode: e.mode ?? 0,
        kind,
        size,
        body: () => tarEntryBytes(e, path),
      }
      if (kind === 'symlink') member.linkTarget = e.linkpath ?? ''
      yield member
      // Unread bytes are drained so the parser moves on to the next member.
      e.resume()
    }
  } finally {
    if (!finished) {
      source.destroy()
      parser.abort(new Error('stopped'))
    }
    await flowing
  }
}

async function* tarEntryBytes(e: ReadEntry, what: string): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of e) yield chunk as Buffer
  } catch (err) {
    throw malformed(`${what}: ${e.path}`, err)
  }
}
