import {resolve} from 'node:path'
import {LaunchctlAdapter} from '../adapters/launchctl.js'

/**
 * Which launchd `esdctl status` asks about the daemons under `root`: the host's for `/`, none for a
 * system image staged under `--root` (its daemons are loaded by the image's own launchd at its
 * first boot, so the host's knows nothing of them; they are reported `staged`).
 */
export function hostLaunchctlFor(root: string): LaunchctlAdapter | undefined {
  return resolve(root) === '/' ? new LaunchctlAdapter() : undefined
}
