import {join, posix} from 'node:path'
import {jobProgram} from '../launchd/job-program.js'
import {TEMP_SUFFIX, type RootFs} from '../adapters/root-fs.js'
import {ExitCode} from '../exit-codes.js'
import {isFormatError} from '../formats/format-error.js'
import {MAX_PLIST_BYTES, parsePropertyListDict} from '../formats/property-list.js'
import {isValidLabel} from '../layout/names.js'
import type {PrefixLayout} from '../layout/prefix-layout.js'
import type {LifecycleContext} from './context.js'
import {LifecycleError} from './lifecycle-error.js'
import type {Move} from './moves.js'

/**
 * The layout every deployed Mac starts from (DESIGN.md §11): `/opt/<name>/bin/<name>` a plain
 * executable run by a launchd job (the manifest's label, or an old one `replaces` lists), `etc/`
 * and `var/` full of the customer's state, and no esdctl records.
 */
export interface LegacyInstall {
  /** Rebased path of the plain executable, `bin/<name>`. */
  executable: string
  /** Every job of the old install: its label, whether launchd had it loaded, its plist (rebased) if present. */
  jobs: {label: string; loaded: boolean; plist?: string}[]
}

/** Where adoption keeps the legacy install inside the rollback slot. */
export function legacySlot(layout: PrefixLayout): string {
  return join(layout.rollbackSlot, 'legacy')
}

/** The plist of a job under /Library/LaunchDaemons, rebased: labels are checked, so it cannot leave that directory. */
export function jobPlist(layout: PrefixLayout, label: string): string {
  if (!isValidLabel(label)) throw new LifecycleError(ExitCode.badInput, `${JSON.stringify(label)} is not a launchd label`)
  return join(layout.launchDaemonsDir, `${label}.plist`)
}

/** What adoption may change besides the prefix and the daemon's own plist: each replaced job's plist (and its temporary sibling). */
export function replacedPlistPaths(layout: PrefixLayout, replaces: readonly string[]): string[] {
  return replaces.flatMap((label) => [jobPlist(layout, label), jobPlist(layout, label) + TEMP_SUFFIX])
}

/**
 * Finds a legacy install of this daemon: `bin/<name>` a regular file, and the manifest's label or
 * one it `replaces` loaded in launchd or present in /Library/LaunchDaemons. A plain file there with
 * no job is not something esdctl recognises, and a legacy executable others could have changed is
 * not adopted: both are refused (unsafe environment) with what to do.
 */
export async function detectLegacy(ctx: LifecycleContext, fs: RootFs, layout: PrefixLayout, replaces: readonly string[]): Promise<LegacyInstall | undefined> {
  const executable = join(layout.bin, layout.name)
  const stat = await fs.lstat(executable)
  if (stat === undefined || stat.isSymbolicLink()) return undefined
  if (!stat.isFile()) {
    throw new LifecycleError(ExitCode.unsafeEnvironment, `${executable} is a ${stat.isDirectory() ? 'directory' : 'special file'}, neither esdctl's link nor a legacy executable; move it away and run again`)
  }
  const jobs: LegacyInstall['jobs'] = []
  for (const label of [layout.label, ...replaces.filter((l) => l !== layout.label)]) {
    const plist = jobPlist(layout, label)
    const hasPlist = (await fs.lstat(plist))?.isFile() === true
    const loaded = !ctx.offline && (await ctx.launchctl.print(label)) !== undefined
    if (!hasPlist && !loaded) continue
    // A job `replaces` names is stopped and its plist moved away: only if it is this daemon's.
    if (label !== layout.label) await checkReplacedJobRunsLegacy(ctx, fs, layout, label, hasPlist ? plist : undefined)
    jobs.push({label, loaded, ...(hasPlist ? {plist} : {})})
  }
  if (jobs.length === 0) {
    throw new LifecycleError(ExitCode.unsafeEnvironment,
      `${executable} is a plain file, but no launchd job runs it (neither ${[layout.label, ...replaces].join(' nor ')} is loaded or has a plist in ${layout.launchDaemonsDir}); esdctl adopts only a legacy install it recognises. If an old job label runs it, list that label in the manifest's "replaces"; otherwise move the file away and run again`)
  }
  if (stat.uid !== 0 || (stat.mode & 0o022) !== 0) {
    throw new LifecycleError(ExitCode.unsafeEnvironment,
      `${executable} (owner uid ${stat.uid}, mode ${(stat.mode & 0o7777).toString(8)}) is not owned by root or is writable by others, so esdctl cannot tell it is the daemon that was installed; it is not adopted. Run: sudo chown root:wheel ${executable} && sudo chmod go-w ${executable}, then run again`)
  }
  return {executable, jobs}
}

/**
 * Whether `program` (as launchd sees it on the booted Mac) is this daemon's legacy executable:
 * `/opt/<name>/bin/<name>`, or any path inside `/opt/<name>/`.
 */
export function isLegacyProgram(layout: PrefixLayout, program: string): boolean {
  if (!program.startsWith('/')) return false
  const normal = posix.normalize(program)
  const system = layout.system
  return normal === join(system.bin, layout.name) || normal.startsWith(`${system.prefix}/`)
}

/**
 * A job `replaces` names is adopted (booted out, its plist moved into the rollback slot) only if it
 * runs the legacy executable: its plist's `Program`, or else `ProgramArguments[0]`, or, for a job
 * loaded without a plist, the program launchd reports. Anything else is another vendor's job a
 * mistyped or hostile `replaces` would take down; refused (badInput) naming the plist, its program
 * and the manifest field.
 */
async function checkReplacedJobRunsLegacy(ctx: LifecycleContext, fs: RootFs, layout: PrefixLayout, label: string, plist: string | undefined): Promise<void> {
  let program: string | undefined
  let where: string
  if (plist !== undefined) {
    where = plist
    try {
      const dict = parsePropertyListDict(await fs.readFile(plist, MAX_PLIST_BYTES), plist)
      program = jobProgram(dict)
    } catch (e) {
      if (!isFormatError(e)) throw e
      throw new LifecycleError(ExitCode.badInput, `the manifest's "replaces" lists ${label}, but ${plist} cannot be read as a launchd plist (${e.message}); esdctl stops and moves away only a job that runs ${join(layout.system.bin, layout.name)}. Remove ${label} from "replaces" in esdctl.json, or repair the plist, and run again`)
    }
  } else {
    where = `the loaded job ${label}`
    program = (await ctx.launchctl.print(label))?.program
  }
  if (program !== undefined && isLegacyProgram(layout, program)) return
  throw new LifecycleError(ExitCode.badInput,
    `the manifest's "replaces" lists ${label}, but ${where} runs ${program === undefined ? 'no Program or ProgramArguments' : `Program ${JSON.stringify(program)}`}, not this daemon's legacy ${join(layout.system.bin, layout.name)} (or anything under ${layout.system.prefix}/); esdctl does not stop or move another program's job. Remove ${label} from "replaces" in esdctl.json and run again; nothing was changed`)
}

/** The moves that put the legacy executable and the replaced jobs' plists into the rollback slot. */
export function legacyMoves(layout: PrefixLayout, legacy: LegacyInstall): Move[] {
  const slot = legacySlot(layout)
  return [
    {from: legacy.executable, to: join(slot, 'bin', layout.name)},
    // The daemon's own plist is kept by the plist step (a copy in the slot, byte for byte); replaced jobs' plists move.
    ...legacy.jobs.filter((j) => j.plist !== undefined && j.label !== layout.label).map((j) => ({from: j.plist!, to: join(slot, `${j.label}.plist`)})),
  ]
}
