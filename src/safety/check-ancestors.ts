import {lstat, readlink} from 'node:fs/promises'
import {absoluteSegments, joinSegments} from '../layout/absolute-path.js'
import type {Finding} from '../verify/finding.js'

/** The part of a stat result the check needs; real `fs.Stats` satisfies it. */
export interface StatLike {
  uid: number
  gid: number
  mode: number
  isDirectory(): boolean
  isSymbolicLink(): boolean
}

/** The file-system calls the check makes, so tests can feed fake stats. lstat must not follow a final symlink; readlink names a link's target for the message. */
export interface LstatFs {
  lstat(path: string): Promise<StatLike>
  readlink?(path: string): Promise<string>
}

export const realLstatFs: LstatFs = {lstat: path => lstat(path), readlink: path => readlink(path)}

export type AncestorProblem = 'symlink' | 'not-a-directory' | 'not-root-owned' | 'group-writable' | 'world-writable' | 'unreadable'

export interface AncestorOffender extends Finding {
  id: 'safety.unsafe-ancestor'
  severity: 'error'
  /** The offending directory (same as `path`). */
  directory: string
  uid?: number
  gid?: number
  /** Permission bits and file type bits as lstat reported them; absent for a symbolic link, whose own bits mean nothing. */
  mode?: number
  /** A symbolic link's target, as readlink gives it. */
  target?: string
  problems: AncestorProblem[]
}

const STICKY = 0o1000
const GROUP_WRITE = 0o020
const OTHER_WRITE = 0o002

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0')
}

const PROBLEM_TEXT: Record<AncestorProblem, string> = {
  // Stryker disable next-line StringLiteral: a link's message is built apart (checkAncestors), so this text is never shown; the entry exists because the Record needs every problem
  'symlink': 'is a symbolic link',
  'not-a-directory': 'is not a directory',
  'not-root-owned': 'is not owned by root',
  'group-writable': 'is writable by its group',
  'world-writable': 'is writable by everyone',
  // Stryker disable next-line StringLiteral: problemsOf never yields 'unreadable' (that offender has its own message); the entry exists because the Record needs every problem
  'unreadable': 'cannot be inspected',
}

function problemsOf(stat: StatLike): AncestorProblem[] {
  const problems: AncestorProblem[] = []
  if (stat.isSymbolicLink()) problems.push('symlink')
  else if (!stat.isDirectory()) problems.push('not-a-directory')
  if (stat.uid !== 0) problems.push('not-root-owned')
  // Root-owned sticky directories such as /tmp let others create entries but not rename or remove ours.
  const stickyRootDir = stat.uid === 0 && (stat.mode & STICKY) !== 0 && stat.isDirectory()
  // A link's own permission bits mean nothing (Linux reports 0777); the link itself is the problem.
  if (!stickyRootDir && !stat.isSymbolicLink()) {
    if (stat.mode & GROUP_WRITE) problems.push('group-writable')
    if (stat.mode & OTHER_WRITE) problems.push('world-writable')
  }
  return problems
}

function fixFor(directory: string, problems: readonly AncestorProblem[]): string {
  if (problems.includes('symlink')) return `Replace the symbolic link ${directory} with a real directory (or choose a path without links), so nobody can redirect what esdctl writes as root.`
  if (problems.includes('not-a-directory')) return `Remove or rename ${directory}; esdctl needs a directory there.`
  if (problems.includes('unreadable')) return `Make ${directory} inspectable by root and run again.`
  return `Run: sudo chown root:wheel ${directory} && sudo chmod go-w ${directory}`
}

/**
 * Every directory from `target` up to `/` must be a real directory, owned by root and writable only
 * by root (a root-owned sticky directory excepted); otherwise someone other than root could swap
 * what esdctl is about to write as root. Components that do not exist yet are skipped: esdctl will
 * create them. Returns one offender per unsafe directory, empty when all is well.
 */
export async function checkAncestors(target: string, fs: LstatFs = realLstatFs): Promise<AncestorOffender[]> {
  const segments = absoluteSegments(target)
  if (segments === undefined) throw new Error(`checkAncestors needs an absolute path without '..', got ${JSON.stringify(target)}`)
  const offenders: AncestorOffender[] = []
  for (let depth = segments.length; depth >= 0; depth--) {
    const directory = joinSegments(segments.slice(0, depth))
    let stat: StatLike
    try {
      stat = await fs.lstat(directory)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue
      const reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message
      offenders.push({
        id: 'safety.unsafe-ancestor',
        severity: 'error',
        path: directory,
        directory,
        problems: ['unreadable'],
        message: `${directory} cannot be inspected (${reason}), so esdctl cannot tell whether it is safe to write below it as root`,
        fix: fixFor(directory, ['unreadable']),
      })
      continue
    }
    const problems = problemsOf(stat)
    if (problems.length === 0) continue
    // A root-owned file nobody else can write, where a directory belongs, is in the way, not a
    // foothold for another user: say so rather than suggest an attack.
    const onlyInTheWay = problems.length === 1 && problems[0] === 'not-a-directory'
    const consequence = onlyInTheWay ? 'esdctl needs a directory there; move it away and run again' : 'a non-root user could redirect or replace what esdctl writes below it'
    const common = {id: 'safety.unsafe-ancestor', severity: 'error', path: directory, directory, uid: stat.uid, gid: stat.gid} as const
    if (stat.isSymbolicLink()) {
      // What matters of a link is that it is one, who owns it and where it leads; its mode is lchmod noise (0777 on Linux).
      const target = await fs.readlink?.(directory).catch(() => undefined)
      // problemsOf gives a link no problem but its owner besides being one.
      const owner = problems.includes('not-root-owned') ? ` and ${PROBLEM_TEXT['not-root-owned']}` : ''
      const link = `${directory} is a symbolic link${target !== undefined ? ` to ${JSON.stringify(target)}` : ''} (owner uid ${stat.uid}, group gid ${stat.gid})`
      offenders.push({...common, ...(target !== undefined ? {target} : {}), problems, message: `${link}${owner}; ${consequence}`, fix: fixFor(directory, problems)})
      continue
    }
    const what = problems.map(p => PROBLEM_TEXT[p]).join(', ')
    offenders.push({...common, mode: stat.mode, problems, message: `${directory} (owner uid ${stat.uid}, group gid ${stat.gid}, mode ${octal(stat.mode)}) ${what}; ${consequence}`, fix: fixFor(directory, problems)})
  }
  return offenders
}
