import {Args, Command, Flags} from '@oclif/core'
import {ExitCode} from '../exit-codes.js'
import {productionContext, type LifecycleContext, type LifecycleResult} from '../lifecycle/context.js'
import {exitStatusOf} from '../exit-status.js'
import {renderLifecycleText} from '../render/lifecycle-text.js'
import {LineProgress, TaskListProgress} from '../render/progress.js'

/**
 * What --json prints: the result plus the keys Ansible's command module users test (changed,
 * failed, rc, msg), and `dryRun`, always present: with --dry-run, `changed` says whether the real
 * run would change the machine (check mode); without, whether it did.
 */
export type LifecycleJson = Omit<Partial<LifecycleResult>, 'dryRun'> & {ok: boolean; failed: boolean; rc: number; msg: string; dryRun: boolean; details?: string[]}

/**
 * The shared shape of the mutating commands: parse, build the production context, call the
 * lifecycle library, render. Refusals (LifecycleError) become a message and their own exit code.
 */
export abstract class LifecycleCommand extends Command {
  static override enableJsonFlag = true
  static override baseFlags = {
    root: Flags.directory({description: 'treat DIR as / (staging images, tests); every absolute path is rebased', default: '/'}),
    'dry-run': Flags.boolean({description: 'print the plan and change nothing; --json says whether the real run would change anything (changed)'}),
  }

  protected async runLifecycle({root, dryRun}: {root: string; dryRun: boolean}, act: (ctx: LifecycleContext) => Promise<LifecycleResult>): Promise<LifecycleJson> {
    const tty = !this.jsonEnabled() && process.stderr.isTTY === true
    const progress = tty ? new TaskListProgress() : new LineProgress(line => (this.jsonEnabled() ? undefined : process.stderr.write(`${line}\n`)))
    let out: LifecycleJson
    try {
      const result = await act(productionContext({root, progress}))
      if (progress instanceof TaskListProgress) await progress.flush()
      out = {...result, ok: result.exitCode === ExitCode.ok, failed: result.exitCode !== ExitCode.ok, rc: result.exitCode, msg: result.message, dryRun: result.dryRun === true}
    } catch (e) {
      if (progress instanceof TaskListProgress) await progress.flush()
      out = refusal(e, dryRun)
    }
    if (!this.jsonEnabled()) this.log(renderLifecycleText(out))
    process.exitCode = out.rc
    return out
  }
}

/** A refusal before anything changed, or launchd unreachable before the transaction began: its status from the one mapping; a refused run would change nothing. */
function refusal(e: unknown, dryRun: boolean): LifecycleJson {
  const status = exitStatusOf(e)
  return {ok: false, failed: true, changed: false, dryRun, rc: status.code, exitCode: status.code, msg: status.message, message: status.message, ...(status.details ? {details: status.details} : {}), ...(status.findings ? {findings: status.findings} : {})}
}

type NameVerb = (ctx: LifecycleContext, name: string, opts: {dryRun?: boolean}) => Promise<LifecycleResult>

/**
 * The verbs that act on an installed daemon by name and take no options of their own
 * (start, stop, restart, rollback) differ only in summary and library call.
 */
export function nameCommand(verb: string, summary: string, act: NameVerb): typeof LifecycleCommand {
  return class extends LifecycleCommand {
    static override summary = summary
    static override examples = [`sudo <%= config.bin %> ${verb} mydaemon`, `sudo <%= config.bin %> ${verb} --json mydaemon`]
    static override args = {name: Args.string({description: 'the daemon name (/opt/<name>)', required: true})}

    async run(): Promise<LifecycleJson> {
      const {args, flags} = await this.parse(this.constructor as typeof LifecycleCommand)
      const dryRun = flags['dry-run'] as boolean
      return this.runLifecycle({root: flags.root as string, dryRun}, ctx => act(ctx, args.name as string, {dryRun}))
    }
  }
}

type PayloadVerb = (ctx: LifecycleContext, payload: string, opts: {dryRun?: boolean; allowDowngrade?: boolean}) => Promise<LifecycleResult>

const DEPLOY_DESCRIPTION = `Verifies the staged bundle first (every slice, the profile, team and bundle id against the manifest; codesign on macOS), copies everything before the old daemon stops, swaps by rename, writes the launchd plist and bin/<name> link, bootstraps, and runs the health check; a failed health check rolls back to the previous version. Any failure leaves the previous state running. Needs root.`

/** install and upgrade: a payload argument and --allow-downgrade, differing in summary and library call. */
export function payloadCommand(verb: string, summary: string, act: PayloadVerb): typeof LifecycleCommand {
  return class extends LifecycleCommand {
    static override summary = summary
    static override description = DEPLOY_DESCRIPTION
    static override examples = [`sudo <%= config.bin %> ${verb} ./payload`, `sudo <%= config.bin %> ${verb} --dry-run mydaemon-1.2.3.tar.gz`, `sudo <%= config.bin %> ${verb} --json ./payload`]
    static override args = {payload: Args.string({description: 'payload directory or .tar.gz (with esdctl.json at its root)', required: true})}
    static override flags = {
      'allow-downgrade': Flags.boolean({description: 'permit installing an older version than the one installed'}),
    }

    async run(): Promise<LifecycleJson> {
      const {args, flags} = await this.parse(this.constructor as typeof LifecycleCommand)
      const dryRun = flags['dry-run'] as boolean
      return this.runLifecycle({root: flags.root as string, dryRun}, ctx => act(ctx, args.payload as string, {dryRun, allowDowngrade: flags['allow-downgrade'] as boolean}))
    }
  }
}
