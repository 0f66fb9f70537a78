import {join} from 'node:path'
import {LockPathError, tryLock, type HeldLock} from '../adapters/lock.js'
import type {RootFs} from '../adapters/root-fs.js'
import {ExitCode} from '../exit-codes.js'
import type {PlacedLink} from '../layout/daemon-links.js'
import {isValidLabel, isValidLinkPath} from '../layout/names.js'
import {jobPlist, replacedPlistPaths} from './adopt-legacy.js'
import {PrefixLayout, ToolPaths} from '../layout/prefix-layout.js'
import {inspectInstallRecordAt} from '../records/install-record.js'
import {labelFromLaunchDaemons} from '../records/rebuild-receipt.js'
import {damagedRecords, repairRecords} from '../records/repair-records.js'
import {inspectRegistry} from '../records/registry.js'
import type {LifecycleContext} from './context.js'
import {deployTransaction, type DeployData} from './deploy.js'
import {readJournal, type Journal} from './journal.js'
import {isFormatError} from '../formats/format-error.js'
import {isLifecycleError, LifecycleError} from './lifecycle-error.js'
import {checkTargets, daemonFs, requireRootProcess} from './preflight.js'
import {rollbackTransaction, type RollbackData} from './rollback-tx.js'
import {esdctlVersion} from './esdctl-version.js'
import {commitTransaction, undoTransaction, type Transaction} from './transaction.js'
import {compareVersions} from './version-order.js'
import {uninstallTransaction, type UninstallData} from './uninstall-tx.js'

/** Only finds the state directory: nothing under the prefix depends on the label. */
const LOOKUP_LABEL = 'esdctl.lookup'

export interface Session {
  layout: PrefixLayout
  tool: ToolPaths
  fs: RootFs
  /** What was done to an interrupted transaction before this run's own work. */
  recovered?: string
  release(): Promise<void>
}

/** The label of an installed (or half-installed) daemon: from the registry, else its journal or record. */
export async function layoutForName(ctx: LifecycleContext, name: string): Promise<PrefixLayout | undefined> {
  const lookup = new PrefixLayout({name, label: LOOKUP_LABEL, root: ctx.root})
  // A damaged registry or receipt only means looking further: the session repairs them under the lock.
  const registry = await inspectRegistry(ctx.root, ctx.fs)
  const entry = registry.state === 'ok' ? registry.value.find((e) => e.name === name) : undefined
  const recordRead = await inspectInstallRecordAt(lookup.receipt, ctx.fs)
  const record = recordRead.state === 'ok' ? recordRead.value : undefined
  // The record knows where this version's bundle and links are; the registry only the label.
  const recorded = (label: string): PrefixLayout => (record?.label === label && record.name === name ? PrefixLayout.ofRecord(record, ctx.root) : new PrefixLayout({name, label, root: ctx.root}))
  if (entry) return recorded(entry.label)
  // A damaged journal names no label here; the session that opens it sets it aside.
  const journal = await readJournal(ctx.fs, lookup.journal).catch(() => undefined)
  if (journal) return recorded(journal.label)
  if (record) return recorded(record.label)
  if (registry.state === 'damaged' || recordRead.state === 'damaged') {
    const label = await labelFromLaunchDaemons(ctx.fs, ctx.root, name)
    if (label) return new PrefixLayout({name, label, root: ctx.root})
  }
  return undefined
}

export function transactionFor(ctx: LifecycleContext, fs: RootFs, layout: PrefixLayout, tool: ToolPaths, journal: Journal): Transaction<unknown> {
  switch (journal.action) {
    case 'install':
    case 'upgrade':
      return deployTransaction(ctx, fs, layout, tool, journal as Journal<DeployData>, undefined) as Transaction<unknown>
    case 'rollback':
      // Rolling back to the legacy install an adoption replaced is an uninstall that puts the legacy files back.
      if ((journal.data as {legacy?: unknown}).legacy !== undefined) return uninstallTransaction(ctx, fs, layout, tool, journal as Journal<UninstallData>) as Transaction<unknown>
      return rollbackTransaction(ctx, fs, layout, journal as Journal<RollbackData>) as Transaction<unknown>
    case 'uninstall':
      return uninstallTransaction(ctx, fs, layout, tool, journal as Journal<UninstallData>) as Transaction<unknown>
    default:
      throw new LifecycleError(ExitCode.internalError, `the journal ${layout.journal} names action ${journal.action}, which has no transaction`)
  }
}

/**
 * The link paths an interrupted transaction recorded, so recovery may put them back. Each must be
 * one esdctl could have written for this daemon: inside its prefix, or `/usr/local/(s)bin/<file>`
 * under the same root; anything else in a journal is not trusted to be acted on.
 */
function journalLinks(layout: PrefixLayout, journal: Journal): PlacedLink[] {
  const states = (journal.data as {linksBefore?: unknown}).linksBefore
  if (!Array.isArray(states)) return []
  const links: PlacedLink[] = []
  for (const state of states) {
    const path = (state as {path?: unknown} | null)?.path
    if (typeof path !== 'string') continue
    const systemPath = layout.root === '/' ? path : path.startsWith(layout.root + '/') ? path.slice(layout.root.length) : undefined
    const allowed = layout.isInsidePrefix(path) || (systemPath !== undefined && systemPath.startsWith('/') && isValidLinkPath(systemPath) && layout.rebase(systemPath) === path)
    if (!allowed) {
      throw new LifecycleError(ExitCode.badInput, `${layout.journal} names the link ${JSON.stringify(path)}, which is not a place esdctl writes links for ${layout.name}; it is not acted on. Inspect the journal, move it aside and run again`)
    }
    links.push({path, systemPath: systemPath ?? path, text: ''})
  }
  return links
}

/** The plists of replaced legacy jobs an interrupted adoption recorded: each must be /Library/LaunchDaemons/<label>.plist under the same root. */
function journalPlists(layout: PrefixLayout, journal: Journal): string[] {
  const jobs = (journal.data as {legacy?: {jobs?: unknown}}).legacy?.jobs
  if (!Array.isArray(jobs)) return []
  const paths: string[] = []
  for (const job of jobs) {
    const {label, plist} = (job ?? {}) as {label?: unknown; plist?: unknown}
    if (plist === undefined) continue
    if (typeof label !== 'string' || !isValidLabel(label) || plist !== jobPlist(layout, label)) {
      throw new LifecycleError(ExitCode.badInput, `${layout.journal} names the plist ${JSON.stringify(plist)}, which is not a launchd job plist esdctl may move for ${layout.name}; it is not acted on. Inspect the journal, move it aside and run again`)
    }
    paths.push(...replacedPlistPaths(layout, [label]))
  }
  return paths
}

/**
 * A journal that cannot be trusted is bad input, never a crash: it is renamed to
 * `journal.json.damaged-<time>` (kept for inspection, out of the way of every later run) and the
 * refusal names it and the commands that repair the daemon's state from a known payload.
 */
async function setDamagedJournalAside(ctx: LifecycleContext, fs: RootFs, layout: PrefixLayout, why: string): Promise<LifecycleError> {
  const aside = `${layout.journal}.damaged-${new Date(ctx.clock.now()).toISOString().replace(/[-:.]/g, '')}`
  await fs.rename(layout.journal, aside)
  return new LifecycleError(ExitCode.badInput,
    `the transaction journal ${layout.journal} is damaged or untrusted (${why}); it was moved aside to ${aside} and not acted on, so the interrupted transaction it described was neither undone nor finished. Check the daemon with \`esdctl doctor ${layout.name}\`, then repair it with \`sudo esdctl install PAYLOAD\` (the version you want) or \`sudo esdctl uninstall ${layout.name}\``)
}

/**
 * Recovery rule, the same for every action: a transaction interrupted before its commit is undone
 * (every step's undo is written to cope with a half-done step), one interrupted after it is
 * finished. Before the commit the old state is always complete somewhere (slot, parking area,
 * saved plist), so undoing is the direction that can never lose anything; after it, the new
 * state is complete and has passed its health check, so only cleanup remains.
 */
export async function recoverInterrupted(ctx: LifecycleContext, fs: RootFs, layout: PrefixLayout, tool: ToolPaths): Promise<string | undefined> {
  let journal: Journal | undefined
  let tx: Transaction<unknown>
  try {
    journal = await readJournal(fs, layout.journal)
    if (journal === undefined) return undefined
    if (journal.name !== layout.name || journal.label !== layout.label) {
      throw new LifecycleError(ExitCode.badInput, `${layout.journal} belongs to ${journal.name} (${journal.label}), not ${layout.name} (${layout.label}); finish it with a command naming ${journal.name}`)
    }
    tx = transactionFor(ctx, daemonFs(ctx, layout, tool, [...layout.links, ...journalLinks(layout, journal)], journalPlists(layout, journal)), layout, tool, journal)
  } catch (e) {
    if (isFormatError(e) || (isLifecycleError(e) && e.exitCode === ExitCode.badInput && journal?.name === layout.name)) throw await setDamagedJournalAside(ctx, fs, layout, (e as Error).message)
    throw e
  }
  const known = new Set(tx.steps.map((s) => s.id))
  const unknown = journal.steps.map((s) => s.id).filter((id) => !known.has(id))
  if (unknown.length > 0) {
    const writer = journal.esdctlVersion === undefined ? 'another esdctl' : `esdctl ${journal.esdctlVersion}`
    const newer = journal.esdctlVersion !== undefined && compareVersions(journal.esdctlVersion, esdctlVersion()) > 0
    throw new LifecycleError(ExitCode.badInput,
      `${layout.journal} was written by ${writer}${newer ? `, newer than this esdctl ${esdctlVersion()},` : ''} and names steps this esdctl does not have (${unknown.join(', ')}); it is kept untouched. Finish it with ${writer} or newer (its next run recovers it), then use this esdctl again`)
  }
  const what = `an interrupted ${journal.action} of ${journal.name} (transaction ${journal.transaction})`
  try {
    if (journal.phase === 'committed') {
      await commitTransaction(ctx, tx)
      return `${what} had committed; its cleanup was finished`
    }
    await undoTransaction(ctx, tx)
    return `${what} was undone; the state before it is restored`
  } catch (e) {
    throw new LifecycleError(ExitCode.launchdFailed, `${what} could not be recovered: ${(e as Error).message}; the journal ${layout.journal} is kept and the next run tries again`)
  }
}

/**
 * With no transaction open (recovery has just finished or undone any), whatever the staging area
 * holds is the scratch directory of a run that died while preparing, before its journal existed:
 * nothing refers to it, so it goes.
 */
async function clearStaleStaging(fs: RootFs, layout: PrefixLayout): Promise<string | undefined> {
  const stale = await fs.list(layout.staging)
  for (const entry of stale) await fs.removeTree(join(layout.staging, entry))
  return stale.length === 0 ? undefined : `removed ${stale.length} staging director${stale.length === 1 ? 'y' : 'ies'} an interrupted run left in ${layout.staging} before its journal opened`
}

async function acquireLock(ctx: LifecycleContext, fs: RootFs, tool: ToolPaths): Promise<{lock: HeldLock; created: string[]}> {
  const created = await fs.ensureDir(tool.dir, 0o755)
  let attempt
  try {
    attempt = await tryLock(tool.lock, ctx.identity.pid())
  } catch (e) {
    if (e instanceof LockPathError) throw new LifecycleError(ExitCode.unsafeEnvironment, `unsafe path: ${e.message}`, [e.message])
    throw e
  }
  if (!attempt.acquired) {
    const holder = attempt.holderPid === undefined ? 'another esdctl run (it has not written its pid yet)' : `another esdctl run, pid ${attempt.holderPid}`
    throw new LifecycleError(ExitCode.locked, `${tool.lock} is held by ${holder}; wait for it to finish and run again`, attempt.holderPid === undefined ? [] : [`holder pid ${attempt.holderPid}`])
  }
  if (attempt.tookOverFrom !== undefined) ctx.progress.stepStarted('stale-lock', `Took over the lock of pid ${attempt.tookOverFrom}, which ended without releasing it`)
  return {lock: attempt.lock, created}
}

/**
 * Everything a mutating command does before its own work: root and environment checks, the
 * ancestor and planted-link checks, the one lock, and recovery of an interrupted transaction.
 */
export async function openSession(ctx: LifecycleContext, action: string, layout: PrefixLayout, opts: {dryRun?: boolean; links?: readonly PlacedLink[]; paths?: readonly string[]; legacyExecutable?: string} = {}): Promise<Session> {
  requireRootProcess(ctx, action)
  const tool = new ToolPaths(ctx.root)
  const links = opts.links ?? layout.links
  await checkTargets(ctx, layout, tool, links.filter((l) => l.path !== opts.legacyExecutable))
  const fs = daemonFs(ctx, layout, tool, links, opts.paths)
  if (opts.dryRun) {
    const damaged = await damagedRecords(fs, layout, ctx.root)
    if (damaged.length > 0) {
      const [path, problem] = damaged[0]!
      throw new LifecycleError(ExitCode.badInput, `${path} is damaged (${problem}); a run without --dry-run moves it aside and rebuilds it from disk before planning`, damaged.map(([p, why]) => `${p}: ${why}`))
    }
    const pending = await readJournal(fs, layout.journal).catch((e: unknown) => {
      if (!isFormatError(e)) throw e
      throw new LifecycleError(ExitCode.badInput, `the transaction journal ${layout.journal} is damaged (${e.message}); a run without --dry-run moves it aside and says how to repair the daemon`)
    })
    const recovered = pending ? `an interrupted ${pending.action} (transaction ${pending.transaction}) would be ${pending.phase === 'committed' ? 'finished' : 'undone'} first` : undefined
    return {layout, tool, fs, ...(recovered ? {recovered} : {}), release: async () => undefined}
  }
  const {lock, created} = await acquireLock(ctx, fs, tool)
  const release = async (): Promise<void> => {
    await lock.release()
    const mine = ctx.fs.restrictedTo(created)
    for (const dir of [...created].reverse()) await mine.removeEmptyDir(dir)
  }
  try {
    const repaired = await repairRecords(ctx, fs, layout, tool, action)
    const recovered = [...repaired, await recoverInterrupted(ctx, fs, layout, tool), await clearStaleStaging(fs, layout)].filter((r) => r !== undefined).join('; ') || undefined
    return {layout, tool, fs, ...(recovered ? {recovered} : {}), release}
  } catch (e) {
    await release()
    throw e
  }
}

/** The layout of an installed daemon by name, undefined when esdctl does not know it; badInput for a name that is not one. */
export async function findLayout(ctx: LifecycleContext, name: string): Promise<PrefixLayout | undefined> {
  try {
    new PrefixLayout({name, label: 'esdctl.lookup', root: ctx.root})
  } catch (e) {
    throw new LifecycleError(ExitCode.badInput, (e as Error).message)
  }
  return layoutForName(ctx, name)
}

/** Why esdctl does not know `name`: the message of `requireLayout`'s refusal, and of uninstall's no-op. */
export function notInstalledMessage(ctx: LifecycleContext, name: string): string {
  return `${name} is not installed by esdctl (not in the registry, no record under ${new PrefixLayout({name, label: 'esdctl.lookup', root: ctx.root}).prefix})`
}

/** The layout of an installed daemon by name; badInput when esdctl does not know it. */
export async function requireLayout(ctx: LifecycleContext, name: string): Promise<PrefixLayout> {
  const layout = await findLayout(ctx, name)
  if (layout === undefined) throw new LifecycleError(ExitCode.badInput, notInstalledMessage(ctx, name))
  return layout
}
