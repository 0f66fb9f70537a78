import {lstat, readFile} from 'node:fs/promises'
import {basename, join} from 'node:path'
import {isFormatError} from '../formats/format-error.js'
import {parsePropertyListDict} from '../formats/property-list.js'
import {readProvisioningProfile} from '../trust/provisioning-profile.js'
import {BuildRefusal} from '../bundle/bundle-error.js'
import type {Manifest} from '../manifest/manifest.js'
import type {TrustStore} from '../trust/trust-store.js'

const MAX_INFO_PLIST_BYTES = 1024 * 1024
const MAX_PROFILE_BYTES = 1024 * 1024
const VERSION = /^(0|[1-9][0-9]{0,8})(\.(0|[1-9][0-9]{0,8})){0,2}$/

/**
 * The manifest and the bundle must describe the same daemon: install checks the signature against
 * the manifest's bundle id and team, so a payload where they disagree could never install. Returns
 * the version (CFBundleShortVersionString), which names the payload's place in the pkg.
 */
export async function checkAppAgreesWithManifest(app: string, manifestPath: string, manifest: Manifest, opts: {trust: TrustStore; now: Date}): Promise<{version: string}> {
  const appInfo = await lstat(app).catch(() => undefined)
  if (!appInfo?.isDirectory()) throw new BuildRefusal('payload.app-missing', app, '--app', 'is not a bundle directory', 'Pass the .app that esdctl bundle produced.')
  if (basename(app) !== `${manifest.name}.app`) {
    throw new BuildRefusal('payload.app-name', manifestPath, '/name', `is ${manifest.name}, so the bundle must be ${manifest.name}.app, not ${basename(app)}`, 'Make the manifest name and the bundle name agree.')
  }
  const infoPath = join(app, 'Contents', 'Info.plist')
  const info = await readBounded(infoPath, MAX_INFO_PLIST_BYTES, 'Info.plist')
  let plist
  try {
    plist = parsePropertyListDict(info, infoPath)
  } catch (e) {
    if (!isFormatError(e)) throw e
    throw new BuildRefusal('payload.info-plist', infoPath, '(file)', `is not a property list (${e.message})`, 'Rebuild the bundle with esdctl bundle.')
  }
  const expect = (key: string, want: string, field: string): void => {
    if (plist[key] !== want) {
      throw new BuildRefusal('payload.manifest-disagrees', manifestPath, field, `is ${want} but ${infoPath} has ${key} = ${JSON.stringify(plist[key] ?? null)}`, `Make ${field.slice(1)} in the manifest and ${key} in the bundle the same.`)
    }
  }
  expect('CFBundleIdentifier', manifest.bundleId, '/bundleId')
  expect('CFBundleExecutable', manifest.name, '/name')
  const version = plist.CFBundleShortVersionString
  if (typeof version !== 'string' || !VERSION.test(version)) {
    throw new BuildRefusal('payload.version', infoPath, 'CFBundleShortVersionString', `${JSON.stringify(version ?? null)} is not one to three period-separated integers`, 'Rebuild the bundle with esdctl bundle --version.')
  }
  const executable = join(app, 'Contents', 'MacOS', manifest.name)
  if (!(await lstat(executable).catch(() => undefined))?.isFile()) {
    throw new BuildRefusal('payload.executable-missing', executable, '--app', 'is missing: the bundle has no main executable', 'Rebuild the bundle with esdctl bundle.')
  }
  const profilePath = join(app, 'Contents', 'embedded.provisionprofile')
  const profileBytes = await readBounded(profilePath, MAX_PROFILE_BYTES, 'provisioning profile')
  let teamId
  try {
    teamId = (await readProvisioningProfile(profileBytes, opts)).profile.teamIds[0]
  } catch (e) {
    if (!isFormatError(e)) throw e
    throw new BuildRefusal('payload.profile', profilePath, '(file)', `is not a provisioning profile (${e.message})`, 'Rebuild the bundle with esdctl bundle --profile.')
  }
  if (teamId !== manifest.teamId) {
    throw new BuildRefusal('payload.manifest-disagrees', manifestPath, '/teamId', `is ${manifest.teamId} but the bundle's profile ${profilePath} is for team ${teamId ?? '(none)'}`, 'Use the team id of the profile the bundle embeds.')
  }
  return {version}
}

async function readBounded(path: string, max: number, what: string): Promise<Buffer> {
  const info = await lstat(path).catch(() => undefined)
  if (!info?.isFile()) throw new BuildRefusal('payload.app-incomplete', path, '--app', `is missing: the bundle has no ${what}`, 'Rebuild the bundle with esdctl bundle.')
  if (info.size > max) throw new BuildRefusal('payload.app-incomplete', path, '--app', `is ${info.size} bytes, more than a ${what} can be`, 'Rebuild the bundle with esdctl bundle.')
  return readFile(path)
}
