import {rmSync} from 'node:fs'
import {lstat, mkdtemp, readdir, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

/** A private directory (mkdtemp: 0700, unique) and how to remove it with everything in it. */
export interface ScratchDir {
  path: string
  /** Scratch directories of the same kind that dead runs left in the same parent, removed before this one was made. */
  swept: string[]
  dispose(): Promise<void>
}

/** What marks a scratch directory as esdctl's own; every lead must contain it. */
const MARK = 'esdctl-'
/** mkdtemp's six random characters. */
const RANDOM = '[A-Za-z0-9]{6}'
const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const

/** Every scratch directory this process has made and not disposed of: removed if a signal ends the process. */
const live = new Set<string>()
let handlersInstalled = false

function onSignal(signal: NodeJS.Signals): void {
  for (const path of live) rmSync(path, {recursive: true, force: true})
  live.clear()
  removeHandlers()
  // With its own handler gone, the signal does what it would have done: the process ends by it
  // (exit status 128 + signal number for the shell), unless another part of the program handles it.
  process.kill(process.pid, signal)
}

function removeHandlers(): void {
  for (const signal of SIGNALS) process.removeListener(signal, onSignal)
  handlersInstalled = false
}

function register(path: string): void {
  live.add(path)
  if (handlersInstalled) return
  for (const signal of SIGNALS) process.on(signal, onSignal)
  handlersInstalled = true
}

function unregister(path: string): void {
  live.delete(path)
  if (live.size === 0 && handlersInstalled) removeHandlers()
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** True while a process with this pid exists (EPERM: it exists, owned by another user). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Removes the scratch directories named `<lead><pid>-XXXXXX` in `parent` that a run killed before
 * it could clean up left behind (SIGKILL, a power cut): only real directories (a link is never
 * followed nor removed), owned by the current user, whose pid is not a live process. `lead` is the
 * exact lead, or a pattern for a family of leads (e.g. every `.<name>.esdctl-` beside an --out); a
 * pattern must contain `esdctl-` literally, so only esdctl's own directories ever match. Returns the
 * paths removed. An unreadable parent sweeps nothing: making the new scratch directory says why.
 */
export async function sweepStaleScratch(parent: string, lead: string | RegExp): Promise<string[]> {
  const source = typeof lead === 'string' ? escapeRegExp(lead) : `(?:${lead.source})`
  if (!source.includes(MARK)) throw new Error(`a scratch sweep pattern must contain ${JSON.stringify(MARK)}, got ${JSON.stringify(source)}`)
  const pattern = new RegExp(`^${source}(\\d{1,10})-${RANDOM}$`)
  const entries = await readdir(parent).catch(() => [] as string[])
  const uid = process.getuid?.()
  const removed: string[] = []
  for (const entry of entries) {
    const match = pattern.exec(entry)
    if (match === null) continue
    const pid = Number(match[1])
    if (pid === process.pid || isAlive(pid)) continue
    const path = join(parent, entry)
    const stat = await lstat(path).catch(() => undefined)
    if (stat === undefined || !stat.isDirectory() || (uid !== undefined && stat.uid !== uid)) continue
    await rm(path, {recursive: true, force: true})
    removed.push(path)
  }
  return removed
}

/**
 * Makes a private scratch directory `<parent>/<lead><pid>-XXXXXX` (default parent: the system's
 * temporary directory), after sweeping the stale ones dead runs left with the same lead (or, given
 * `family`, any lead of that family: sweepStaleScratch), and
 * registers it so SIGTERM, SIGINT or SIGHUP remove it before the process ends. `lead` must contain
 * `esdctl-`, so the sweep only ever matches esdctl's own directories. `dispose` removes it and
 * forgets it; a directory renamed into place before `dispose` simply is no longer there to remove.
 */
export async function makeScratchDir(lead: string, parent: string = tmpdir(), family?: RegExp): Promise<ScratchDir> {
  if (!lead.includes(MARK) || lead.includes('/')) throw new Error(`a scratch directory's lead must contain ${JSON.stringify(MARK)} and no '/', got ${JSON.stringify(lead)}`)
  if (family && !new RegExp(`^(?:${family.source})$`).test(lead)) throw new Error(`a scratch directory's lead ${JSON.stringify(lead)} is not of its family ${family.source}`)
  const swept = await sweepStaleScratch(parent, family ?? lead)
  const path = await mkdtemp(join(parent, `${lead}${process.pid}-`))
  register(path)
  return {
    path,
    swept,
    dispose: async () => {
      try {
        await rm(path, {recursive: true, force: true})
      } finally {
        unregister(path)
      }
    },
  }
}
