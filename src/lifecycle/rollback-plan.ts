import {join} from 'node:path'
import type {PlacedLink} from '../layout/daemon-links.js'
import type {PrefixLayout} from '../layout/prefix-layout.js'
import type {Manifest} from '../manifest/manifest.js'
import type {LifecycleContext} from './context.js'
import {esdctlVersion} from './esdctl-version.js'
import type {LinkState} from './link-states.js'
import type {Move} from './moves.js'
import type {EtcAction, Plan, PlanStep} from './plan.js'
import {stepsThatRun} from './steps-that-run.js'
import {stopWaitMs} from './stop-wait.js'

/** What rollback learns while preparing; the plan is made from it. */
export interface RollbackData {
  work: string
  wasLoaded: boolean
  oldStopWaitMs: number
  fromVersion: string
  toVersion: string
  /** The restored version's health check and start/stop behaviour. */
  manifest: Manifest
  /** Where the restored version's bundle sits. */
  bundle: string
  /** Prefix entries either version owns (their bundles may sit in different places). */
  entries: string[]
  /**
   * The links the restored version maintains, placed against its own record (its bundle and
   * executable, which may differ from the version being rolled back from).
   */
  previousLinks: PlacedLink[]
  /** What every link path of either version held before the rollback. */
  linksBefore: LinkState[]
  /** Each config default the restored version shipped, and its fate (etc-plan.ts); empty when none are kept for it. */
  etcPlan: {file: string; action: EtcAction}[]
}

/**
 * rollback swaps the installed version with the one in the rollback slot, in three renames per
 * item (current → parked, slot → current, parked → slot), so running rollback twice returns to
 * where it started. The plist lives on another directory tree and is swapped by atomic rewrites.
 * The config defaults the restored version shipped go back into etc/ as install puts them there:
 * a file the admin changed is kept, with the restored default beside it as `.default`.
 */
export function rollbackPlan(ctx: LifecycleContext, layout: PrefixLayout, data: RollbackData, transaction: string): Plan {
  const parked = (key: string): string => join(data.work, 'parked', key)
  const items = [
    ...data.entries.map((e) => ({key: e, current: join(layout.prefix, e), slot: join(layout.rollbackSlot, e)})),
    {key: 'receipt.json', current: layout.receipt, slot: layout.slotReceipt},
    {key: 'shipped-defaults', current: layout.shippedDefaults, slot: layout.slotDefaults},
  ]
  const move = (id: string, title: string, moves: Move[]): PlanStep => ({kind: 'move', id, title, moves, before: [], after: []})
  const {label, launchdPlist: plist} = layout
  const steps: PlanStep[] = [
    {kind: 'move', id: 'prepare', title: 'Prepare the swap area', moves: [], before: [{path: join(data.work, 'parked'), mode: 0o700, removeOnUndo: false}], after: []},
    {kind: 'bootout', id: 'bootout-old', title: `Stop ${label} (launchctl bootout, waiting until it is gone)`, label, plist, loaded: data.wasLoaded, waitMs: data.oldStopWaitMs, wait: true},
    move('park-current', `Set version ${data.fromVersion} aside, its receipt with it`, items.map((i) => ({from: i.current, to: parked(i.key)}))),
    move('restore-previous', `Move version ${data.toVersion} back into place, its receipt with it (the registry entry, name, label and prefix, stays as it is)`, items.map((i) => ({from: i.slot, to: i.current}))),
    move('slot-current', `Keep version ${data.fromVersion} as the rollback slot, its receipt with it`, items.map((i) => ({from: parked(i.key), to: i.slot}))),
    {kind: 'config', id: 'config', title: data.etcPlan.length > 0 ? `Put back the config defaults version ${data.toVersion} shipped (files the admin changed are kept; its default goes beside them as .default)` : `Put back the config defaults version ${data.toVersion} shipped: none are kept for it, etc/ stays as it is`, etcDir: layout.etc, stagedEtc: layout.shippedDefaults, backupDir: join(data.work, 'etc-backup'), files: data.etcPlan},
    {kind: 'swap-plist', id: 'plist', title: `Swap ${plist} with the rollback slot's`, path: plist, slotPath: layout.slotPlist, savedCurrent: join(data.work, 'current.plist'), savedSlot: join(data.work, 'slot.plist')},
    {kind: 'links', id: 'links', title: `Point the links at version ${data.toVersion}`, before: data.linksBefore, after: data.previousLinks},
    {kind: 'bootstrap', id: 'bootstrap', title: `Start ${label} (launchctl enable, then bootstrap)`, label, plist, enable: true, waitMs: stopWaitMs(data.manifest.ExitTimeOut)},
    {kind: 'health-check', id: 'health-check', title: `Check that ${label} stays up`, manifest: data.manifest, bundle: data.bundle},
  ]
  const drop = [{kind: 'remove-tree', path: data.work} as const]
  return {action: 'rollback', name: layout.name, label, esdctlVersion: esdctlVersion(), transaction, steps: stepsThatRun(ctx, steps), finish: drop, abandon: drop, afterAbandon: []}
}
