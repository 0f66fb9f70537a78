import type {LaunchctlAdapter} from '../adapters/launchctl.js'
import {ExitCode} from '../exit-codes.js'
import {munkiInstallCheck, MUNKI_INSTALLED} from './munki-installcheck.js'
import {renderJamf, renderTable, statusJson} from './render-status.js'
import {statusReport, type StatusReport} from './status-report.js'
import type {StatusOptions} from './status-flags.js'

/**
 * Everything `esdctl status` does once its command line is parsed: writes the report to stdout
 * (the one registry error of the table format to stderr) and returns the exit code. Shared by the
 * oclif command and bin/run.js's oclif-free path, which therefore cannot differ.
 */
export async function runStatus(options: StatusOptions, launchctl: LaunchctlAdapter | undefined): Promise<number> {
  const {format, root, name} = options
  if (format === 'munki') return munki(root, name, options.expectVersion)
  let report: StatusReport
  try {
    report = await statusReport({launchctl, root, name})
  } catch (e) {
    // Only a damaged registry gets here: the per-daemon problems are in the rows.
    const msg = (e as Error).message
    if (format === 'jamf') return write(renderJamf({daemons: [], incomplete: true}, msg), ExitCode.ok)
    if (format === 'json') return write(JSON.stringify({changed: false, failed: true, rc: ExitCode.badInput, msg, daemons: []}, null, 2) + '\n', ExitCode.badInput)
    process.stderr.write(`esdctl status: ${msg}\n`)
    return ExitCode.badInput
  }
  // A Jamf extension attribute is collected whatever the daemon's state: always 0.
  if (format === 'jamf') return write(renderJamf(report), ExitCode.ok)
  const rc = exitCodeOf(report)
  return write(format === 'json' ? JSON.stringify(statusJson(report, rc), null, 2) + '\n' : renderTable(report), rc)
}

export function exitCodeOf(report: StatusReport): ExitCode {
  if (report.daemons.some((d) => d.state === 'unknown')) return ExitCode.launchdFailed
  if (report.daemons.some((d) => d.error !== undefined)) return ExitCode.badInput
  return ExitCode.ok
}

async function munki(root: string, name: string | undefined, expectVersion: string | undefined): Promise<number> {
  if (name === undefined || expectVersion === undefined) {
    return write('esdctl status --format munki needs NAME and --expect-version; reporting installed\n', MUNKI_INSTALLED)
  }
  const check = await munkiInstallCheck({root, name, expectVersion})
  return write(check.message + '\n', check.exitCode)
}

function write(text: string, exitCode: number): number {
  process.stdout.write(text)
  return exitCode
}
