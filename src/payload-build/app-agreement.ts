import {lstat, readFile} from 'node:fs/promises'
import {basename, join} from 'node:path'
import {isFormatError} from '../formats/format-error.js'
import {parsePropertyListDict} from '../formats/property-list.js'
import {readProvisioningProfile} from '../trust/provisioning-profile.js'
import {BuildRefusal} from '../bundle/bundle-error.js'
import {isValidExecutableName} from '../layout/names.js'
import {isBundleVersion} from '../lifecycle/version-order.js'
import type {Manifest} from '../manifest/manifest.js'
import type {TrustStore} from '../trust/trust-store.js'

const MAX_INFO_PLIST_BYTES = 1024 * 1024
const MAX_PROFILE_BYTES = 1024 * 1024

/**
 * The manifest and the bundle must describe the same daemon: install checks the signature against
 * the manifest's bundle id and team, so a payload where they disagree could never install. Returns
 * the version (CFBundleShortVersionString), which names the payload's place in the pkg.
 */
export async function checkAppAgreesWithManifest(app: string, manifestPath: string, manifest: Manifest, opts: {trust: TrustStore; now: Date}): Promise<{version: string}> {
  const appInfo = await lstat(app).catch(() => undefined)
  if (!appInfo?.isDirectory()) throw new BuildRefusal('payload.app-missing', app, '--app', 'is not a bundle directory', 'Pass the .app that esdctl bundle produced.')
  const bundle = manifest.bundle ?? `${manifest.name}.app`
  const bundleName = bundle.split('/').at(-1)!
  if (basename(app) !== bundleName) {
    const field = manifest.bundle === undefined ? '/name' : '/bundle'
    const said = manifest.bundle === undefined ? `name is ${manifest.name}` : `bundle is ${manifest.bundle}`
    throw new BuildRefusal('payload.app-name', manifestPath, field, `${said}, so the bundle must be ${bundleName}, not ${basename(app)}`, 'Make the manifest (name, or bundle when the bundle sits elsewhere or is named otherwise) and the bundle\'s name agree.')
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
  const executableName = plist.CFBundleExecutable
  if (!isValidExecutableName(executableName)) {
    throw new BuildRefusal('payload.info-plist', infoPath, 'CFBundleExecutable', `${JSON.stringify(executableName ?? null)} is not a file name in Contents/MacOS`, 'Rebuild the bundle with esdctl bundle.')
  }
  const version = plist.CFBundleShortVersionString
  if (!isBundleVersion(version)) {
    throw new BuildRefusal('payload.version', infoPath, 'CFBundleShortVersionString', `${JSON.stringify(version ?? null)} is not one to three period-separated integers`, 'Rebuild the bundle with esdctl bundle --version.')
  }
  const executable = join(app, 'Contents', 'MacOS', executableName)
  if (!(await lstat(executable).catch(() => undefined))?.isFile()) {
    throw new BuildRefusal('payload.executable-missing', executable, '--app', 'is missing: the bundle has no main executable', 'Rebuild the bundle with esdctl bundle.')
  }
  for (const [i, link] of (manifest.links ?? []).entries()) {
    const target = link.target ?? `Contents/MacOS/${executableName}`
    if (!(await isPlainFileInside(app, target))) {
      throw new BuildRefusal('payload.link-target', manifestPath, `/links/${i}/target`, `is ${target}, which is not a regular file inside ${basename(app)}`, 'Point the link at a file the bundle ships, e.g. Contents/MacOS/<executable> or Contents/Resources/<tool>.')
    }
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

/** True when `rel` under `base` is a regular file reached without passing through a symbolic link. */
async function isPlainFileInside(base: string, rel: string): Promise<boolean> {
  const parts = rel.split('/')
  for (let i = 1; i <= parts.length; i++) {
    const st = await lstat(join(base, ...parts.slice(0, i))).catch(() => undefined)
    if (st === undefined || st.isSymbolicLink()) return false
    if (i === parts.length) return st.isFile()
  }
  return false
}

async function readBounded(path: string, max: number, what: string): Promise<Buffer> {
  const info = await lstat(path).catch(() => undefined)
  if (!info?.isFile()) throw new BuildRefusal('payload.app-incomplete', path, '--app', `is missing: the bundle has no ${what}`, 'Rebuild the bundle with esdctl bundle.')
  if (info.size > max) throw new BuildRefusal('payload.app-incomplete', path, '--app', `is ${info.size} bytes, more than a ${what} can be`, 'Rebuild the bundle with esdctl bundle.')
  return readFile(path)
}
