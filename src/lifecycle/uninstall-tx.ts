import {join} from 'node:path'
import type {RootFs} from '../adapters/root-fs.js'
import type {PrefixLayout, ToolPaths} from '../layout/prefix-layout.js'
import {MAX_RECORD_BYTES} from '../records/install-record.js'
import type {LifecycleContext} from './context.js'
import {bootoutStep, writeRegistryChange} from './deploy.js'
import {linksStep, type LinkState} from './links-step.js'
import type {Journal} from './journal.js'
import {doMoves, undoMoves, type Move} from './moves.js'
import type {Step, Transaction} from './transaction.js'

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
  legacy?: {jobs: {label: string; plist: string}[]}
}

/**
 * uninstall parks everything it removes inside the prefix's staging area first, so until the
 * commit it can put it all back; only after the commit is the parked copy deleted. etc/ and var/
 * stay unless `purge`, which then removes the whole prefix.
 */
export function uninstallTransaction(ctx: LifecycleContext, fs: RootFs, layout: PrefixLayout, tool: ToolPaths, journal: Journal<UninstallData>): Transaction<UninstallData> {
  const data = journal.data
  const savedPlist = join(data.work, 'launchd.plist')
  const parkMoves: Move[] = [
    ...data.entries.map((e) => ({from: join(layout.prefix, e), to: join(data.work, 'parked', e)})),
    {from: layout.receipt, to: join(data.work, 'parked', 'receipt.json')},
    {from: layout.rollbackSlot, to: join(data.work, 'parked', 'previous')},
  ]
  const steps: Step[] = [
    {id: 'prepare', title: 'Prepare the parking area', do: () => fs.ensureDir(join(data.work, 'parked'), 0o700).then(() => undefined), undo: async () => undefined},
    bootoutStep(ctx, layout, () => data.wasLoaded, data.oldStopWaitMs),
    {
      id: 'remove-plist',
      title: `Remove ${layout.launchdPlist}`,
      do: async () => {
        if ((await fs.lstat(layout.launchdPlist)) === undefined) return
        await fs.writeFileAtomic(savedPlist, await fs.readFile(layout.launchdPlist, MAX_RECORD_BYTES), 0o644)
        await fs.removeTree(layout.launchdPlist)
      },
      undo: async () => {
        if ((await fs.lstat(layout.launchdPlist)) === undefined && (await fs.lstat(savedPlist)) !== undefined) {
          await fs.writeFileAtomic(layout.launchdPlist, await fs.readFile(savedPlist, MAX_RECORD_BYTES), 0o644)
        }
      },
    },
    linksStep(fs, 'remove-links', 'Remove the links esdctl maintains', () => data.linksBefore, () => []),
    {id: 'park', title: 'Move the bundle, record and rollback slot out of the way', do: () => doMoves(fs, parkMoves), undo: () => undoMoves(fs, parkMoves)},
    ...(data.legacy ? legacySteps(ctx, fs, layout, data, data.legacy) : []),
    {
      id: 'registry',
      title: 'Remove the daemon from the registry',
      do: async () => {
        if (data.inRegistry) await writeRegistryChange(fs, tool, ctx.root, 'remove', layout)
      },
      undo: async () => {
        if (data.inRegistry) await writeRegistryChange(fs, tool, ctx.root, 'add', layout)
      },
    },
  ]
  return {
    journal,
    journalPath: layout.journal,
    fs,
    steps,
    finish: async () => {
      if (data.purge) {
        // The state directory (with this journal) goes last, so a crash mid-purge is finished by the next run.
        for (const entry of await fs.list(layout.prefix)) {
          const path = join(layout.prefix, entry)
          if (path !== layout.stateDir) await fs.removeTree(path)
        }
        await fs.removeTree(layout.prefix)
        return
      }
      await fs.removeTree(data.work)
      await fs.removeEmptyDir(layout.bin)
    },
    abandon: () => fs.removeTree(data.work),
  }
}

/** Puts the adopted legacy install back from the parked rollback slot (bytes unchanged: renames) and starts its jobs. */
function legacySteps(ctx: LifecycleContext, fs: RootFs, layout: PrefixLayout, data: UninstallData, legacy: NonNullable<UninstallData['legacy']>): Step[] {
  const parkedSlot = join(data.work, 'parked', 'previous')
  const moves: Move[] = [
    {from: join(parkedSlot, 'legacy', 'bin', layout.name), to: join(layout.bin, layout.name)},
    ...legacy.jobs.map((j) => ({from: j.label === layout.label ? join(parkedSlot, `${j.label}.plist`) : join(parkedSlot, 'legacy', `${j.label}.plist`), to: j.plist})),
  ]
  return [
    {
      id: 'restore-legacy',
      title: `Move the legacy ${join(layout.system.bin, layout.name)} and its job plists back from the rollback slot`,
      do: async () => {
        await fs.ensureDir(layout.bin, 0o755)
        await doMoves(fs, moves)
      },
      undo: () => undoMoves(fs, moves),
    },
    {
      id: 'bootstrap-legacy',
      title: `Start the legacy jobs again (${legacy.jobs.map((j) => j.label).join(', ')})`,
      do: async () => {
        for (const job of legacy.jobs) {
          await ctx.launchctl.enable(job.label)
          await ctx.launchctl.bootstrap(job.plist)
        }
      },
      undo: async () => {
        for (const job of legacy.jobs) await ctx.launchctl.bootout(job.label, {waitMs: data.oldStopWaitMs})
      },
    },
  ]
}
