import {Args, Command, Flags} from '@oclif/core'
import {LaunchctlAdapter} from '../adapters/launchctl.js'
import {ExitCode} from '../exit-codes.js'
import {munkiInstallCheck} from '../status/munki-installcheck.js'
import {renderJamf, renderTable, statusJson} from '../status/render-status.js'
import {statusReport, type StatusReport} from '../status/status-report.js'

export default class Status extends Command {
  static override summary = 'Show every daemon esdctl installed: state, pid, version, last exit, profile expiry.'
  static override description = `Reads esdctl's own registry and install records (never scans the disk) and asks launchd once per daemon. Never hashes or verifies anything: use \`esdctl doctor\` to find out why a daemon is not running.

States: running, stopped, not loaded, disabled, crash-looping (launchd keeps respawning it), not installed (a NAME esdctl has no record of), unknown (launchctl could not be asked).

Formats: table (default); json (also --json: {changed, failed, rc, msg, daemons[]}); jamf (exactly one line <result>…</result> for an extension attribute; always exits 0); munki (an installcheck_script with --expect-version: exit 0 only when an install is needed, 1 otherwise, including on any error).

Exit codes: 0 the status of every daemon was read; 4 the registry or an install record is unreadable; 5 launchctl could not be asked.`
  static override examples = [
    '<%= config.bin %> status',
    '<%= config.bin %> status mydaemon --json',
    '<%= config.bin %> status mydaemon --format jamf',
    '<%= config.bin %> status mydaemon --format munki --expect-version 1.4.0',
  ]
  static override args = {
    name: Args.string({description: 'one daemon (default: every daemon esdctl installed)'}),
  }
  static override flags = {
    format: Flags.string({description: 'output format', options: ['table', 'json', 'jamf', 'munki'], default: 'table'}),
    json: Flags.boolean({description: 'same as --format json'}),
    'expect-version': Flags.string({description: 'with --format munki: the version the Munki item installs'}),
    root: Flags.string({description: 'directory standing in for / (staging images, tests)', default: '/'}),
  }

  /** The production launchctl; the startup benchmark substitutes the test double here. */
  protected launchctl(): LaunchctlAdapter {
    return new LaunchctlAdapter()
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Status)
    const format = flags.json ? 'json' : flags.format
    if (format === 'munki') return this.munki(flags.root, args.name, flags['expect-version'])
    let report: StatusReport
    try {
      report = await statusReport({launchctl: this.launchctl(), root: flags.root, name: args.name})
    } catch (e) {
      // Only a damaged registry gets here: the per-daemon problems are in the rows.
      const msg = (e as Error).message
      if (format === 'jamf') return write(renderJamf({daemons: [], incomplete: true}, msg))
      process.exitCode = ExitCode.badInput
      if (format === 'json') return write(JSON.stringify({changed: false, failed: true, rc: ExitCode.badInput, msg, daemons: []}, null, 2) + '\n')
      process.stderr.write(`esdctl status: ${msg}\n`)
      return
    }
    if (format === 'jamf') return write(renderJamf(report))
    const rc = exitCodeOf(report)
    process.exitCode = rc
    write(format === 'json' ? JSON.stringify(statusJson(report, rc), null, 2) + '\n' : renderTable(report))
  }

  private async munki(root: string, name: string | undefined, expectVersion: string | undefined): Promise<void> {
    if (name === undefined || expectVersion === undefined) {
      write('esdctl status --format munki needs NAME and --expect-version; reporting installed\n')
      process.exitCode = 1
      return
    }
    const check = await munkiInstallCheck({root, name, expectVersion})
    write(check.message + '\n')
    process.exitCode = check.exitCode
  }
}

export function exitCodeOf(report: StatusReport): ExitCode {
  if (report.daemons.some((d) => d.state === 'unknown')) return ExitCode.launchdFailed
  if (report.daemons.some((d) => d.error !== undefined)) return ExitCode.badInput
  return ExitCode.ok
}

function write(text: string): void {
  process.stdout.write(text)
}
