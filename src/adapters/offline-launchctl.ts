import {LaunchctlAdapter, type ServiceInfo} from './launchctl.js'

/**
 * launchd as seen from a system image staged under `--root`: nothing is loaded and nothing can be
 * started, because the launchd that will read the plist is the image's own, at its first boot.
 * Lifecycle code keeps its single code path; the context marks itself offline so the health check
 * and the service verbs know not to expect a running job.
 */
export class OfflineLaunchctl extends LaunchctlAdapter {
  override async enable(): Promise<void> {}
  override async disable(): Promise<void> {}
  override async bootstrap(): Promise<void> {}
  override async bootout(): Promise<void> {}
  override async waitUntilGone(): Promise<void> {}
  override async kickstart(): Promise<void> {}
  override async print(): Promise<ServiceInfo | undefined> {
    return undefined
  }

  override async isDisabled(): Promise<boolean> {
    return false
  }
}
