import type {PlacedLink} from '../layout/daemon-links.js'
import type {Manifest} from '../manifest/manifest.js'
import type {LifecycleAction} from './context.js'
import type {LinkState} from './link-states.js'
import type {Move} from './moves.js'

/** A directory a step creates; `removeOnUndo` removes it again on undo, only if empty. */
export interface DirSpec {
  path: string
  mode: number
  removeOnUndo: boolean
}

/** A job of an adopted legacy install, by label, with its plist (rebased) when it has one. */
export interface JobRef {
  label: string
  plist?: string
}

export type EtcAction = 'new' | 'replace' | 'keep'

interface StepCommon {
  /** Stable within the action: names the step in progress output, fault points and the journal. */
  id: string
  /** What the step does, in words; dry run prints it and the journal keeps it. */
  title: string
}

/**
 * One step of a plan: plain data (every path rebased, every decision already taken), run by the
 * one executor for its `kind` (src/lifecycle/steps/<kind>.ts). Nothing in it is a closure, so the
 * journal can hold it and recovery after a crash runs the same executors' undo.
 */
export type PlanStep = StepCommon &
  (
    | {kind: 'move'; moves: Move[]; before: DirSpec[]; after: DirSpec[]}
    | {kind: 'enable'; label: string}
    | {kind: 'bootout'; label: string; plist: string; loaded: boolean; waitMs: number; wait: boolean}
    | {kind: 'await-exit'; label: string; loaded: boolean; waitMs: number}
    | {kind: 'bootout-jobs'; jobs: JobRef[]; waitMs: number}
    | {kind: 'bootstrap'; label: string; plist: string; enable: boolean; waitMs: number}
    | {kind: 'bootstrap-jobs'; jobs: JobRef[]; waitMs: number}
    | {kind: 'health-check'; manifest: Manifest; bundle: string}
    | {kind: 'links'; before: LinkState[]; after: PlacedLink[]}
    | {kind: 'config'; etcDir: string; stagedEtc: string; backupDir: string; files: {file: string; action: EtcAction}[]}
    | {kind: 'write-plist'; path: string; from: string; keep: string; hadPlist: boolean}
    | {kind: 'swap-plist'; path: string; slotPath: string; savedCurrent: string; savedSlot: string}
    | {kind: 'remove-plist'; path: string; saved: string}
    | {kind: 'write-records'; receipt: string; kept: string; from: string; hadInstall: boolean; addToRegistry: boolean}
    | {kind: 'registry'; change: 'add' | 'remove'; apply: boolean}
  )

export type StepKind = PlanStep['kind']
export type StepOf<K extends StepKind> = Extract<PlanStep, {kind: K}>

/** Cleanup after the commit or after an undo: one-way, idempotent, no undo of its own. */
export type Cleanup =
  | {kind: 'remove-tree'; path: string}
  | {kind: 'remove-empty-dir'; path: string}
  /** Everything under `prefix` except `keep` (the state directory with the journal), then the prefix. */
  | {kind: 'purge-prefix'; prefix: string; keep: string}
  /** Directories the attempt created before its journal existed, innermost removed first, each only if empty. */
  | {kind: 'remove-created-dirs'; dirs: string[]}

/**
 * What a lifecycle action will do, decided in full before anything changes (DESIGN.md §2): the
 * dry run prints it, the real run journals it (journal.ts) and runs it (run-plan.ts).
 */
export interface Plan {
  action: LifecycleAction
  name: string
  label: string
  /** The esdctl that made the plan (a later esdctl reading the journal checks it). */
  esdctlVersion: string
  transaction: string
  steps: PlanStep[]
  /** After the commit: make the new state final (scratch directory, retired slot). */
  finish: Cleanup[]
  /** After every step was undone: drop what the attempt left (its scratch directory). */
  abandon: Cleanup[]
  /** After the journal is gone: directories a first attempt created, the journal's own among them. */
  afterAbandon: Cleanup[]
}

/** The steps as the dry run and `--json` show them: id, kind and title, in order. */
export function planSummary(plan: Pick<Plan, 'steps'>): {id: string; kind: StepKind; title: string}[] {
  return plan.steps.map((s) => ({id: s.id, kind: s.kind, title: s.title}))
}
