import {hasErrorCode} from '../io/error-code.js'
import {finding, type Finding} from './finding.js'

/**
 * A part of the input that is there but that the system will not let esdctl read (EACCES, EPERM,
 * EIO …): an fs error with a syscall, other than "absent" (ENOENT, ENOTDIR) and other than "not a
 * regular file" (NotRegularFileError, judged as a bad part by each check). macOS reads every file of
 * a bundle as root, so esdctl cannot tell what it would decide: bad input (exit 4), never a verdict
 * and never an exception.
 */
export function isReadRefusal(e: unknown): e is NodeJS.ErrnoException & {code: string} {
  // Node's fs errors name their system call; NotRegularFileError and FormatError carry a code but none.
  return hasErrorCode(e) && typeof e.syscall === 'string' && e.code !== 'ENOENT' && e.code !== 'ENOTDIR'
}

/** What to do about a part of a bundle esdctl may not read. */
export const UNREADABLE_MEMBER_FIX = 'Run esdctl as a user who may read every file of the bundle (sudo for an installed one), or make its files readable (0644 files, 0755 folders and executables, as installers lay them down).'

/** The message naming the part and the system's reason. */
export function unreadableMessage(path: string, e: {code: string}): string {
  return `${path}: cannot be read (${e.code}), so esdctl cannot judge the bundle; macOS reads it as root`
}

/** The finding for a part of a bundle esdctl may not read: `input.unreadable`, the file and the system's reason named. */
export function unreadableMember(path: string, e: {code: string}): Finding {
  return finding('input.unreadable', path, unreadableMessage(path, e), UNREADABLE_MEMBER_FIX)
}

/** The read refusals a reader meets, in the words of their strerror(3) (POSIX errno names); any other code is shown as itself. */
const REFUSAL_WORDS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EIO: 'input/output error',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
}

/** `permission denied (EACCES)` for a refusal's errno code, for a reader rather than a program. */
export function refusalInWords(code: string): string {
  const words = REFUSAL_WORDS[code]
  return words ? `${words} (${code})` : code
}
