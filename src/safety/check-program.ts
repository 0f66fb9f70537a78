import {realpath} from 'node:fs/promises'
import {dirname} from 'node:path'
import {absoluteSegments} from '../layout/absolute-path.js'
import {checkAncestors, realLstatFs, type LstatFs} from './check-ancestors.js'

/** The calls the program check makes: lstat (not following a final link) and realpath (resolving every link). */
export interface ProgramFs extends LstatFs {
  realpath(path: string): Promise<string>
}

export const realProgramFs: ProgramFs = {...realLstatFs, realpath: (path) => realpath(path)}

/** A program root may run: `resolved` is the path with every link resolved, the object that was checked and must be run. */
export type ProgramCheck = {ok: true; resolved: string} | {ok: false; problems: string[]; fix: string}

const GROUP_OR_OTHER_WRITE = 0o022
/** stat(2)'s file-type mask and its regular-file value. */
const S_IFMT = 0o170000
const S_IFREG = 0o100000

/**
 * Whether root may run the program at `path` (absolute, no `..`): after resolving every symbolic
 * link, the file must be a regular file owned by root and writable by neither its group nor
 * others, and every directory above it up to `/` must pass checkAncestors (root-owned, writable
 * only by root, a root-owned sticky directory such as /tmp excepted: there others cannot rename
 * or remove what root owns). Run `resolved`, not `path`: a link esdctl did not check could be
 * pointed elsewhere between the check and the exec. Apple's daemon guidance (root:wheel, 0755
 * executables, root-only directories up to `/`) is the source of the rule. Never throws for the
 * file's state: a missing or unreadable program is a problem in the result.
 */
export async function checkProgram(path: string, fs: ProgramFs = realProgramFs): Promise<ProgramCheck> {
  if (absoluteSegments(path) === undefined) {
    return {ok: false, problems: [`${JSON.stringify(path)} is not an absolute path without '..'`], fix: 'Name the program by its full path.'}
  }
  let resolved: string
  try {
    resolved = await fs.realpath(path)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message
    return {ok: false, problems: [`${path} cannot be resolved (${code})`], fix: `Install the program at ${path} (root-owned, mode 0755), or correct the path.`}
  }
  const shown = resolved === path ? path : `${path} (which resolves to ${resolved})`
  const problems: string[] = []
  const stat = await fs.lstat(resolved).catch(() => undefined)
  if (stat === undefined) problems.push(`${shown} cannot be inspected`)
  else {
    // By the file-type bits: a FIFO or a device is no program either (StatLike has no isFile).
    if ((stat.mode & S_IFMT) !== S_IFREG) problems.push(`${shown} is not a regular file`)
    if (stat.uid !== 0) problems.push(`${shown} is owned by uid ${stat.uid}, not root`)
    if ((stat.mode & GROUP_OR_OTHER_WRITE) !== 0) problems.push(`${shown} (mode ${(stat.mode & 0o7777).toString(8).padStart(4, '0')}) is writable by ${stat.mode & 0o002 ? 'everyone' : 'its group'}`)
  }
  const ancestors = await checkAncestors(dirname(resolved), fs)
  problems.push(...ancestors.map((o) => o.message))
  if (problems.length === 0) return {ok: true, resolved}
  // checkAncestors gives every offender a fix; the fallback only satisfies the optional type.
  // Stryker disable next-line StringLiteral: see above
  const directoryFix = ancestors[0]?.fix ?? 'Move the program to a directory only root can write.'
  // Only directories above it are at fault (problems is not empty here, so neither is ancestors): their fix.
  const fix = problems.length === ancestors.length
    ? directoryFix
    : `Keep the program where only root can change it: sudo chown root:wheel ${resolved} && sudo chmod 0755 ${resolved}, in a directory only root can write (e.g. inside the daemon's bundle, "{bundle}/Contents/MacOS/<tool>").`
  return {ok: false, problems, fix}
}
