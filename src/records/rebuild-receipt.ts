import {join} from 'node:path'
import type {RootFs} from '../adapters/root-fs.js'
import {isValidLabel} from '../layout/names.js'
import {PrefixLayout} from '../layout/prefix-layout.js'
import type {VerifyOptions} from '../verify/verify-options.js'
import {verifyPath} from '../verify/verify-path.js'
import type {InstallRecord} from './install-record.js'
import {layoutFromDisk, layoutOfProgram, plistAt} from './layout-from-disk.js'

/** LaunchDaemons holds a few dozen plists on a real Mac; this bounds a hostile directory. */
const MAX_PLISTS_SCANNED = 2000

/**
 * The label of daemon `name` as launchd knows it: the plist in /Library/LaunchDaemons (rebased on
 * `root`) whose Program is the main executable of a bundle inside `/opt/<name>` (layoutOfProgram:
 * wherever the manifest put the bundle, whatever its executable is called) and whose file name is
 * `<Label>.plist`. Used when both the registry and the receipt are damaged. Undefined when no
 * plist, or more than one, says so.
 */
export async function labelFromLaunchDaemons(fs: RootFs, root: string, name: string): Promise<string | undefined> {
  const probe = new PrefixLayout({name, label: 'esdctl.lookup', root})
  const found = new Set<string>()
  for (const file of (await fs.list(probe.launchDaemonsDir)).slice(0, MAX_PLISTS_SCANNED)) {
    if (!file.endsWith('.plist')) continue
    const dict = await plistAt(fs, join(probe.launchDaemonsDir, file))
    const label = dict?.['Label']
    if (isValidLabel(label) && `${label}.plist` === file && 'layout' in layoutOfProgram(name, label, root, dict?.['Program'])) found.add(label)
  }
  return found.size === 1 ? [...found][0] : undefined
}

export type Rebuilt = {record: InstallRecord} | {why: string}

/**
 * The config defaults a version shipped, as its receipt's configHashes records them (relative path
 * → SHA-256 hex), read back from the copy esdctl keeps with the version (`.esdctl/defaults`, or
 * `previous/defaults` for the slot): those are the payload's etc/ files byte for byte. Links and
 * other entries there are not esdctl's and are left out, never followed. Empty when nothing is kept.
 */
async function keptConfigHashes(fs: RootFs, defaultsDir: string): Promise<Record<string, string>> {
  const hashes: Record<string, string> = {}
  for (const file of (await fs.listFiles(defaultsDir)).files) hashes[file] = await fs.sha256(join(defaultsDir, file))
  return hashes
}

/**
 * An install record rebuilt from what is on disk, for the installed version (`current`: the
 * launchd plist, the bundle its Program runs, esdctl's links into it) or the rollback slot's
 * (`slot`: the slot's saved plist and the bundle at the same place inside the slot). `expected`
 * gives only the name, label and root: where the bundle is and what its executable is called come
 * from the plist (layoutFromDisk), so any layout a manifest can ask for is rebuilt. The signature facts come from esdctl's own verifier (findings do not stop the
 * rebuild: the record says what is there, not whether it is good; doctor judges). What the disk
 * cannot tell is left out or marked: no health check, `rebuiltAt` set. configHashes comes from the
 * shipped defaults esdctl keeps with the version (empty when none are kept, so upgrades keep every
 * etc/ file as the admin's): without them a rollback after a rebuild would take the newer
 * version's untouched config for the admin's and leave it in place. `{why}` when the pieces do not add up to an install.
 */
export async function rebuildInstallRecord(fs: RootFs, expected: PrefixLayout, where: 'current' | 'slot', nowMs: number, verifyOptions?: VerifyOptions): Promise<Rebuilt> {
  // The plist's Program says where the bundle is and what its executable is called; the default layout is only a name and a label here.
  const found = await layoutFromDisk(fs, expected.root, expected.name, expected.label, where === 'current' ? expected.launchdPlist : expected.slotPlist)
  if (!('layout' in found)) return found
  const layout = found.layout
  const app = where === 'current' ? layout.app : join(layout.rollbackSlot, ...layout.bundle.split('/'))
  if (!(await fs.lstat(app))?.isDirectory()) return {why: `${app} is not there`}
  const info = await plistAt(fs, join(app, 'Contents', 'Info.plist'))
  const bundleId = info?.['CFBundleIdentifier']
  const version = info?.['CFBundleShortVersionString']
  const build = info?.['CFBundleVersion']
  if (typeof bundleId !== 'string' || typeof version !== 'string') return {why: `${app}/Contents/Info.plist has no CFBundleIdentifier or CFBundleShortVersionString`}
  if (info?.['CFBundleExecutable'] !== layout.executableName) return {why: `${app}/Contents/Info.plist names CFBundleExecutable ${JSON.stringify(info?.['CFBundleExecutable'])}, but the launchd plist's Program runs ${layout.system.executable}`}
  const report = await verifyPath(app, verifyOptions)
  const first = report.slices[0]
  if (first === undefined || first.teamId === undefined) return {why: `${app} has no signed code with a team id to record`}
  const at = new Date(nowMs).toISOString()
  const record: InstallRecord = {
    schemaVersion: 1,
    name: layout.name,
    label: layout.label,
    bundleId,
    teamId: first.teamId,
    version,
    ...(typeof build === 'string' ? {build} : {}),
    installedAt: at,
    cdhashes: report.slices.filter((s) => s.cdhash !== undefined).map((s) => ({arch: s.arch, cdhash: s.cdhash!})),
    signer: {kind: first.signer, ...(first.signerName !== undefined ? {commonName: first.signerName} : {}), ...(first.signerSha256 !== undefined ? {leafSha256: first.signerSha256} : {})},
    ...(first.designatedRequirement !== undefined ? {designatedRequirement: first.designatedRequirement} : {}),
    ...(report.profile ? {profile: {uuid: report.profile.uuid, name: report.profile.name, expires: report.profile.expires ?? '', kind: report.profile.kind}} : {}),
    configHashes: await keptConfigHashes(fs, where === 'current' ? layout.shippedDefaults : layout.slotDefaults),
    plistPath: layout.system.launchdPlist,
    executable: layout.system.executable,
    bundle: layout.bundle,
    links: [...layout.linkSpecs],
    rebuiltAt: at,
  }
  return {record}
}
