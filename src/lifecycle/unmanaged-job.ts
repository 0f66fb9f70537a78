import {join} from 'node:path'
import {jobProgram} from '../launchd/job-program.js'
import type {RootFs} from '../adapters/root-fs.js'
import {ExitCode} from '../exit-codes.js'
import {isFormatError} from '../formats/format-error.js'
import {MAX_PLIST_BYTES, parsePropertyListDict} from '../formats/property-list.js'
import type {PrefixLayout} from '../layout/prefix-layout.js'
import type {LifecycleContext} from './context.js'
import {LifecycleError} from './lifecycle-error.js'

/** What a launchd plist runs, in words: its `Program`, else `ProgramArguments[0]`, else why neither can be read. */
async function describeProgram(fs: RootFs, plist: string): Promise<string> {
  try {
    const dict = parsePropertyListDict(await fs.readFile(plist, MAX_PLIST_BYTES), plist)
    const program = jobProgram(dict)
    if (program === undefined) return 'no Program or ProgramArguments'
    return `${typeof dict['Program'] === 'string' ? 'Program' : 'ProgramArguments[0]'} ${JSON.stringify(program)}`
  } catch (e) {
    if (!isFormatError(e)) throw e
    return `a plist that cannot be read (${e.message})`
  }
}

/**
 * A first install (no esdctl receipt) that is not adopting a recognised legacy install must not
 * take over a job someone else set up under the same label: a plist at the label's path in
 * /Library/LaunchDaemons, or the label loaded in launchd (not asked under an offline --root).
 * Overwriting it would lose that job's plist for good once the rollback slot is next replaced.
 * Throws LifecycleError (badInput) naming the plist, what it runs, and what to do; reads only.
 */
export async function refuseUnmanagedJob(ctx: LifecycleContext, fs: RootFs, layout: PrefixLayout): Promise<void> {
  const plist = layout.launchdPlist
  const hasPlist = (await fs.lstat(plist)) !== undefined
  const loaded = ctx.offline ? undefined : await ctx.launchctl.print(layout.label)
  if (!hasPlist && loaded === undefined) return
  const what = hasPlist ? `${plist} (it runs ${await describeProgram(fs, plist)})` : `the loaded launchd job ${layout.label} (it runs ${loaded?.program === undefined ? 'a program launchd does not report' : JSON.stringify(loaded.program)})`
  const legacy = join(layout.system.bin, layout.name)
  throw new LifecycleError(ExitCode.badInput,
    `label ${layout.label} is already taken by ${what}, and esdctl has no record of installing ${layout.name} (no ${layout.receipt}) nor a legacy install it recognises (${legacy} a plain root-owned executable); esdctl does not take over a job it did not install. ` +
      `If this is ${layout.name}'s old install, make ${legacy} the plain executable file that job runs (not a symbolic link) so esdctl adopts it and keeps the old install in the rollback slot; ` +
      `otherwise stop and remove that job (sudo launchctl bootout system/${layout.label}; then move ${layout.system.launchdPlist} away) or choose another label in esdctl.json. Nothing was changed`)
}
