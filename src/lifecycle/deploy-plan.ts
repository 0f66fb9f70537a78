import {join} from 'node:path'
import type {PrefixLayout} from '../layout/prefix-layout.js'
import {legacyMoves, legacySlot} from './adopt-legacy.js'
import type {LifecycleContext} from './context.js'
import {esdctlVersion} from './esdctl-version.js'
import type {Plan, PlanStep} from './plan.js'
import {stepsThatRun} from './steps-that-run.js'
import {staged, type DeployData} from './prepare-deploy.js'
import {stopWaitMs} from './stop-wait.js'

function when(condition: boolean, step: PlanStep): PlanStep[] {
  return condition ? [step] : []
}

/**
 * The install/upgrade (and adoption) plan, made from what the prepare phase decided. The old job
 * keeps running from the inodes it opened while the new version is moved into place, so its exit
 * and the swaps overlap: downtime is bootout → exit → bootstrap, not the copy.
 */
export function deployPlan(ctx: LifecycleContext, named: PrefixLayout, data: DeployData, transaction: string): Plan {
  const layout = named.with({bundle: data.bundle})
  const {label, launchdPlist: plist} = layout
  const wait = data.oldStopWaitMs
  const placed = data.links ? layout.with({links: data.links}).links : []
  const replacedJobs = (data.legacy?.jobs ?? []).filter((j) => j.label !== label && j.loaded).map((j) => ({label: j.label, ...(j.plist ? {plist: j.plist} : {})}))
  // A repair keeps the rollback slot (the good older version): the damaged copy goes to the scratch directory, dropped at the end.
  const repair = data.repair !== undefined
  const damaged = join(data.work, 'damaged')
  const steps: PlanStep[] = [
    {kind: 'move', id: 'retire-slot', title: repair ? 'Keep the rollback slot as it is (a repair)' : data.hadSlot ? 'Set the older rollback slot aside' : 'Create the rollback slot (there is no older one)', moves: data.hadSlot && !repair ? [{from: layout.rollbackSlot, to: join(data.work, 'retired-slot')}] : [], before: [], after: [{path: layout.rollbackSlot, mode: 0o700, removeOnUndo: true}]},
    {kind: 'enable', id: 'enable', title: `Enable ${label} (launchctl enable)`, label},
    {kind: 'bootout', id: 'bootout-old', title: data.wasLoaded ? `Stop ${label} (launchctl bootout; its exit is awaited later)` : `Stop ${label}: not loaded, nothing to stop`, label, plist, loaded: data.wasLoaded, waitMs: wait, wait: false},
    ...when(data.legacy !== undefined, {kind: 'bootout-jobs', id: 'bootout-replaced', title: 'Stop the legacy install\'s old jobs (launchctl bootout, waiting until gone)', jobs: replacedJobs, waitMs: wait}),
    repair
      ? {kind: 'move', id: 'slot-current', title: 'Set the damaged installed copy aside (discarded once the repair is done; the rollback slot is kept)', moves: [...data.currentEntries.map((e) => ({from: join(layout.prefix, e), to: join(damaged, e)})), {from: layout.shippedDefaults, to: join(data.work, 'replaced-defaults')}], before: [{path: damaged, mode: 0o700, removeOnUndo: true}], after: []}
      : {kind: 'move', id: 'slot-current', title: data.currentEntries.length > 0 ? 'Move the installed version (and the config defaults it shipped) into the rollback slot' : 'Move the installed version into the rollback slot: none is installed', moves: [...data.currentEntries.map((e) => ({from: join(layout.prefix, e), to: join(layout.rollbackSlot, e)})), {from: layout.shippedDefaults, to: layout.slotDefaults}], before: [], after: []},
    ...when(data.legacy !== undefined, {kind: 'move', id: 'adopt-legacy', title: `Move the legacy ${join(layout.system.bin, layout.name)} (and old job plists) into the rollback slot; etc/ and var/ stay`, moves: data.legacy ? legacyMoves(layout, data.legacy) : [], before: [{path: legacySlot(layout), mode: 0o700, removeOnUndo: true}, {path: join(legacySlot(layout), 'bin'), mode: 0o700, removeOnUndo: true}], after: []}),
    // The shipped etc/ is kept beside the receipt: the config step copies from it, and a later rollback to this version puts it back.
    {kind: 'move', id: 'place-new', title: 'Move the verified new version into place (rename, same volume), keeping the config defaults it ships', moves: [...(data.newEntries ?? []).map((e) => ({from: staged(data, e), to: join(layout.prefix, e)})), {from: staged(data, 'etc'), to: layout.shippedDefaults}], before: [], after: []},
    {kind: 'links', id: 'links', title: 'Point the links at the new bundle (and remove links the old version had and the new one does not)', before: data.linksBefore ?? [], after: placed},
    {kind: 'config', id: 'config', title: 'Install config defaults (files the admin changed are kept; the new default goes beside them as .default)', etcDir: layout.etc, stagedEtc: layout.shippedDefaults, backupDir: join(data.work, 'etc-backup'), files: data.etcPlan ?? []},
    ...when((data.logDirs ?? []).length > 0, {kind: 'move', id: 'log-dirs', title: 'Create the directories of StandardOutPath and StandardErrorPath (root:wheel 0755)', moves: [], before: (data.logDirs ?? []).map((path) => ({path, mode: 0o755, removeOnUndo: true})), after: []}),
    {kind: 'write-plist', id: 'plist', title: `Write ${plist} (root:wheel 0644, atomically)`, path: plist, from: join(data.work, 'launchd.plist'), keep: repair ? join(data.work, 'replaced.plist') : layout.slotPlist, hadPlist: data.hadPlist},
    {kind: 'write-records', id: 'records', title: 'Record what is installed (receipt and registry)', receipt: layout.receipt, kept: repair ? join(data.work, 'replaced-receipt.json') : layout.slotReceipt, from: join(data.work, 'receipt.json'), hadInstall: data.hadInstall, addToRegistry: !data.inRegistry},
    {kind: 'await-exit', id: 'await-old-exit', title: data.wasLoaded ? `Wait until the old ${label} has exited` : `Wait until the old ${label} has exited: it was not loaded`, label, loaded: data.wasLoaded, waitMs: wait},
    {kind: 'bootstrap', id: 'bootstrap', title: `Start ${label} (launchctl bootstrap)`, label, plist, enable: false, waitMs: stopWaitMs(data.manifest?.ExitTimeOut)},
    ...(data.manifest ? when(true, {kind: 'health-check', id: 'health-check', title: `Check that ${label} stays up`, manifest: data.manifest, bundle: layout.bundle}) : []),
  ]
  return {
    action: data.mode,
    name: layout.name,
    label,
    esdctlVersion: esdctlVersion(),
    transaction,
    steps: stepsThatRun(ctx, steps),
    finish: [{kind: 'remove-tree', path: data.work}, ...(data.stalePayloads ?? []).map((path) => ({kind: 'remove-tree', path}) as const)],
    abandon: [{kind: 'remove-tree', path: data.work}],
    afterAbandon: [...(data.prefixExisted ? [] : [{kind: 'remove-tree', path: layout.prefix} as const]), {kind: 'remove-created-dirs', dirs: data.createdDirs}],
  }
}
