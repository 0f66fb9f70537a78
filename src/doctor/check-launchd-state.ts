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
  switch (state) {
    case 'running':
      checks.push(passed('launchd.running', target, `running with pid ${info!.pid}${(info!.runs ?? 0) > 1 ? ` (started ${info!.runs} times${lastExit})` : ''}`))
      break
    case 'crash-looping':
      checks.push(failed('launchd.crash-looping', 'error', target, `launchd keeps restarting it${lastExit}`, exit?.signal === 'SIGKILL' ? 'See the code-signing checks above and the unified log below.' : `Read its output: esdctl logs ${layout.name}`))
      break
    case 'stopped':
      checks.push(exit && exit.code === 0
        ? failed('launchd.stopped', 'warning', target, `loaded but not running${lastExit}`, `sudo esdctl start ${layout.name}`)
        : failed('launchd.stopped', 'error', target, `loaded but not running${lastExit}`, exit?.signal === 'SIGKILL' ? 'See the code-signing checks and the unified log.' : `Read its output: esdctl logs ${layout.name}`))
      break
    default:
      checks.push(failed('launchd.not-loaded', 'error', target, `${target} is not loaded in launchd`, `sudo esdctl start ${layout.name}`))
  }
  return checks
}
