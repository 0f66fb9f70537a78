import {FormatError} from '../formats/format-error.js'
import {parseOwnJson, readOwnFile} from '../records/own-json.js'
import type {RootFs} from '../adapters/root-fs.js'
import type {LifecycleAction} from './context.js'

export type StepState = 'started' | 'done' | 'undone'

/**
 * `forward`: steps are being done. `undoing`: a step failed (or a run was interrupted before the
 * commit) and done steps are being undone in reverse. `committed`: the new state is in place and
 * only cleanup remains; recovery finishes it rather than undoing.
 */
export type JournalPhase = 'forward' | 'undoing' | 'committed'

export interface JournalStep {
  id: string
  state: StepState
}

export interface Journal<D = unknown> {
  schemaVersion: 1
  /** The esdctl that opened the transaction; absent in journals written before it was recorded. */
  esdctlVersion?: string
  transaction: string
  action: LifecycleAction
  name: string
  label: string
  phase: JournalPhase
  steps: JournalStep[]
  /** Everything needed to rebuild the steps after a crash: paths, versions, what existed before. */
  data: D
}

const MAX_JOURNAL_BYTES = 4 * 1024 * 1024
const JOURNAL_MODE = 0o600

export function parseJournal(bytes: Buffer, path: string): Journal {
  const j = parseOwnJson(bytes, path, 'journal') as Partial<Journal> | null
  const ok =
    typeof j === 'object' && j !== null && j.schemaVersion === 1 && typeof j.transaction === 'string' && typeof j.action === 'string' &&
    typeof j.name === 'string' && typeof j.label === 'string' && (j.phase === 'forward' || j.phase === 'undoing' || j.phase === 'committed') &&
    Array.isArray(j.steps) && j.steps.every((s) => typeof s?.id === 'string' && (s.state === 'started' || s.state === 'done' || s.state === 'undone')) &&
    typeof j.data === 'object' && j.data !== null && (j.esdctlVersion === undefined || (typeof j.esdctlVersion === 'string' && /^[0-9A-Za-z.+-]{1,64}$/.test(j.esdctlVersion)))
  if (!ok) throw new FormatError('journal.malformed', `${path}: not an esdctl transaction journal`)
  return j as Journal
}

export async function readJournal(fs: RootFs, path: string): Promise<Journal | undefined> {
  const bytes = await readOwnFile(fs, path, MAX_JOURNAL_BYTES, 'journal', 'the transaction journal')
  return bytes === undefined ? undefined : parseJournal(bytes, path)
}

/** Written whole through a temporary file, fsynced, renamed, directory fsynced: the journal is always one consistent version. */
export async function writeJournal(fs: RootFs, path: string, journal: Journal): Promise<void> {
  await fs.writeFileAtomic(path, JSON.stringify(journal, null, 1) + '\n', JOURNAL_MODE)
}

export async function clearJournal(fs: RootFs, path: string): Promise<void> {
  await fs.removeTree(path)
}
