import {resolve} from 'node:path'
import {Args, Command, Flags} from '@oclif/core'
import {LaunchctlAdapter} from '../adapters/launchctl.js'
import {UnifiedLogAdapter} from '../adapters/unified-log.js'
import {DEFAULT_LOG_MINUTES, doctorReport} from '../doctor/doctor-report.js'
import {renderDoctorText} from '../doctor/render-doctor.js'
import {ExitCode} from '../exit-codes.js'
import {exitStatusOf} from '../exit-status.js'

export default class Doctor extends Command {
  static override summary = 'Find out why an installed daemon does not run, and how to fix it.'
  static override description = `Checks everything that can stop a deployed Endpoint Security daemon, where its install record says it is (bundle location, executable, links; the registry's default layout, said so, when the record cannot be read): the verifier's findings on the installed bundle, and whether it is the code the record recorded (cdhashes); the signing identity against the install record (MDM Full Disk Access grants are keyed to the code requirement); the launchd plist's Program, Label, UserName, owner and mode (root:wheel 0644), by the same rules install refuses a manifest by (DYLD_* variables among them), and whether it is the plist esdctl renders for the record; every directory above the executable and the plist; the links; the rollback slot, judged as rollback judges it (a warning when rollback would refuse it); a pending transaction journal, judged as the next esdctl command will (finished or undone, set aside as damaged, or refused as foreign), and journals an earlier run set aside; the disabled state; launchd's state, last exit and last exit reason (OS_REASON_CODESIGNING: macOS killed it for its code signature); on macOS the unified log of amfid, taskgated-helper and kernel refusals (mac_vnode_check_signature, AMFI, ASP), translated into causes, path-less lines tied to the daemon by time and process; its newest crash reports in /Library/Logs/DiagnosticReports (.ips and .crash; a CODESIGNING termination explained); es_new_client results in the daemon's output and its unified log (the process named after its executable) in any spelling (ERR_NOT_PERMITTED: no Full Disk Access; ERR_NOT_PRIVILEGED: not root). With --root other than /, the image is checked on disk and launchd and the unified log are not asked ("skipped: image, launchd not asked"). A check that cannot run here says "skipped" and why.

With a damaged registry, the daemons are found from their install records under /opt and checked, and the damage is reported first. --json always prints one JSON document ({ok, registry?, daemons[], notInstalled[]}; {ok: false, error, …} when nothing could be checked).

Exit codes: 0 no check failed with an error; 3 at least one did; 4 the daemon is not installed or esdctl's registry is unreadable.`
  static override examples = ['<%= config.bin %> doctor', 'sudo <%= config.bin %> doctor mydaemon --minutes 120', '<%= config.bin %> doctor mydaemon --json']
  static override args = {
    name: Args.string({description: 'one daemon (default: every daemon esdctl installed)'}),
  }
  static override flags = {
    json: Flags.boolean({description: 'print the checks as JSON'}),
    minutes: Flags.integer({description: 'how far back to read the unified log', default: DEFAULT_LOG_MINUTES, min: 1, max: 1440}),
    root: Flags.string({description: 'directory standing in for / (staging images, tests)', default: '/'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Doctor)
    let report
    try {
      report = await doctorReport({launchctl: new LaunchctlAdapter(), log: new UnifiedLogAdapter(), root: flags.root, offline: resolve(flags.root) !== '/', name: args.name, logMinutes: flags.minutes})
    } catch (e) {
      const status = exitStatusOf(e)
      if (status.code === ExitCode.internalError) throw e
      process.exitCode = status.code
      // A JSON consumer always gets a JSON document, even when nothing could be checked.
      if (flags.json) process.stdout.write(JSON.stringify({ok: false, error: status.message, daemons: [], notInstalled: []}, null, 2) + '\n')
      process.stderr.write(`esdctl doctor: ${status.message}\n`)
      return
    }
    process.stdout.write(flags.json ? JSON.stringify(report, null, 2) + '\n' : renderDoctorText(report))
    process.exitCode = report.notInstalled.length > 0 || report.registry !== undefined ? ExitCode.badInput : report.ok ? ExitCode.ok : ExitCode.verificationFailed
  }
}
