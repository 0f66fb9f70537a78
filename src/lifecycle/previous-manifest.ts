import {isDict, parsePropertyListDict} from '../formats/property-list.js'
import type {RootFs} from '../adapters/root-fs.js'
import type {Manifest} from '../manifest/manifest.js'
import type {InstallRecord} from '../records/install-record.js'

const MAX_PLIST_BYTES = 1024 * 1024

/**
 * The few manifest facts the health check and the stop wait need, for a version that is already
 * installed: its record gives the health check, its launchd plist how it starts and stops.
 */
export async function manifestOfInstalled(fs: RootFs, record: InstallRecord, plistPath: string): Promise<Manifest> {
  const manifest: Manifest = {name: record.name, label: record.label, bundleId: record.bundleId, teamId: record.teamId}
  if (record.healthCheck) manifest.healthCheck = {...record.healthCheck}
  try {
    const dict = parsePropertyListDict(await fs.readFile(plistPath, MAX_PLIST_BYTES), plistPath)
    if (typeof dict['RunAtLoad'] === 'boolean') manifest.RunAtLoad = dict['RunAtLoad']
    if (typeof dict['KeepAlive'] === 'boolean') manifest.KeepAlive = dict['KeepAlive']
    else if (isDict(dict['KeepAlive'])) manifest.KeepAlive = {}
    if (typeof dict['ExitTimeOut'] === 'number') manifest.ExitTimeOut = dict['ExitTimeOut']
  } catch {
    // An unreadable plist leaves the defaults: launchd itself will refuse it at bootstrap.
  }
  return manifest
}
