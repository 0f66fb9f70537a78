import {anyChangingCommand} from '../render/esdctl-command.js'
import {basename, dirname, join} from 'node:path'
import {tryLock, type HeldLock} from '../adapters/lock.js'
import {lockedError, lockPathRefusal, refuseDryRunWhileLocked} from './lock-holder.js'
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
import {foreignJournalWriter, isForeignJournal, readJournal, type ForeignJournal, type Journal} from './journal.js'
import {isFormatError} from '../formats/format-error.js'
import {isLifecycleError, LifecycleError} from './lifecycle-error.js'
import {checkTargets, daemonFs, requireExistingRoot, requireRootProcess} from './preflight.js'
import {checkAncestors} from '../safety/check-ancestors.js'
import {esdctlVersion} from './esdctl-version.js'
import {esdctlCommand} from '../render/esdctl-command.js'
import {exitStatusOf} from '../exit-status.js'
import {pathsOf} from './plan-shape.js'
import {commitJournal, undoJournal, type PlanRun} from './run-plan.js'
import {compareVersions} from './version-order.js'
import {judgeRolledForward} from './judge-rolled-forward.js'

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

/** A path a journal's step names, checked before recovery acts on any: one esdctl could have written for this daemon. */
function untrusted(layout: PrefixLayout, what: string, path: string, why: string): LifecycleError {
  return new LifecycleError(ExitCode.badInput, `${layout.journal} names the ${what} ${JSON.stringify(path)}, which is not ${why} for ${layout.name}; it is not acted on. Inspect the journal, move it aside and run again`)
}

/**
 * The link paths an interrupted plan's link steps name, so recovery may put them back. Each must be
 * one esdctl could have written for this daemon: inside its prefix, or `/usr/local/(s)bin/<file>`
 * under the same root; anything else in a journal is not trusted to be acted on.
 */
export function journalLinks(layout: PrefixLayout, journal: Journal): PlacedLink[] {
  const paths = journal.steps.flatMap((s) => (s.kind === 'links' ? [...s.before, ...s.after].map((l) => l.path) : []))
  return [...new Set(paths)].map((path) => {
    const systemPath = layout.root === '/' ? path : path.startsWith(layout.root + '/') ? path.slice(layout.root.length) : undefined
    // Outside the prefix only /usr/local/(s)bin/<file> under the same root. isValidLinkPath refuses undefined, and a system
    // path cut from below the root is absolute and maps back onto the same path (its pattern allows no '.' or '' segment
    // for rebase to drop), so neither needs a test of its own.
    const allowed = layout.isInsidePrefix(path) || isValidLinkPath(systemPath)
    if (!allowed) throw untrusted(layout, 'link', path, 'a place esdctl writes links')
    // Stryker disable next-line LogicalOperator,StringLiteral: daemonFs, the only reader of these links, uses each one's path alone
    return {path, systemPath: systemPath ?? path, text: ''}
  })
}

/** The plists of replaced legacy jobs an interrupted adoption (or its rollback) names: each must be /Library/LaunchDaemons/<label>.plist under the same root. */
function journalPlists(layout: PrefixLayout, journal: Journal): string[] {
  const named = journal.steps.flatMap((s) => {
    if (s.kind === 'bootout-jobs' || s.kind === 'bootstrap-jobs') return s.jobs.flatMap((j) => (j.plist === undefined ? [] : [j.plist]))
    if (s.kind === 'move') {
      return s.moves.flatMap((m) => [m.from, m.to]).filter((p) =>
        dirname(p) === layout.launchDaemonsDir &&
        // Stryker disable next-line ConditionalExpression: the daemon's own plist would pass the label check below and add only the plist and its temporary, which daemonFs allows anyway; the EqualityOperator mutant on this line (=== keeps only the own plist) still runs
        p !== layout.launchdPlist)
    }
    return []
  })
  return [...new Set(named)].flatMap((plist) => {
    const label = basename(plist).replace(/\.plist$/, '')
    if (!isValidLabel(label) || plist !== jobPlist(layout, label)) throw untrusted(layout, 'plist', plist, 'a launchd job plist esdctl may move')
    return replacedPlistPaths(layout, [label])
  })
}

/**
 * Every path the journal names must be one the daemon's restricted file system allows (directories
 * a first install created must hold the prefix or the plist), and every launchd call its own label:
 * the journal is root's input, so recovery checks all of it before acting on any.
 */
function checkJournalPaths(layout: PrefixLayout, journal: Journal, fs: RootFs): void {
  for (const step of journal.steps) {
    for (const path of pathsOf(step)) if (!fs.isAllowed(path)) throw untrusted(layout, 'path', path, 'one esdctl may change')
    if ('label' in step && step.label !== layout.label) throw untrusted(layout, 'launchd label', step.label, 'its label')
  }
  for (const cleanup of [...journal.finish, ...journal.abandon, ...journal.afterAbandon]) {
    if (cleanup.kind === 'remove-created-dirs') {
      for (const dir of cleanup.dirs) if (!layout.prefix.startsWith(dir + '/') && !layout.launchdPlist.startsWith(dir + '/') && !layout.isInsidePrefix(dir)) throw untrusted(layout, 'directory', dir, 'one a first install creates')
    } else for (const path of pathsOf(cleanup)) if (!fs.isAllowed(path)) throw untrusted(layout, 'path', path, 'one esdctl may change')
  }
}

/** A journal this esdctl cannot act on (another format, unknown step kinds): refused and kept untouched for the esdctl that wrote it. */
function foreignRefusal(layout: PrefixLayout, journal: ForeignJournal): LifecycleError {
  const writer = foreignJournalWriter(journal, esdctlVersion())
  const newer = journal.esdctlVersion !== undefined && compareVersions(journal.esdctlVersion, esdctlVersion()) > 0
  return new LifecycleError(ExitCode.badInput,
    // Stryker disable next-line Regex: esdctlCommand's text always begins with 'sudo ', so the first 'sudo ' is the leading one with or without the ^
    `${layout.journal} was written by ${writer}${newer ? `, newer than this esdctl ${esdctlVersion()},` : ''} for an interrupted ${journal.action} of ${journal.name} (transaction ${journal.transaction}, phase ${journal.phase}), and this esdctl ${esdctlVersion()} cannot act on it: ${journal.foreign}. It is kept untouched. Finish it with ${writer} (any of its commands that change ${journal.name} recovers it first), then use this esdctl again; if that esdctl is gone, check the daemon with \`${esdctlCommand('doctor', journal.name, layout.root).replace(/^sudo /, '')}\`, move the journal aside and repair with \`${esdctlCommand('install', 'PAYLOAD', layout.root)}\``)
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
    // Stryker disable next-line Regex: esdctlCommand's text always begins with 'sudo ', so the first 'sudo ' is the leading one with or without the ^
    `the transaction journal ${layout.journal} is damaged or untrusted (${why}); it was moved aside to ${aside} and not acted on, so the interrupted transaction it described was neither undone nor finished. Check the daemon with \`${esdctlCommand('doctor', layout.name, layout.root).replace(/^sudo /, '')}\`, then repair it with \`${esdctlCommand('install', 'PAYLOAD', layout.root)}\` (the version you want) or \`${esdctlCommand('uninstall', layout.name, layout.root)}\``)
}

/**
 * What the next mutating run will do with a pending journal, decided before it acts on any of it
 * (recoverInterrupted acts on this; doctor reports it): `none` without a journal; `recover` (undo
 * before the commit, finish after it) through `fs`, the file system the journal's paths allow;
 * `damaged` for a journal that cannot be trusted (not this esdctl's format, or naming a path or
 * label that is not this daemon's), which the run moves aside unread; `refused` for one the run
 * keeps untouched and refuses: in a format or with steps this esdctl cannot act on (foreign,
 * for the esdctl that wrote it), or another daemon's. Reads only; rethrows an I/O error.
 */
export async function judgeJournal(ctx: LifecycleContext, fs: RootFs, layout: PrefixLayout, tool: ToolPaths): Promise<JournalVerdict> {
  let read: Journal | ForeignJournal | undefined
  try {
    read = await readJournal(fs, layout.journal)
    if (read === undefined) return {kind: 'none'}
    if (read.name !== layout.name || read.label !== layout.label) {
      throw new LifecycleError(ExitCode.badInput, `${layout.journal} belongs to ${read.name} (${read.label}), not ${layout.name} (${layout.label}); finish it with a command naming ${read.name}`)
    }
    if (isForeignJournal(read)) throw foreignRefusal(layout, read)
    const allowed = daemonFs(ctx, layout, tool, [...layout.links, ...journalLinks(layout, read)], journalPlists(layout, read))
    checkJournalPaths(layout, read, allowed)
    return {kind: 'recover', journal: read, fs: allowed}
  } catch (e) {
    const foreign = read !== undefined && isForeignJournal(read)
    const damaged = isFormatError(e) || (
      !foreign && isLifecycleError(e) &&
      // Stryker disable next-line ConditionalExpression: every LifecycleError the block above throws is bad input (another daemon's journal, an untrusted path, an invalid label); the EqualityOperator mutant on this line (!==) still runs
      e.exitCode === ExitCode.badInput &&
      // Stryker disable next-line OptionalChaining: read is undefined only when readJournal threw, and it throws no LifecycleError, so read?.name is never reached then
      read?.name === layout.name
    )
    if (damaged) return {kind: 'damaged', why: (e as Error).message}
    // read is set here: readJournal throws no LifecycleError, so every one came after the journal was read.
    if (isLifecycleError(e)) return {kind: 'refused', refusal: e, journal: read!}
    throw e
  }
}

/** judgeJournal's answer. */
export type JournalVerdict =
  | {kind: 'none'}
  | {kind: 'recover'; journal: Journal; fs: RootFs}
  | {kind: 'damaged'; why: string}
  | {kind: 'refused'; refusal: LifecycleError; journal: Journal | ForeignJournal}

/**
 * Recovery rule, the same for every action: a plan interrupted before its commit is undone (every
 * executor's undo copes with a half-done step), one interrupted after it is finished. Before the
 * commit the old state is always complete somewhere (slot, parking area, saved plist), so undoing
 * is the direction that can never lose anything; after it, the new state is complete and has
 * passed its health check, so only cleanup remains. Nothing is rebuilt from code: the journal
 * holds the plan, and each step's kind names its executor.
 */
export async function recoverInterrupted(ctx: LifecycleContext, fs: RootFs, layout: PrefixLayout, tool: ToolPaths): Promise<string | undefined> {
  const verdict = await judgeJournal(ctx, fs, layout, tool)
  if (verdict.kind === 'none') return undefined
  if (verdict.kind === 'damaged') throw await setDamagedJournalAside(ctx, fs, layout, verdict.why)
  if (verdict.kind === 'refused') throw verdict.refusal
  const {journal} = verdict
  const run: PlanRun = {env: {ctx, fs: verdict.fs, tool, layout}, journalPath: layout.journal}
  const what = `an interrupted ${journal.action} of ${journal.name} (transaction ${journal.transaction})`
  try {
    if (journal.phase === 'committed') {
      // A rollback that committed puts back a version it judged before the crash; it may have changed since.
      await judgeRolledForward(ctx, run.env.fs, layout, journal)
      await commitJournal(run, journal)
      return `${what} had committed; its cleanup was finished`
    }
    await undoJournal(run, journal)
    return `${what} was undone; the state before it is restored`
  } catch (e) {
    // launchd refusing is 5; a file system that will not do what undo needs is the step's own status (a bug is 1).
    throw new LifecycleError(exitStatusOf(e).code, `${what} could not be recovered: ${(e as Error).message}; the journal ${layout.journal} is kept and the next run tries again`)
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
  const attempt = await tryLock(tool.lock, ctx.identity.pid()).catch(lockPathRefusal)
  if (!attempt.acquired) throw lockedError(tool.lock, attempt.holderPid)
  if (attempt.tookOverFrom !== undefined) ctx.progress.stepStarted('stale-lock', `Took over the lock of pid ${attempt.tookOverFrom}, which ended without releasing it`)
  return {lock: attempt.lock, created}
}

/**
 * Everything a mutating command does before its own work: root and environment checks, the
 * ancestor and planted-link checks, the one lock, and recovery of an interrupted transaction.
 */
export async function openSession(ctx: LifecycleContext, action: string, layout: PrefixLayout, opts: {dryRun?: boolean; links?: readonly PlacedLink[]; paths?: readonly string[]} = {}): Promise<Session> {
  requireRootProcess(ctx, action)
  await requireExistingRoot(ctx)
  const tool = new ToolPaths(ctx.root)
  const links = opts.links ?? layout.links
  // Without a record, bin/<name> may be a legacy install's plain executable (before an adoption, or
  // put back by undoing an interrupted one): adoption judges it, so the link check leaves it out.
  const legacyExecutable = (await ctx.fs.lstat(layout.receipt)) === undefined ? join(layout.bin, layout.name) : undefined
  await checkTargets(ctx, layout, tool, links.filter((l) => l.path !== legacyExecutable))
  const fs = daemonFs(ctx, layout, tool, links, opts.paths)
  if (opts.dryRun) {
    await refuseDryRunWhileLocked(ctx, tool)
    const damaged = await damagedRecords(fs, layout, ctx.root)
    if (damaged.length > 0) {
      const [path, problem] = damaged[0]!
      throw new LifecycleError(ExitCode.badInput, `${path} is damaged (${problem}); a run without --dry-run moves it aside and rebuilds it from disk before planning`, damaged.map(([p, why]) => `${p}: ${why}`))
    }
    const pending = await readJournal(fs, layout.journal).catch((e: unknown) => {
      if (!isFormatError(e)) throw e
      throw new LifecycleError(ExitCode.badInput, `the transaction journal ${layout.journal} is damaged (${e.message}); a run without --dry-run moves it aside and says how to repair the daemon`)
    })
    if (pending && isForeignJournal(pending)) throw foreignRefusal(layout, pending)
    if (pending) {
      // What the run would do depends on the state recovery leaves (the old version or the new one),
      // which only doing the recovery settles: a plan made from today's half-changed disk would be wrong.
      const fate = pending.phase === 'committed' ? 'finished' : 'undone'
      throw new LifecycleError(ExitCode.badInput, `an interrupted ${pending.action} of ${pending.name} (transaction ${pending.transaction}) is pending in ${layout.journal}; a run first ${fate === 'finished' ? 'finishes' : 'undoes'} it, and what it then does depends on the state that leaves, so --dry-run cannot plan it yet. Let esdctl recover it (${anyChangingCommand(layout.name, ctx.root)}; \`esdctl doctor${ctx.root === '/' ? '' : ` --root ${ctx.root}`} ${layout.name}\` shows it first), then ask for the dry run again`)
    }
    return {layout, tool, fs, release: async () => undefined}
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

/**
 * The layout of an installed daemon by name, undefined when esdctl does not know it; badInput for a
 * name that is not one. "Not known" is settled under the lock: a first install still running has
 * written no record yet, so without the lock a verb would answer "not installed" for a daemon that
 * is about to be. Another run holding it is exit 7. A dry run does the same without taking the
 * lock: it tries it first without waiting and reads the records only when nobody holds it.
 */
export async function findLayout(ctx: LifecycleContext, name: string, action: string, opts: {dryRun?: boolean} = {}): Promise<PrefixLayout | undefined> {
  try {
    new PrefixLayout({name, label: 'esdctl.lookup', root: ctx.root})
  } catch (e) {
    throw new LifecycleError(ExitCode.badInput, (e as Error).message)
  }
  if (opts.dryRun) {
    await preflightToolDir(ctx, action)
    await refuseDryRunWhileLocked(ctx, new ToolPaths(ctx.root))
    return layoutForName(ctx, name)
  }
  const layout = await layoutForName(ctx, name)
  if (layout !== undefined) return layout
  return underToolLock(ctx, action, () => layoutForName(ctx, name))
}

/** Root and environment checks, and the lock directory's ancestors: what precedes any meeting with the lock. */
async function preflightToolDir(ctx: LifecycleContext, action: string): Promise<ToolPaths> {
  requireRootProcess(ctx, action)
  await requireExistingRoot(ctx)
  const tool = new ToolPaths(ctx.root)
  const offenders = await checkAncestors(tool.dir)
  if (offenders.length > 0) throw new LifecycleError(ExitCode.unsafeEnvironment, `unsafe directory: ${offenders[0]!.message}`, offenders.map((o) => o.message))
  return tool
}

/**
 * Runs `fn` holding the one lock, for a verb that decides from esdctl's records before it knows
 * which daemon's session to open: root and environment checks, the lock directory's ancestors, the
 * lock (exit 7 naming the holder), and the directories it created removed again afterwards.
 */
async function underToolLock<T>(ctx: LifecycleContext, action: string, fn: () => Promise<T>): Promise<T> {
  const tool = await preflightToolDir(ctx, action)
  const {lock, created} = await acquireLock(ctx, ctx.fs.restrictedTo([tool.dir]), tool)
  try {
    return await fn()
  } finally {
    await lock.release()
    const mine = ctx.fs.restrictedTo(created)
    for (const dir of [...created].reverse()) await mine.removeEmptyDir(dir)
  }
}

/** Why esdctl does not know `name`: the message of `requireLayout`'s refusal, and of uninstall's no-op. */
export function notInstalledMessage(ctx: LifecycleContext, name: string): string {
  return `${name} is not installed by esdctl (not in the registry, no record under ${new PrefixLayout({name, label: 'esdctl.lookup', root: ctx.root}).prefix})`
}

/** The layout of an installed daemon by name; badInput when esdctl does not know it. */
export async function requireLayout(ctx: LifecycleContext, name: string, action: string, opts: {dryRun?: boolean} = {}): Promise<PrefixLayout> {
  const layout = await findLayout(ctx, name, action, opts)
  if (layout === undefined) throw new LifecycleError(ExitCode.badInput, notInstalledMessage(ctx, name))
  return layout
}
