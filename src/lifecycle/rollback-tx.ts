import {join} from 'node:path'
import type {RootFs} from '../adapters/root-fs.js'
import type {LinkSpec} from '../layout/daemon-links.js'
import type {PrefixLayout} from '../layout/prefix-layout.js'
import type {Manifest} from '../manifest/manifest.js'
import {MAX_RECORD_BYTES} from '../records/install-record.js'
import type {LifecycleContext} from './context.js'
import {bootoutStep, bootstrapStep, healthStep, stopWaitMs} from './deploy.js'
import {linksStep, type LinkState} from './links-step.js'
import type {Journal} from './journal.js'
import {doMoves, undoMoves, type Move} from './moves.js'
import type {Step, Transaction} from './transaction.js'

export interface RollbackData {
  work: string
  wasLoaded: boolean
  oldStopWaitMs: number
  fromVersion: string
  toVersion: string
  /** The restored version's health check and start/stop behaviour. */
  manifest: Manifest
  /** Prefix entries either version owns (their bundles may sit in different places). */
  entries: string[]
  /** The links the restored version maintains. */
  previousLinks: LinkSpec[]
  /** What every link path of either version held before the rollback. */
  linksBefore: LinkState[]
}

interface SwapItem {
  key: string
  current: string
  slot: string
}

function swapItems(layout: PrefixLayout, entries: readonly string[]): SwapItem[] {
  return [
    ...entries.map((e) => ({key: e, current: join(layout.prefix, e), slot: join(layout.rollbackSlot, e)})),
    {key: 'receipt.json', current: layout.receipt, slot: layout.slotReceipt},
  ]
}

/**
 * rollback swaps the installed version with the one in the rollback slot, in three renames per
 * item (current → parked, slot → current, parked → slot), so running rollback twice returns to
 * where it started. The plist lives on another directory tree and is swapped by atomic rewrites.
 */
export function rollbackTransaction(ctx: LifecycleContext, fs: RootFs, layout: PrefixLayout, journal: Journal<RollbackData>): Transaction<RollbackData> {
  const data = journal.data
  const parked = (key: string): string => join(data.work, 'parked', key)
  const items = swapItems(layout, data.entries)
  const move = (id: string, title: string, moves: Move[]): Step => ({id, title, do: () => doMoves(fs, moves), undo: () => undoMoves(fs, moves)})
  const slotPlist = layout.slotPlist
  const savedCurrent = join(data.work, 'current.plist')
  const savedSlot = join(data.work, 'slot.plist')
  const steps: Step[] = [
    {id: 'prepare', title: 'Prepare the swap area', do: () => fs.ensureDir(join(data.work, 'parked'), 0o700).then(() => undefined), undo: async () => undefined},
    bootoutStep(ctx, layout, () => data.wasLoaded, data.oldStopWaitMs),
    move('park-current', `Set version ${data.fromVersion} aside`, items.map((i) => ({from: i.current, to: parked(i.key)}))),
    move('restore-previous', `Move version ${data.toVersion} back into place`, items.map((i) => ({from: i.slot, to: i.current}))),
    move('slot-current', `Keep version ${data.fromVersion} as the rollback slot`, items.map((i) => ({from: parked(i.key), to: i.slot}))),
    {
      id: 'plist',
      title: `Swap ${layout.launchdPlist} with the rollback slot's`,
      do: async () => {
        const current = await fs.readFile(layout.launchdPlist, MAX_RECORD_BYTES)
        const previous = await fs.readFile(slotPlist, MAX_RECORD_BYTES)
        await fs.writeFileAtomic(savedCurrent, current, 0o644)
        await fs.writeFileAtomic(savedSlot, previous, 0o644)
        await fs.writeFileAtomic(layout.launchdPlist, previous, 0o644)
        await fs.writeFileAtomic(slotPlist, current, 0o644)
      },
      undo: async () => {
        if ((await fs.lstat(savedCurrent)) !== undefined) await fs.writeFileAtomic(layout.launchdPlist, await fs.readFile(savedCurrent, MAX_RECORD_BYTES), 0o644)
        if ((await fs.lstat(savedSlot)) !== undefined) await fs.writeFileAtomic(slotPlist, await fs.readFile(savedSlot, MAX_RECORD_BYTES), 0o644)
      },
    },
    linksStep(fs, 'links', `Point the links at version ${data.toVersion}`, () => data.linksBefore, () => layout.with({links: data.previousLinks}).links),
    bootstrapStep(ctx, layout, () => stopWaitMs(data.manifest.ExitTimeOut)),
    healthStep(ctx, layout, () => data.manifest),
  ]
  return {journal, journalPath: layout.journal, fs, steps, finish: () => fs.removeTree(data.work), abandon: () => fs.removeTree(data.work)}
}
