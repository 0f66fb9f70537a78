import {lstat, readdir} from 'node:fs/promises'
import {join, relative} from 'node:path'
import {FormatError} from '../formats/format-error.js'
import {DEFAULT_ARCHIVE_LIMITS} from './archive-limits.js'

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

/**
 * Walks a payload directory without following links and returns the first regular file carrying a
 * set-id bit, as a FormatError `payload.set-id` naming it relative to `dir`; undefined when none.
 * Directories keep their setgid bit out of scope: it only chooses the group of new files and every
 * directory esdctl creates is 0755 anyway. Bounded by the archive entry limit (a directory payload
 * larger than an archive may be is refused by the same number).
 */
export async function findSetIdFile(dir: string, maxEntries = DEFAULT_ARCHIVE_LIMITS.maxEntries): Promise<FormatError | undefined> {
  let seen = 0
  const walk = async (path: string): Promise<FormatError | undefined> => {
    if (++seen > maxEntries) throw new FormatError('payload.too-many-entries', `${dir}: the payload has more than ${maxEntries} entries`)
    const stat = await lstat(path)
    if (stat.isFile() && (stat.mode & SET_ID_BITS) !== 0) return setIdRefusal(dir, relative(dir, path), stat.mode)
    if (!stat.isDirectory()) return undefined
    for (const entry of (await readdir(path)).sort()) {
      const found = await walk(join(path, entry))
      if (found !== undefined) return found
    }
    return undefined
  }
  return walk(dir)
}
