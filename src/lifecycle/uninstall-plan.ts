import {join, relative} from 'node:path'
import {ToolPaths, type PrefixLayout} from '../layout/prefix-layout.js'
import type {LifecycleContext} from './context.js'
import {esdctlVersion} from './esdctl-version.js'
import type {LinkState} from './link-states.js'
import type {Move} from './moves.js'
import type {Plan, PlanStep} from './plan.js'
import {stepsThatRun} from './steps-that-run.js'

/** What uninstall (and rollback to a legacy install) learns while preparing; the plan is made from it. */
export interface UninstallData {
  work: string
  wasLoaded: boolean
  oldStopWaitMs: number
  purge: boolean
  inRegistry: boolean
  fromVersion?: string
  /** Prefix entries the installed version owns. */
  entries: string[]
  /** What the installed version's link paths held before the uninstall. */
  linksBefore: LinkState[]
  /**
   * Rollback to the legacy install an adoption replaced: its jobs (label, plist rebased), put back
   * from the rollback slot and started again once the bundled daemon is gone.
   */
  legacy?: {
    jobs: {label: string; plist: string}[]
    /** The `<file>.default` files the adoption wrote beside the admin's config and that are still its bytes: set aside (parked), so etc/ is as adopted. */
    etcDefaults?: string[]
    /** Directories the adoption created (for StandardOutPath/StandardErrorPath), outermost first: removed at the end while empty. */
    createdDirs?: string[]
  }
}

/** Puts the adopted legacy install back from the parked rollback slot (bytes unchanged: renames) and starts its jobs. */
function legacySteps(layout: PrefixLayout, data: UninstallData, jobs: {label: string; plist: string}[]): PlanStep[] {
  const parkedSlot = join(data.work, 'parked', 'previous')
  const moves: Move[] = [
    {from: join(parkedSlot, 'legacy', 'bin', layout.name), to: join(layout.bin, layout.name)},
    ...jobs.map((j) => ({from: j.label === layout.label ? join(parkedSlot, `${j.label}.plist`) : join(parkedSlot, 'legacy', `${j.label}.plist`), to: j.plist})),
  ]
  const defaults = data.legacy?.etcDefaults ?? []
  const parkedDefaults = join(data.work, 'parked', 'etc-defaults')
  return [
    // Flat names in the parking area: a nested config file needs no directories made there.
    ...(defaults.length === 0 ? [] : [{kind: 'move', id: 'park-defaults', title: `Set aside the config defaults the adoption wrote beside the admin's files (${defaults.map((d) => relative(layout.etc, d)).join(', ')})`, moves: defaults.map((from, i) => ({from, to: join(parkedDefaults, String(i))})), before: [{path: parkedDefaults, mode: 0o700, removeOnUndo: true}], after: []} satisfies PlanStep]),
    {kind: 'move', id: 'restore-legacy', title: `Move the legacy ${join(layout.system.bin, layout.name)} and its job plists back from the rollback slot`, moves, before: [{path: layout.bin, mode: 0o755, removeOnUndo: false}], after: []},
    {kind: 'bootstrap-jobs', id: 'bootstrap-legacy', title: `Start the legacy jobs again (${jobs.map((j) => j.label).join(', ')})`, jobs, waitMs: data.oldStopWaitMs},
  ]
}

/**
 * uninstall parks everything it removes inside the prefix's staging area first, so until the
 * commit it can put it all back; only after the commit is the parked copy deleted. etc/ and var/
 * stay unless `purge`, which then removes the whole prefix.
 */
export function uninstallPlan(ctx: LifecycleContext, layout: PrefixLayout, data: UninstallData, action: 'uninstall' | 'rollback', transaction: string): Plan {
  const parkMoves: Move[] = [
    ...data.entries.map((e) => ({from: join(layout.prefix, e), to: join(data.work, 'parked', e)})),
    {from: layout.receipt, to: join(data.work, 'parked', 'receipt.json')},
    {from: layout.shippedDefaults, to: join(data.work, 'parked', 'shipped-defaults')},
    {from: layout.rollbackSlot, to: join(data.work, 'parked', 'previous')},
  ]
  const {label, launchdPlist: plist} = layout
  const steps: PlanStep[] = [
    {kind: 'move', id: 'prepare', title: 'Prepare the parking area', moves: [], before: [{path: join(data.work, 'parked'), mode: 0o700, removeOnUndo: false}], after: []},
    {kind: 'bootout', id: 'bootout-old', title: `Stop ${label} (launchctl bootout, waiting until it is gone)`, label, plist, loaded: data.wasLoaded, waitMs: data.oldStopWaitMs, wait: true},
    {kind: 'remove-plist', id: 'remove-plist', title: `Remove ${plist}`, path: plist, saved: join(data.work, 'launchd.plist')},
    {kind: 'links', id: 'remove-links', title: 'Remove the links esdctl maintains', before: data.linksBefore, after: []},
    {kind: 'move', id: 'park', title: 'Move the bundle, record and rollback slot out of the way', moves: parkMoves, before: [], after: []},
    ...(data.legacy ? legacySteps(layout, data, data.legacy.jobs) : []),
    {kind: 'registry', id: 'registry', title: 'Remove the daemon from the registry', change: 'remove', apply: data.inRegistry},
  ]
  return {
    action,
    name: layout.name,
    label,
    esdctlVersion: esdctlVersion(),
    transaction,
    steps: stepsThatRun(ctx, steps),
    // --purge also deletes the payload copies packages left in esdctl's own directory: nothing else removes them.
    finish: data.purge ? [{kind: 'purge-prefix', prefix: layout.prefix, keep: layout.stateDir}, {kind: 'remove-tree', path: new ToolPaths(layout.root).payloads(layout.name)}] : [
      {kind: 'remove-tree', path: data.work}, {kind: 'remove-empty-dir', path: layout.bin},
      ...[...(data.legacy?.createdDirs ?? [])].reverse().map((path) => ({kind: 'remove-empty-dir', path}) as const),
    ],
    abandon: [{kind: 'remove-tree', path: data.work}],
    afterAbandon: [],
  }
}
