import {createHash} from 'node:crypto'
import {constants, type Stats} from 'node:fs'
import {chmod, chown, lstat, mkdir, open, readdir, readlink, rename, rm, rmdir, symlink, unlink} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import {absoluteSegments, segmentsStartWith} from '../layout/absolute-path.js'
import {RootFsError} from './root-fs-error.js'

export {RootFsError, isRootFsError} from './root-fs-error.js'

/** Suffix of the temporary sibling an atomic write or link replacement goes through. */
export const TEMP_SUFFIX = '.esdctl-new'
const COPY_CHUNK = 1024 * 1024
/** Setuid, setgid and group/other write never survive a copy into a root-owned tree. */
const COPY_MODE_MASK = 0o755

/**
 * The only way lifecycle code touches the disk. Reads are unrestricted but never follow a final
 * symlink; anything that creates, renames or deletes must lie inside one of the allowed roots given
 * at construction (the daemon's prefix, its one plist, esdctl's own directory), so a bug or a bad
 * value can never reach outside them. Each mutation is fsynced together with its directory.
 */
export class RootFs {
  private readonly allowed: string[][]

  constructor(readonly allowedRoots: readonly string[] = []) {
    this.allowed = allowedRoots.map((root) => {
      const segments = absoluteSegments(root)
      if (segments === undefined || segments.length === 0) throw new Error(`RootFs: ${JSON.stringify(root)} cannot be an allowed root`)
      return segments
    })
  }

  /** The same filesystem, allowed to change only below `roots`. */
  restrictedTo(roots: readonly string[]): RootFs {
    return new RootFs(roots)
  }

  isAllowed(path: string): boolean {
    const segments = absoluteSegments(path)
    return segments !== undefined && this.allowed.some((root) => segmentsStartWith(segments, root))
  }

  /**
   * The path must lie inside an allowed root by its text, and no directory between that root and
   * the path may be a symlink: a link planted at, say, etc/sub -> /etc would otherwise carry a
   * rename or a delete outside what esdctl may change. (The root and what lies above it are the
   * ancestor check's business.)
   */
  private async guard(path: string, what: string): Promise<void> {
    // A relative path or one with '..' has no segments, and no root (never empty) starts it.
    // Stryker disable next-line ArrayDeclaration: no allowed root (absolute) starts any relative stand-in either
    const segments = absoluteSegments(path) ?? []
    const root = this.allowed.find((r) => segmentsStartWith(segments, r))
    if (root === undefined) {
      throw new RootFsError('root-fs.outside-allowed', path, `refusing to ${what} ${path}: it is outside what esdctl may change (${this.allowedRoots.join(', ') || 'nothing'})`)
    }
    for (let depth = root.length + 1; depth < segments.length; depth++) {
      const dir = '/' + segments.slice(0, depth).join('/')
      const st = await this.lstat(dir)
      if (st === undefined) return
      if (st.isSymbolicLink()) {
        throw new RootFsError('root-fs.symlink', path, `refusing to ${what} ${path}: ${dir} is a symbolic link, and esdctl never writes through one; remove the link (it was not made by esdctl)`)
      }
    }
  }

  async lstat(path: string): Promise<Stats | undefined> {
    try {
      return await lstat(path)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw e
    }
  }

  async readFile(path: string, maxBytes: number): Promise<Buffer> {
    const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW)
    try {
      const stat = await handle.stat()
      if (!stat.isFile()) throw new RootFsError('root-fs.unsupported-entry', path, `${path} is not a regular file`)
      if (stat.size > maxBytes) throw new RootFsError('root-fs.too-large', path, `${path} is ${stat.size} bytes, more than the ${maxBytes} allowed`)
      const buffer = Buffer.alloc(Math.min(stat.size, maxBytes) + 1)
      const {bytesRead} = await handle.read(buffer, 0, buffer.length, 0)
      if (bytesRead > maxBytes) throw new RootFsError('root-fs.too-large', path, `${path} grew beyond ${maxBytes} bytes while being read`)
      return buffer.subarray(0, bytesRead)
    } finally {
      await handle.close()
    }
  }

  async sha256(path: string): Promise<string> {
    const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW)
    try {
      const hash = createHash('sha256')
      const buffer = Buffer.alloc(COPY_CHUNK)
      for (let position = 0; ; ) {
        const {bytesRead} = await handle.read(buffer, 0, buffer.length, position)
        if (bytesRead === 0) break
        hash.update(buffer.subarray(0, bytesRead))
        position += bytesRead
      }
      return hash.digest('hex')
    } finally {
      await handle.close()
    }
  }

  /** The names in a directory (empty when it does not exist). */
  async list(dir: string): Promise<string[]> {
    if (!(await this.lstat(dir))?.isDirectory()) return []
    return (await readdir(dir)).sort()
  }

  /** Regular files below `dir`, as `/`-separated relative paths, sorted; links and other entries are reported, never followed. */
  async listFiles(dir: string): Promise<{files: string[]; others: string[]}> {
    const files: string[] = []
    const others: string[] = []
    const walk = async (rel: string): Promise<void> => {
      const entries = (await readdir(join(dir, rel))).sort()
      for (const entry of entries) {
        const path = rel === '' ? entry : `${rel}/${entry}`
        const stat = await lstat(join(dir, path))
        if (stat.isDirectory()) await walk(path)
        else if (stat.isFile()) files.push(path)
        else others.push(path)
      }
    }
    if ((await this.lstat(dir))?.isDirectory()) await walk('')
    return {files, others}
  }

  /**
   * Creates `path` and any missing parents (root-owned, `mode`); an existing component that is a
   * link or not a directory is refused. Returns the directories it created, outermost first, so a
   * caller that must leave no trace can remove exactly those.
   */
  async ensureDir(path: string, mode: number): Promise<string[]> {
    await this.guard(path, 'create')
    return this.createMissing(path, mode)
  }

  /**
   * Creates the missing directories above `path`, which itself must be allowed (a link esdctl
   * maintains in /usr/local/bin, say): the directory is needed to write it, but is not esdctl's to
   * remove or change later. Returns the directories it created, outermost first.
   */
  async ensureParentDir(path: string, mode: number): Promise<string[]> {
    await this.guard(path, 'create the directory of')
    return this.createMissing(dirname(path), mode)
  }

  private async createMissing(path: string, mode: number): Promise<string[]> {
    const segments = absoluteSegments(path)!
    const created: string[] = []
    for (let depth = 1; depth <= segments.length; depth++) {
      const dir = '/' + segments.slice(0, depth).join('/')
      const stat = await this.lstat(dir)
      if (stat?.isSymbolicLink()) throw new RootFsError('root-fs.symlink', dir, `${dir} is a symbolic link; esdctl never creates anything through a link`)
      if (stat && !stat.isDirectory()) throw new RootFsError('root-fs.not-a-directory', dir, `${dir} is not a directory`)
      if (stat) continue
      // Creating a missing parent of an allowed path cannot destroy anything, so it needs no guard.
      // Stryker disable next-line ObjectLiteral: the chmod below sets the same mode; only the instant between the two calls differs
      await mkdir(dir, {mode})
      await chmod(dir, mode)
      await fsyncDir(dirname(dir))
      created.push(dir)
    }
    return created
  }

  /** Writes through a fresh temporary sibling, fsyncs it and renames it over `path`: readers see the old or the new file, never a torn one. */
  async writeFileAtomic(path: string, data: Buffer | string, mode: number): Promise<void> {
    await this.guard(path, 'write')
    const temp = path + TEMP_SUFFIX
    await this.removeTree(temp)
    const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode)
    try {
      await handle.chown(0, 0).catch(ignoreWhenNotRoot)
      await handle.chmod(mode)
      await handle.writeFile(data)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await this.rename(temp, path)
  }

  /** What the symbolic link at `path` holds (never followed); undefined when nothing is there. Throws when `path` is not a link. */
  async readLink(path: string): Promise<string | undefined> {
    const stat = await this.lstat(path)
    if (stat === undefined) return undefined
    return readlink(path)
  }

  /** Replaces (or creates) the symlink at `path` in one rename, so it never dangles or is missing. */
  async symlinkAtomic(target: string, path: string): Promise<void> {
    await this.guard(path, 'link')
    const temp = path + TEMP_SUFFIX
    await this.removeTree(temp)
    await symlink(target, temp)
    await this.rename(temp, path)
  }

  /** rename(2) with both directories fsynced; the destination is replaced if it is a file, link or empty directory. */
  async rename(from: string, to: string): Promise<void> {
    await this.guard(from, 'move')
    await this.guard(to, 'replace')
    await rename(from, to)
    await fsyncDir(dirname(to))
    // Stryker disable next-line ConditionalExpression,EqualityOperator: the source directory's fsync makes the rename survive a power cut, which no test can cut; fsyncing one directory twice (the "true" mutant) changes nothing
    if (dirname(from) !== dirname(to)) await fsyncDir(dirname(from))
  }

  /** Removes a file, link or whole tree without following any link; absent is fine. */
  async removeTree(path: string): Promise<void> {
    await this.guard(path, 'remove')
    const stat = await this.lstat(path)
    if (stat === undefined) return
    // Stryker disable next-line ConditionalExpression,BooleanLiteral: rm removes a file or a link as unlink does (never following it), and force matters only for a path that vanished since the lstat above
    if (stat.isDirectory()) await rm(path, {recursive: true, force: true})
    else await unlink(path)
    await fsyncDir(dirname(path))
  }

  /** Removes `path` only if it is an empty directory; returns whether it did. */
  async removeEmptyDir(path: string): Promise<boolean> {
    await this.guard(path, 'remove')
    try {
      await rmdir(path)
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      if (
        code === 'ENOENT' ||
        code === 'ENOTEMPTY' ||
        // Stryker disable next-line ConditionalExpression,EqualityOperator,StringLiteral: POSIX allows EEXIST for a directory that is not empty; Linux and macOS answer ENOTEMPTY
        code === 'EEXIST' ||
        code === 'ENOTDIR'
      ) {
        return false
      }
      throw e
    }
    await fsyncDir(dirname(path))
    return true
  }

  async setOwnerAndMode(path: string, mode: number): Promise<void> {
    await this.guard(path, 'change')
    const stat = await this.lstat(path)
    if (stat?.isSymbolicLink()) throw new RootFsError('root-fs.symlink', path, `${path} is a symbolic link; esdctl never changes anything through a link`)
    await chown(path, 0, 0).catch(ignoreWhenNotRoot)
    await chmod(path, mode)
  }

  /**
   * Copies `from` (anything readable) to `to` (which must not exist), root-owned: directories 0755
   * unless `topMode` says otherwise, files keep their execute bits but lose setuid and group/other
   * write, symlinks are copied as links. Devices, sockets and FIFOs refuse the copy. Every file is
   * fsynced so a later rename publishes complete bytes.
   */
  async copyTree(from: string, to: string, topMode = 0o755): Promise<void> {
    await this.guard(to, 'copy to')
    const copy = async (source: string, target: string, dirMode: number): Promise<void> => {
      const stat = await lstat(source)
      if (stat.isSymbolicLink()) {
        await symlink(await readlink(source), target)
      } else if (stat.isDirectory()) {
        // Stryker disable next-line ObjectLiteral: the chmod below sets the same mode; only the instant between the two calls differs
        await mkdir(target, {mode: dirMode})
        await chmod(target, dirMode)
        for (const entry of (await readdir(source)).sort()) await copy(join(source, entry), join(target, entry), 0o755)
        await fsyncDir(target)
      } else if (stat.isFile()) {
        await copyFile(source, target, stat.mode & COPY_MODE_MASK)
      } else {
        throw new RootFsError('root-fs.unsupported-entry', source, `${source} is neither a file, a directory nor a symbolic link; a payload may not contain devices, sockets or FIFOs`)
      }
    }
    await copy(from, to, topMode)
    await fsyncDir(dirname(to))
  }
}

async function copyFile(source: string, target: string, mode: number): Promise<void> {
  const input = await open(source, constants.O_RDONLY | constants.O_NOFOLLOW)
  try {
    const output = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode)
    try {
      await output.chmod(mode)
      const buffer = Buffer.alloc(COPY_CHUNK)
      for (let position = 0; ; ) {
        const {bytesRead} = await input.read(buffer, 0, buffer.length, position)
        if (bytesRead === 0) break
        await output.write(buffer, 0, bytesRead, position)
        position += bytesRead
      }
      await output.sync()
    } finally {
      await output.close()
    }
  } finally {
    await input.close()
  }
}

/** A rename or unlink is durable only once its directory is fsynced. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY)
  // Stryker disable next-line BlockStatement: without the sync the directory entry still changes at once; only a power cut right after it shows the difference, and no test can cut the power
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Tests of RootFs itself may run unprivileged; as root chown always works. */
function ignoreWhenNotRoot(e: unknown): void {
  if ((e as NodeJS.ErrnoException).code !== 'EPERM') throw e
}
