import {chmod, copyFile, lstat, mkdir, readdir, readlink, symlink} from 'node:fs/promises'
import {dirname, isAbsolute, join, relative, resolve, sep} from 'node:path'
import {BuildRefusal} from '../bundle/bundle-error.js'

/** A payload's directories hold a daemon's files; a tree beyond this is the wrong directory. */
const MAX_ENTRIES = 200_000

/**
 * Copies `from` to `to` (which must not exist). Regular files keep only their execute bits; links
 * are copied as links only when `allowLinks` and they are relative and stay inside `from` (a signed
 * bundle's framework links); anything else is refused, naming the file and the flag it came from.
 */
export async function copyPayloadTree(from: string, to: string, opts: {flag: string; allowLinks: boolean}): Promise<void> {
  const top = await lstat(from).catch(() => undefined)
  if (!top?.isDirectory()) throw new BuildRefusal('payload.not-a-directory', from, opts.flag, 'is not a directory', `Pass a directory with ${opts.flag}.`)
  let count = 0
  const walk = async (src: string, dst: string): Promise<void> => {
    await mkdir(dst, {mode: 0o755})
    for (const entry of (await readdir(src)).sort()) {
      if (++count > MAX_ENTRIES) throw new BuildRefusal('payload.too-many-files', from, opts.flag, `holds more than ${MAX_ENTRIES} entries`, 'Check that the directory is the right one.')
      const source = join(src, entry)
      const target = join(dst, entry)
      const info = await lstat(source)
      if (info.isDirectory()) {
        await walk(source, target)
      } else if (info.isFile()) {
        await copyFile(source, target)
        await chmod(target, info.mode & 0o111 ? 0o755 : 0o644)
      } else if (info.isSymbolicLink() && opts.allowLinks) {
        const link = await readlink(source)
        const resolved = resolve(dirname(source), link)
        if (isAbsolute(link) || (resolved !== from && !resolved.startsWith(from + sep))) {
          throw new BuildRefusal('payload.link-escapes', source, opts.flag, `is a link to ${link}, outside ${relative(process.cwd(), from) || from}`, 'Replace the link with the file, or make it a relative link inside the directory.')
        }
        await symlink(link, target)
      } else {
        throw new BuildRefusal('payload.special-file', source, opts.flag, info.isSymbolicLink() ? 'is a symbolic link; only files and directories are allowed here' : 'is not a regular file or directory', 'Replace it with a regular file.')
      }
    }
  }
  await walk(from, to)
}
