import {Args, Command, Flags} from '@oclif/core'
import type {BooleanFlag, OptionFlag} from '@oclif/core/interfaces'
import type {LaunchctlAdapter} from '../adapters/launchctl.js'
import {hostLaunchctlFor} from '../status/host-launchd.js'
import {runStatus} from '../status/run-status.js'
import {STATUS_FLAGS, STATUS_NAME_ARG, statusOptions, type StatusFlagName, type StatusFlagSpec} from '../status/status-flags.js'

export {exitCodeOf} from '../status/run-status.js'

export default class Status extends Command {
  static override summary = 'Show every daemon esdctl installed: state, pid, version, last exit, profile expiry.'
  static override description = `Reads esdctl's own registry and install records (never scans the disk) and asks launchd once per daemon. Never hashes or verifies anything: use \`esdctl doctor\` to find out why a daemon is not running.

States: running, stopped, not loaded, disabled, crash-looping (launchd keeps respawning it), not installed (a NAME esdctl has no record of), staged (installed in an image under --root: launchd is not asked), unknown (launchctl could not be asked).

Formats: table (default); json (also --json: {changed, failed, rc, msg, daemons[]}; a daemon whose install record is missing or damaged has damaged: true); jamf (exactly one line <result>…</result> for an extension attribute, <state> <version>, or damaged when the install record is missing or damaged, so a "like running" smart group leaves it out; always exits 0); munki (an installcheck_script with --expect-version: exit 0 only when an install is needed, damaged records included, since installing repairs them; 1 otherwise, including on any other error).

Exit codes: 0 the status of every daemon was read; 4 the registry or an install record is unreadable; 5 launchctl could not be asked.`
  static override examples = [
    '<%= config.bin %> status',
    '<%= config.bin %> status mydaemon --json',
    '<%= config.bin %> status mydaemon --format jamf',
    '<%= config.bin %> status mydaemon --format munki --expect-version 1.4.0',
  ]
  static override args = {
    [STATUS_NAME_ARG.name]: Args.string({description: STATUS_NAME_ARG.description}),
  }
  static override flags = oclifFlags()

  /** The production launchctl; tests (and the benchmark's oclif reference case) substitute the test double here. */
  /** The launchd to ask about `root`'s daemons (tests put a double here). */
  protected launchctl(root: string): LaunchctlAdapter | undefined {
    return hostLaunchctlFor(root)
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Status)
    const options = statusOptions(flags, args[STATUS_NAME_ARG.name])
    // oclif has checked the flags against the same table, so this cannot happen.
    if (options === undefined) throw new Error(`esdctl status: flags do not match their definition: ${JSON.stringify(flags)}`)
    process.exitCode = await runStatus(options, this.launchctl(options.root))
  }
}

type OclifFlags = {[K in StatusFlagName]: (typeof STATUS_FLAGS)[K] extends {type: 'boolean'} ? BooleanFlag<boolean> : OptionFlag<string | undefined>}

/** The oclif flags, each from its entry in the shared table. */
function oclifFlags(): OclifFlags {
  return Object.fromEntries(Object.entries(STATUS_FLAGS).map(([name, spec]: [string, StatusFlagSpec]) => {
    if (spec.type === 'boolean') return [name, Flags.boolean({description: spec.description})]
    const {type: _type, ...settings} = spec
    return [name, Flags.string(settings)]
  })) as OclifFlags
}
