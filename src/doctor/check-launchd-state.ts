import type {LaunchctlAdapter} from '../adapters/launchctl.js'
import type {PrefixLayout} from '../layout/prefix-layout.js'
import {daemonState, lastExitOf} from '../status/daemon-state.js'
import {failed, passed, type DoctorCheck} from './doctor-check.js'

/** Disabled bit, then the job's state and last exit, in launchd's own words. */
export async function checkLaunchdState(layout: PrefixLayout, launchctl: LaunchctlAdapter): Promise<DoctorCheck[]> {
  const target = `system/${layout.label}`
  let info
  let disabled: boolean
  try {
    ;[info, disabled] = await Promise.all([launchctl.print(layout.label), launchctl.isDisabled(layout.label)])
  } catch (e) {
    return [failed('launchd.unreachable', 'error', target, `launchctl could not be asked: ${(e as Error).message}`, 'Run esdctl doctor on the Mac itself, as root.')]
  }
  const checks: DoctorCheck[] = []
  checks.push(disabled
    ? failed('launchd.disabled', 'error', target, `${target} is disabled: launchd refuses to load it (bootstrap error 119 or 5), also after a reboot`, `sudo launchctl enable ${target}, then sudo esdctl start ${layout.name}`)
    : passed('launchd.enabled', target, `${target} is not disabled`))
  const state = daemonState(info, disabled)
  const exit = lastExitOf(info)
  const lastExit = exit ? `; last exit: ${exit.text} — ${exit.meaning}` : ''
  if (exit?.codeSigning) {
    const job = info?.jobState ? `, job state = ${info.jobState}` : ''
    checks.push(failed('launchd.killed-code-signing', 'error', target,
      `macOS killed it for its code signature: launchd recorded last exit reason = ${exit.reason}${job} (state ${info?.stateText ?? state}${(info?.runs ?? 0) > 1 ? `, started ${info!.runs} times` : ''})`,
      `Run \`esdctl verify ${layout.system.app}\`: the verifier says what AMFI refuses; the unified-log and crash-report checks below show macOS's own words.`))
  }
  switch (state) {
    case 'running':
      checks.push(passed('launchd.running', target, `running with pid ${info!.pid}${(info!.runs ?? 0) > 1 ? ` (started ${info!.runs} times${lastExit})` : ''}`))
      break
    case 'crash-looping':
      checks.push(failed('launchd.crash-looping', 'error', target, `launchd keeps restarting it${lastExit}`, exit?.signal === 'SIGKILL' || exit?.codeSigning ? 'See the code-signing checks above and the unified log below.' : `Read its output: esdctl logs ${layout.name}`))
      break
    case 'stopped':
      checks.push(exit && exit.code === 0
        ? failed('launchd.stopped', 'warning', target, `loaded but not running${lastExit}`, `sudo esdctl start ${layout.name}`)
        : failed('launchd.stopped', 'error', target, `loaded but not running${lastExit}`, exit?.signal === 'SIGKILL' || exit?.codeSigning ? 'See the code-signing checks and the unified log.' : `Read its output: esdctl logs ${layout.name}`))
      break
    case 'stopping':
      checks.push(failed('launchd.stopping', 'warning', target, `launchd sent it SIGTERM (state = SIGTERMed) and is waiting for it to exit${lastExit}`, `Wait a few seconds and run esdctl doctor ${layout.name} again; if it stays, the daemon does not exit on SIGTERM`))
      break
    case 'starting':
      checks.push(passed('launchd.starting', target, `launchd is starting it (state = ${info?.stateText})`))
      break
    case 'not loaded':
    case 'disabled':
      checks.push(failed('launchd.not-loaded', 'error', target, `${target} is not loaded in launchd`, `sudo esdctl start ${layout.name}`))
      break
    default:
      checks.push(failed('launchd.state-unknown', 'warning', target, `launchd reports state = ${state}, a state esdctl does not know${lastExit}`, `Read the full answer: sudo launchctl print ${target}`))
  }
  return checks
}
