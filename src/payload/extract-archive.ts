import {chmodSync, closeSync, constants, fchmodSync, linkSync, lstatSync, mkdirSync, openSync, rmSync, symlinkSync, writeSync} from 'node:fs'
import {mkdir, chmod, open} from 'node:fs/promises'
import {basename, join} from 'node:path'
import {createGunzip} from 'node:zlib'
import {Parser, type ReadEntry} from 'tar'
import {FormatError} from '../formats/format-error.js'
import {DEFAULT_ARCHIVE_LIMITS, type ArchiveLimits} from './archive-limits.js'
import {checkSymlinkTarget, entryRefusal, entrySegments} from './entry-paths.js'
import {SET_ID_BITS, setIdRefusal} from './set-id-bits.js'

export interface ExtractedPayload {
  /** The directory the payload was unpacked into (0700). */
  root: string
  /** Entries written, directories and links included. */
  entries: number
  /** Sum of regular file sizes. */
  fileBytes: number
}

type EntryKind = 'directory' | 'file' | 'symlink' | 'hardlink'

const KIND_BY_TAR_TYPE: Record<string, EntryKind | undefined> = {
  File: 'file',
  OldFile: 'file',
  ContiguousFile: 'file',
  Directory: 'directory',
  SymbolicLink: 'symlink',
  Link: 'hardlink',
}

const SPECIAL_TYPES: Record<string, string> = {
  CharacterDevice: 'is a character device',
  BlockDevice: 'is a block device',
  FIFO: 'is a FIFO (named pipe)',
}

/**
 * macOS volumes are usually case- and normalisation-insensitive, so `Bin/x` and `bin/x` are the
 * same file there. Keys fold both ways so a payload built on Linux cannot smuggle a second name
 * for something it already wrote (for instance a link that later writes would go through).
 */
function foldedKey(segments: readonly string[]): string {
  return segments.map(s => s.normalize('NFC').toLowerCase()).join('/')
}

const CREATE_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW

interface OpenFile {
  fd: number
  name: string
  expected: number
  written: number
  mode: number
}

/** Writes entries one at a time, refusing anything that could reach outside `root`. */
class PayloadWriter {
  private readonly seen = new Map<string, EntryKind>()
  private entries = 0
  private fileBytes = 0
  private current: OpenFile | undefined

  constructor(
    private readonly root: string,
    private readonly archive: string,
    private readonly limits: ArchiveLimits,
  ) {}

  result(): ExtractedPayload {
    return {root: this.root, entries: this.entries, fileBytes: this.fileBytes}
  }

  /** Synchronous on purpose: the next entry must not start before this one is on disk. */
  begin(entry: ReadEntry): void {
    const name = entry.path
    this.entries += 1
    if (this.entries > this.limits.maxEntries) throw entryRefusal('payload.too-many-entries', this.archive, name, `exceeds the limit of ${this.limits.maxEntries} entries`)
    const special = SPECIAL_TYPES[entry.type]
    if (special !== undefined) throw entryRefusal('payload.special-file', this.archive, name, `${special}; a payload may hold only files, directories and links`)
    const kind = KIND_BY_TAR_TYPE[entry.type]
    if (kind === undefined) throw entryRefusal('payload.unsupported-entry', this.archive, name, `has the unsupported tar type ${entry.type}`)
    const segments = entrySegments(name, this.archive, this.limits)
    if (segments.length === 0) {
      if (kind !== 'directory') throw entryRefusal('payload.bad-path', this.archive, name, 'names the payload root but is not a directory')
      entry.resume()
      return
    }
    const key = foldedKey(segments)
    const previous = this.seen.get(key)
    if (previous !== undefined && !(previous === 'directory' && kind === 'directory')) {
      throw entryRefusal('payload.duplicate-entry', this.archive, name, 'appears twice (names that differ only in case or Unicode normalisation count as the same on macOS)')
    }
    this.ensureDirectories(segments.slice(0, -1), name)
    const target = join(this.root, ...segments)
    switch (kind) {
      case 'directory':
        this.ensureDirectories(segments, name)
        entry.resume()
        break
      case 'file':
        this.openFile(entry, target, name)
        break
      case 'symlink':
        checkSymlinkTarget(entry.linkpath ?? '', name, segments.length, this.archive, this.limits)
        symlinkSync(entry.linkpath ?? '', target)
        entry.resume()
        break
      case 'hardlink':
        this.link(entry.linkpath ?? '', target, name)
        entry.resume()
        break
    }
    this.seen.set(key, kind)
  }

  private ensureDirectories(segments: readonly string[], name: string): void {
    for (let i = 1; i <= segments.length; i++) {
      const key = foldedKey(segments.slice(0, i))
      const kind = this.seen.get(key)
      if (kind === 'directory') continue
      const dir = segments.slice(0, i).join('/')
      if (kind !== undefined) throw entryRefusal('payload.through-link', this.archive, name, `lies under ${JSON.stringify(dir)}, which the archive made a ${kind === 'symlink' ? 'symbolic link' : 'file'}`)
      const path = join(this.root, ...segments.slice(0, i))
      let stat
      try {
        stat = lstatSync(path)
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
      }
      if (stat === undefined) {
        mkdirSync(path, {mode: 0o755})
        chmodSync(path, 0o755)
      } else if (!stat.isDirectory()) {
        throw entryRefusal('payload.through-link', this.archive, name, `lies under ${JSON.stringify(dir)}, which is not a directory`)
      }
      this.seen.set(key, 'directory')
    }
  }

  private openFile(entry: ReadEntry, target: string, name: string): void {
    const size = entry.size
    if (size > this.limits.maxEntryBytes) throw entryRefusal('payload.entry-too-large', this.archive, name, `claims ${size} bytes, more than the ${this.limits.maxEntryBytes}-byte limit for one file`)
    if (this.fileBytes + size > this.limits.maxTotalBytes) throw entryRefusal('payload.too-large', this.archive, name, `takes the payload past the ${this.limits.maxTotalBytes}-byte limit`)
    this.fileBytes += size
    if (((entry.mode ?? 0) & SET_ID_BITS) !== 0) throw setIdRefusal(`${this.archive}: entry`, name, entry.mode ?? 0)
    // Only the owner's execute bit carries over; ownership and write access for others never do.
    const mode = (entry.mode ?? 0) & 0o100 ? 0o755 : 0o644
    const fd = openSync(target, CREATE_FILE, 0o600)
    this.current = {fd, name, expected: size, written: 0, mode}
  }

  /** Called for each body chunk of the current file. */
  write(chunk: Buffer): void {
    const file = this.current
    if (file === undefined) return
    if (file.written + chunk.length > file.expected) throw entryRefusal('payload.bad-size', this.archive, file.name, 'has more data than its header claims')
    let offset = 0
    while (offset < chunk.length) offset += writeSync(file.fd, chunk, offset, chunk.length - offset)
    file.written += chunk.length
  }

  /** Called when the current entry's body is complete. */
  end(): void {
    const file = this.current
    if (file === undefined) return
    this.current = undefined
    try {
      if (file.written !== file.expected) throw entryRefusal('payload.truncated', this.archive, file.name, `ends after ${file.written} of ${file.expected} bytes`)
      fchmodSync(file.fd, file.mode)
    } finally {
      closeSync(file.fd)
    }
  }

  private link(linkpath: string, target: string, name: string): void {
    const refusal = () => entryRefusal('payload.link-escape', this.archive, name, `is a hard link to ${JSON.stringify(linkpath)}, which is not a file extracted earlier from this archive`)
    let source: string[]
    try {
      source = entrySegments(linkpath, this.archive, this.limits)
    } catch (e) {
      // A target that is no entry name at all (absolute, '..', too long) is refused as the link
      // entry's own fault, naming the entry: the target is not an entry of the archive.
      if (e instanceof FormatError) throw refusal()
      throw e
    }
    if (this.seen.get(foldedKey(source)) !== 'file') throw refusal()
    linkSync(join(this.root, ...source), target)
  }

  abandon(): void {
    if (this.current !== undefined) {
      closeSync(this.current.fd)
      this.current = undefined
    }
  }
}

/**
 * Unpacks a payload `.tar.gz` into `destination`, which must not exist yet and is created 0700.
 * Anything suspicious (absolute path, `..`, a link leaving the payload, a write through a link, a
 * device or FIFO, too many or too large entries, a malformed stream) refuses the whole archive with
 * a FormatError naming the entry, and `destination` is removed: nothing is left behind.
 */
export async function extractPayloadArchive(archivePath: string, destination: string, limits: Partial<ArchiveLimits> = {}): Promise<ExtractedPayload> {
  const bounds: ArchiveLimits = {...DEFAULT_ARCHIVE_LIMITS, ...limits}
  const archive = basename(archivePath)
  const handle = await open(archivePath, 'r')
  try {
    await mkdir(destination, {mode: 0o700})
  } catch (e) {
    await handle.close()
    throw e
  }
  await chmod(destination, 0o700)
  const writer = new PayloadWriter(destination, archive, bounds)
  try {
    await unpack(handle.createReadStream(), writer, archive, bounds)
    return writer.result()
  } catch (e) {
    writer.abandon()
    rmSync(destination, {recursive: true, force: true})
    throw e
  }
}

function unpack(source: NodeJS.ReadableStream & {destroy(): void}, writer: PayloadWriter, archive: string, limits: ArchiveLimits): Promise<void> {
  return new Promise((resolve, reject) => {
    const gunzip = createGunzip()
    const parser = new Parser({strict: true})
    let failure: unknown
    let settled = false
    let inflated = 0

    const settle = (error?: unknown): void => {
      if (settled) return
      settled = true
      if (error === undefined) resolve()
      else reject(error)
    }
    const fail = (error: unknown): void => {
      if (failure !== undefined) return
      failure = error
      source.destroy()
      gunzip.destroy()
      settle(error)
    }
    const guarded = (fn: () => void): void => {
      if (failure !== undefined) return
      try {
        fn()
      } catch (e) {
        fail(e)
      }
    }

    source.on('error', fail)
    gunzip.on('error', e => fail(new FormatError('payload.not-gzip', `${archive}: not a valid gzip stream (${e.message}); the payload archive was refused and nothing was extracted`)))
    parser.on('error', (e: Error) => fail(new FormatError('payload.malformed', `${archive}: not a valid tar archive (${e.message}); the payload archive was refused and nothing was extracted`)))
    parser.on('entry', (entry: ReadEntry) => {
      if (failure !== undefined) return entry.resume()
      guarded(() => writer.begin(entry))
      entry.on('data', (chunk: Buffer) => guarded(() => writer.write(chunk)))
      entry.on('end', () => guarded(() => writer.end()))
      if (failure !== undefined) entry.resume()
    })
    parser.on('end', () => (failure === undefined ? settle() : undefined))
    gunzip.on('data', (chunk: Buffer) =>
      guarded(() => {
        inflated += chunk.length
        if (inflated > limits.maxArchiveBytes) {
          throw new FormatError('payload.too-large', `${archive}: inflates to more than ${limits.maxArchiveBytes} bytes; the payload archive was refused and nothing was extracted`)
        }
        if (!parser.write(chunk)) {
          gunzip.pause()
          parser.once('drain', () => gunzip.resume())
        }
      }),
    )
    gunzip.on('end', () => guarded(() => parser.end()))
    source.pipe(gunzip)
  })
}
