import {lstat, readdir, readlink, stat as statFollowing} from 'node:fs/promises'
import {join, relative} from 'node:path'
import {FormatError, isFormatError} from '../formats/format-error.js'
import {DEFAULT_ARCHIVE_LIMITS} from './archive-limits.js'
import {checkSymlinkTarget, DIRECTORY_REFUSAL_TAIL} from './entry-paths.js'

/** S_ISUID | S_ISGID (sys/stat.h). */
export const SET_ID_BITS = 0o6000

/**
 * Why esdctl refuses, rather than strips, a payload file with the setuid or setgid bit: installed
 * root-owned under /opt, such a file runs with root's rights for whoever starts it, and a daemon
 * payload has no business shipping one; stripping it silently would instead break a helper that
 * relied on it at some later, puzzling moment. So the payload is refused before anything is
 * copied, naming the file and the bits. (Every copy esdctl makes masks the bits too, so a bit set
 * after this check never reaches the prefix.)
 */
export function setIdRefusal(where: string, entry: string, mode: number): FormatError {
  const bits = [mode & 0o4000 ? 'setuid' : '', mode & 0o2000 ? 'setgid' : ''].filter(Boolean).join(' and ')
  return new FormatError(
    'payload.set-id',
    `${where}: ${JSON.stringify(entry)} has the ${bits} bit (mode ${(mode & 0o7777).toString(8).padStart(4, '0')}); esdctl refuses set-id files in a payload ` +
      `(installed root-owned they would run as root for anyone). Clear the bit (chmod u-s,g-s) and build the payload again; nothing was installed`,
  )
}

function specialFileRefusal(where: string, entry: string): FormatError {
  return new FormatError('payload.special-file', `${where}: ${JSON.stringify(entry)} is neither a file, a directory nor a symbolic link (a FIFO, socket or device); a payload may hold only those three. Remove it and build the payload again; nothing was installed`)
}

/**
 * Walks a payload directory without following links and returns the first entry esdctl refuses,
 * as a FormatError naming it relative to `dir`; undefined when none. Refused are:
 * - a regular file carrying a set-id bit (`payload.set-id`). Directories keep their setgid bit out
 *   of scope: it only chooses the group of new files and every directory esdctl creates is 0755;
 * - a symbolic link whose target leaves the payload (`payload.link-escape`), by the same rule the
 *   archive extractor applies to a `.tar.gz` (checkSymlinkTarget): a directory payload is copied
 *   into the root-owned prefix links and all, so `lib -> /etc` would become `/opt/<name>/lib -> /etc`.
 * - a FIFO, socket or device (`payload.special-file`): the prefix holds files, directories and links
 *   only, and copying a FIFO would block on it.
 * Bounded by the archive entry limit (a directory payload larger than an archive may be is refused
 * by the same number).
 */
export async function findRefusedPayloadEntry(dir: string, limits = DEFAULT_ARCHIVE_LIMITS): Promise<FormatError | undefined> {
  let seen = 0
  const walk = async (path: string, depth: number): Promise<FormatError | undefined> => {
    if (++seen > limits.maxEntries) throw new FormatError('payload.too-many-entries', `${dir}: the payload has more than ${limits.maxEntries} entries`)
    // The payload itself may be given through a link (a path under /tmp on macOS is one); its entries are not followed.
    const stat = depth === 0 ? await statFollowing(path) : await lstat(path)
    if (stat.isFile() && (stat.mode & SET_ID_BITS) !== 0) return setIdRefusal(dir, relative(dir, path), stat.mode)
    if (stat.isSymbolicLink()) {
      try {
        checkSymlinkTarget(await readlink(path), relative(dir, path), depth, dir, limits, DIRECTORY_REFUSAL_TAIL)
      } catch (e) {
        if (isFormatError(e)) return e
        throw e
      }
      return undefined
    }
    if (!stat.isDirectory() && !stat.isFile()) return specialFileRefusal(dir, relative(dir, path))
    if (!stat.isDirectory()) return undefined
    for (const entry of (await readdir(path)).sort()) {
      const found = await walk(join(path, entry), depth + 1)
      if (found !== undefined) return found
    }
    return undefined
  }
  return walk(dir, 0)
}
