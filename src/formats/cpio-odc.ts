import {ChunkReader} from './byte-stream.js'
import {FormatError} from './format-error.js'

/**
 * One member of a portable-ASCII ("odc", magic `070707`) cpio archive, the format of an installer
 * package's Payload and Scripts (DESIGN §10; POSIX.1 `cpio` format). Header, all octal ASCII:
 * magic(6) dev(6) ino(6) mode(6) uid(6) gid(6) nlink(6) rdev(6) mtime(11) namesize(6) filesize(11),
 * then the NUL-terminated name (namesize bytes), then filesize bytes of data; no padding.
 */
export interface CpioEntry {
  /** Relative, slash-separated, without a leading `./`; `.` for the archive's root. */
  path: string
  mode: number
  kind: 'file' | 'dir' | 'symlink' | 'other'
  size: number
  /** A symlink's target (its data). */
  linkTarget?: string
  /**
   * The file's bytes, chunk by chunk. Consume it before asking for the next entry; whatever is left
   * unread is skipped then.
   */
  body: () => AsyncGenerator<Buffer>
}

const MAGIC = '070707'
const HEADER_BYTES = 76
const TRAILER = 'TRAILER!!!'
/** macOS paths are at most 1024 bytes; allow headroom but never an unbounded name. */
const MAX_NAME_BYTES = 4096
const MAX_LINK_BYTES = 4096
export const MAX_CPIO_ENTRIES = 1_000_000

function octal(header: Buffer, start: number, length: number, field: string, what: string): number {
  const s = header.toString('latin1', start, start + length)
  if (!/^[0-7]+$/.test(s)) throw new FormatError('cpio.header', `${what}: the ${field} field "${s}" is not octal`)
  return parseInt(s, 8)
}

/** Refuses names that could leave the archive's root: absolute, `..`, or with NUL. */
export function safeRelativePath(name: string, what: string): string {
  let p = name
  while (p.startsWith('./')) p = p.slice(2)
  if (p === '' || p === '.') return '.'
  if (p.startsWith('/') || p.split('/').some(c => c === '..' || c === '') || p.includes('\0')) {
    throw new FormatError('cpio.unsafe-path', `${what}: the member name "${name.slice(0, 120)}" is not a safe relative path`)
  }
  return p
}

/**
 * Reads odc cpio members one by one from `source` (decompressed bytes) until the `TRAILER!!!`
 * member. Bounded: names, link targets and the member count are capped; a truncated stream, a bad
 * header or an unsafe name is a FormatError naming `what`.
 */
export async function* readCpioOdc(source: AsyncIterable<Buffer | Uint8Array>, what: string): AsyncGenerator<CpioEntry> {
  const r = new ChunkReader(source[Symbol.asyncIterator](), what)
  for (let count = 0; ; count++) {
    if (count > MAX_CPIO_ENTRIES) throw new FormatError('cpio.too-many', `${what}: more than ${MAX_CPIO_ENTRIES} members`)
    const header = await r.exact(HEADER_BYTES, `the header of member ${count}`)
    if (header.toString('latin1', 0, 6) !== MAGIC) throw new FormatError('cpio.bad-magic', `${what}: member ${count} at byte ${r.position - HEADER_BYTES} does not start with ${MAGIC}`)
    const mode = octal(header, 18, 6, 'mode', what)
    const nameSize = octal(header, 59, 6, 'namesize', what)
    const size = octal(header, 65, 11, 'filesize', what)
    if (nameSize < 2 || nameSize > MAX_NAME_BYTES) throw new FormatError('cpio.header', `${what}: member ${count} has a name of ${nameSize} bytes`)
    const rawName = await r.exact(nameSize, `the name of member ${count}`)
    if (rawName[nameSize - 1] !== 0) throw new FormatError('cpio.header', `${what}: the name of member ${count} is not NUL-terminated`)
    const name = rawName.toString('utf8', 0, nameSize - 1)
    if (name === TRAILER) return
    const path = safeRelativePath(name, what)
    const type = mode & 0o170000
    const kind = type === 0o100000 ? 'file' : type === 0o040000 ? 'dir' : type === 0o120000 ? 'symlink' : 'other'
    const dataStart = r.position
    const entry: CpioEntry = {path, mode, kind, size, body: () => r.take(size - (r.position - dataStart), `the data of ${path}`)}
    if (kind === 'symlink') {
      if (size > MAX_LINK_BYTES) throw new FormatError('cpio.header', `${what}: the link ${path} has a ${size}-byte target`)
      entry.linkTarget = (await r.exact(size, `the target of ${path}`)).toString('utf8')
    }
    yield entry
    // Whatever the consumer left unread is skipped, so the next header is where it should be.
    const left = size - (r.position - dataStart)
    if (left > 0) await r.skip(left, `the data of ${path}`)
  }
}
