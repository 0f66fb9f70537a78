import {FormatError} from '../formats/format-error.js'
import {parseOwnJson, readOwnFile} from '../records/own-json.js'
import type {RootFs} from '../adapters/root-fs.js'
import type {LifecycleAction} from './context.js'
import type {Plan, PlanStep} from './plan.js'
import {cleanupProblem, isStepKind, stepProblem} from './plan-shape.js'

export type StepState = 'pending' | 'started' | 'done' | 'undone'

/**
 * `forward`: steps are being done. `undoing`: a step failed (or a run was interrupted before the
 * commit) and done steps are being undone in reverse. `committed`: the new state is in place and
 * only cleanup remains; recovery finishes it rather than undoing.
 */
export type JournalPhase = 'forward' | 'undoing' | 'committed'

export type JournalStep = PlanStep & {state: StepState}

/** The format this esdctl writes: the plan itself, each step with its state, and the phase. */
export const JOURNAL_SCHEMA_VERSION = 2

/** The journal is the plan (plan.ts) plus each step's state and the transaction's phase. */
export interface Journal extends Omit<Plan, 'steps'> {
  schemaVersion: typeof JOURNAL_SCHEMA_VERSION
  phase: JournalPhase
  steps: JournalStep[]
}

/**
 * What a journal of an earlier format says about itself: enough to report it (doctor) and to
 * refuse it with the version that wrote it. Format 1 named steps by id only, their meaning living
 * in that esdctl's code, so no other esdctl can act on it.
 */
export interface ForeignJournal {
  schemaVersion: number
  esdctlVersion?: string
  transaction: string
  action: LifecycleAction
  name: string
  label: string
  phase: JournalPhase
  /** Why this esdctl cannot act on it: an older format, a newer one, or step kinds it lacks. */
  foreign: string
}

const MAX_JOURNAL_BYTES = 4 * 1024 * 1024
const JOURNAL_MODE = 0o600
const VERSION = /^[0-9A-Za-z.+-]{1,64}$/
const STATES: readonly StepState[] = ['pending', 'started', 'done', 'undone']

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function headerProblem(j: Record<string, unknown>): string | undefined {
  if (!Number.isSafeInteger(j['schemaVersion'])) return 'no schemaVersion'
  for (const key of ['transaction', 'action', 'name', 'label']) if (typeof j[key] !== 'string') return `${key} is missing`
  if (!['forward', 'undoing', 'committed'].includes(j['phase'] as string)) return 'phase is missing or unknown'
  if (j['esdctlVersion'] !== undefined && (typeof j['esdctlVersion'] !== 'string' || !VERSION.test(j['esdctlVersion']))) return 'esdctlVersion is not a version'
  if (!Array.isArray(j['steps']) || j['steps'].length > 4096 || !j['steps'].every(isObject)) return 'steps is not a list'
  return undefined
}

/**
 * Reads a journal: this esdctl's format, checked step by step and cleanup by cleanup (a FormatError
 * `journal.malformed` names the first problem), or a ForeignJournal for an older or newer format
 * and for steps of a kind this esdctl lacks, which the caller refuses without acting on it.
 */
export function parseJournal(bytes: Buffer, path: string): Journal | ForeignJournal {
  const j = parseOwnJson(bytes, path, 'journal')
  const header = isObject(j) ? headerProblem(j) : 'not an object'
  if (!isObject(j) || header !== undefined) throw new FormatError('journal.malformed', `${path}: not an esdctl transaction journal (${header})`)
  const steps = j['steps'] as Record<string, unknown>[]
  const foreign = (why: string): ForeignJournal => ({...(j as unknown as ForeignJournal), foreign: why})
  if (j['schemaVersion'] !== JOURNAL_SCHEMA_VERSION) {
    if (j['schemaVersion'] === 1 && steps.every((s) => typeof s['id'] === 'string')) return foreign('it is in journal format 1, whose steps are names whose meaning lived in the code of the esdctl that wrote it')
    // Stryker disable next-line EqualityOperator: schemaVersion is not JOURNAL_SCHEMA_VERSION here, so > and >= agree
    if ((j['schemaVersion'] as number) > JOURNAL_SCHEMA_VERSION) return foreign(`it is in journal format ${j['schemaVersion'] as number}, newer than this esdctl's ${JOURNAL_SCHEMA_VERSION}`)
    throw new FormatError('journal.malformed', `${path}: not an esdctl transaction journal (unknown schemaVersion ${String(j['schemaVersion'])})`)
  }
  const unknown = steps.filter((s) => !isStepKind(s['kind'])).map((s) => String(s['kind']))
  if (unknown.length > 0 && steps.every((s) => typeof s['id'] === 'string')) return foreign(`it names step kinds this esdctl does not have (${unknown.join(', ')})`)
  const problem =
    (typeof j['esdctlVersion'] !== 'string' ? 'esdctlVersion is missing' : undefined) ??
    steps.map((s) => stepProblem(s) ?? (STATES.includes(s['state'] as StepState) ? undefined : `step ${String(s['id'])} has no valid state`)).find((p) => p !== undefined) ??
    (['finish', 'abandon', 'afterAbandon'] as const).map((k) => (Array.isArray(j[k]) && (j[k] as unknown[]).length <= 64 ? (j[k] as unknown[]).map(cleanupProblem).find((p) => p !== undefined) : `${k} is not a list`)).find((p) => p !== undefined)
  if (problem !== undefined) throw new FormatError('journal.malformed', `${path}: not an esdctl transaction journal (${problem})`)
  return j as unknown as Journal
}

export function isForeignJournal(j: Journal | ForeignJournal): j is ForeignJournal {
  return 'foreign' in j
}

/**
 * Who wrote a journal this esdctl cannot act on, in words for a refusal: the esdctl version it
 * names, else what its format says (a format above this esdctl's is a newer esdctl's, one below an
 * earlier one's; the same format with step kinds this esdctl lacks, simply another esdctl's).
 */
export function foreignJournalWriter(j: ForeignJournal, current: string): string {
  if (j.esdctlVersion !== undefined) return j.esdctlVersion === current ? `an earlier build of esdctl ${j.esdctlVersion}` : `esdctl ${j.esdctlVersion}`
  if (j.schemaVersion > JOURNAL_SCHEMA_VERSION) return 'a newer esdctl'
  return j.schemaVersion < JOURNAL_SCHEMA_VERSION ? 'an earlier esdctl' : 'another esdctl'
}

export async function readJournal(fs: RootFs, path: string): Promise<Journal | ForeignJournal | undefined> {
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
