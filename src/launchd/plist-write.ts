import type {PrefixLayout} from '../layout/prefix-layout.js'

/**
 * How the launchd plist must land on disk: launchd refuses a daemon plist that is not root-owned
 * or is writable by group or others (launchctl error 122, or the catch-all 5).
 */
export interface PlistWriteDescription {
  /** Where esdctl writes it (rebased onto `--root`). */
  path: string
  /** Where launchd finds it on the booted system. */
  systemPath: string
  owner: 'root'
  group: 'wheel'
  uid: 0
  gid: 0
  mode: 0o644
}

export function describePlistWrite(layout: PrefixLayout): PlistWriteDescription {
  return {path: layout.launchdPlist, systemPath: layout.system.launchdPlist, owner: 'root', group: 'wheel', uid: 0, gid: 0, mode: 0o644}
}
