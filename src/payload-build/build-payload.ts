import {chmod, copyFile, lstat, mkdir, readdir, rename, rm, stat, writeFile} from 'node:fs/promises'
import {basename, dirname, join, resolve} from 'node:path'
import {CodesignAdapter} from '../adapters/codesign.js'
import {PkgbuildAdapter, PkgbuildError} from '../adapters/pkgbuild.js'
import {BuildRefusal} from '../bundle/bundle-error.js'
import {makeStagingDir, outRefusal} from '../bundle/staging-dir.js'
import {ExitCode} from '../exit-codes.js'
import {PrefixLayout, ToolPaths} from '../layout/prefix-layout.js'
import {loadManifest} from '../manifest/load-manifest.js'
import {layoutOptionsOf, MANIFEST_FILE_NAME} from '../manifest/manifest.js'
import {TrustStore} from '../trust/trust-store.js'
import {checkAppAgreesWithManifest} from './app-agreement.js'
import {copyPayloadTree} from './copy-tree.js'
import {refuseWhatInstallRefuses} from './install-judgement.js'
import {commandLine, componentPackageName, OUT_NAMES, packagingCommands, renderComponentPlist, renderInstructions} from './pkg-commands.js'
import {PKG_SCRIPT_NAMES, renderPkgScript} from './pkg-scripts.js'
import {addBundledEsdctl, BUNDLED_ESDCTL_DIR, bundledEsdctlLauncher} from './with-esdctl.js'
import type {PayloadEnvironment, PayloadRequest, PayloadResult} from './payload-request.js'

export type {PayloadEnvironment, PayloadRequest, PayloadResult, PackagingCommands} from './payload-request.js'

export const DEFAULT_ESDCTL_PATH = '/usr/local/bin/esdctl'
const OPTIONAL_DIRS = ['etc', 'lib', 'modules', 'share'] as const

/**
 * Assembles the install payload (`<name>.app`, optional etc/ lib/ modules/ share/, esdctl.json)
 * inside a pkg root, with the pkg scripts, component plist and packaging command lines. Everything
 * is checked before anything is written, built in a staging directory beside `out` and renamed
 * into place, so `out` is either the complete result or untouched.
 */
export async function buildPayload(req: PayloadRequest, env: PayloadEnvironment = {}): Promise<PayloadResult> {
  const now = env.now ?? new Date()
  const trust = env.trust ?? TrustStore.apple()
  const out = resolve(req.out)
  const app = resolve(req.app)
  const esdctl = req.esdctl ?? DEFAULT_ESDCTL_PATH
  if (!esdctl.startsWith('/') || /[\0\n\r]/.test(esdctl)) {
    throw new BuildRefusal('payload.bad-esdctl', '--esdctl', 'esdctl', `${JSON.stringify(esdctl)} is not an absolute path`, 'Pass where esdctl is installed on the target Macs, e.g. /usr/local/bin/esdctl.')
  }
  if (req.withEsdctl !== undefined && req.esdctl !== undefined && req.esdctl !== DEFAULT_ESDCTL_PATH) {
    throw new BuildRefusal('payload.with-esdctl', '--with-esdctl', '--esdctl', `cannot be combined with --esdctl ${esdctl}: the pkg scripts run the esdctl inside the payload`, 'Pass one of --with-esdctl and --esdctl.')
  }
  const loaded = await loadManifest(req.manifest)
  if ('errors' in loaded) {
    const first = loaded.errors[0]!
    const more = loaded.errors.length > 1 ? ` (and ${loaded.errors.length - 1} more: ${loaded.errors.slice(1).map(e => e.message).join('; ')})` : ''
    const field = first.field || '(whole file)'
    const prefix = `${first.path}: ${field}: `
    const problem = first.message.startsWith(prefix) ? first.message.slice(prefix.length) : first.message
    throw new BuildRefusal('payload.manifest', first.path, field, problem + more, first.fix)
  }
  const manifest = loaded.manifest
  const {version} = await checkAppAgreesWithManifest(app, req.manifest, manifest, {trust, now})
  await checkOut(out, req.force === true)
  const extras = OPTIONAL_DIRS.filter(d => req[d] !== undefined).map(d => ({dir: d, from: resolve(req[d]!)}))
  for (const {dir, from} of extras) {
    if (!(await stat(from).catch(() => undefined))?.isDirectory()) throw new BuildRefusal('payload.not-a-directory', from, `--${dir}`, 'is not a directory', `Pass a directory with --${dir}.`)
  }

  const layout = new PrefixLayout(layoutOptionsOf(manifest))
  // Where the package drops it on the Mac: the place install and uninstall --purge know (ToolPaths).
  const installedPayload = `${new ToolPaths().payloads(manifest.name)}/${version}`
  const scriptEsdctl = req.withEsdctl === undefined ? esdctl : bundledEsdctlLauncher(installedPayload)
  const commands = packagingCommands({name: manifest.name, version, identifier: `${manifest.bundleId}.pkg`, installerIdentity: req.installerIdentity, notaryProfile: req.notaryProfile})
  const variables = [...(req.installerIdentity === undefined ? ['INSTALLER_IDENTITY (your "Developer ID Installer: …" certificate)'] : []), ...(req.notaryProfile === undefined ? ['NOTARY_PROFILE (a notarytool store-credentials profile)'] : [])]

  const codesign = env.codesign === undefined ? (CodesignAdapter.available() ? new CodesignAdapter() : undefined) : (env.codesign ?? undefined)
  const scratch = await makeStagingDir('payload', out)
  const staging = scratch.path
  try {
    const payload = join(staging, OUT_NAMES.root, ...installedPayload.split('/').filter(Boolean))
    await mkdir(payload, {recursive: true, mode: 0o755})
    // etc/ holds the admin-editable configuration, which install hashes file by file: no links.
    for (const {dir, from} of extras) await copyPayloadTree(from, join(payload, dir), {flag: `--${dir}`, allowLinks: dir !== 'etc'})
    // After the extras: a bundle may sit inside one of them, as osquery's lib/osquery.app does.
    await mkdir(dirname(join(payload, layout.bundle)), {recursive: true, mode: 0o755})
    await copyPayloadTree(app, join(payload, layout.bundle), {flag: '--app', allowLinks: true})
    await copyFile(req.manifest, join(payload, MANIFEST_FILE_NAME))
    await chmod(join(payload, MANIFEST_FILE_NAME), 0o644)
    await refuseWhatInstallRefuses({dir: payload, manifest, manifestPath: req.manifest, layout, app, ...(req.etc === undefined ? {} : {etc: resolve(req.etc)})}, {trust, now, ...(codesign ? {codesign} : {})})
    // Beside what install reads (it ignores other folders), so the pkg needs no esdctl on the Mac.
    const bundled = req.withEsdctl === undefined ? undefined : await addBundledEsdctl(resolve(req.withEsdctl), staging, join(payload, BUNDLED_ESDCTL_DIR))

    const scriptsDir = join(staging, OUT_NAMES.scripts)
    await mkdir(scriptsDir, {mode: 0o755})
    for (const script of PKG_SCRIPT_NAMES) {
      const text = renderPkgScript(script, {name: manifest.name, version, esdctl: scriptEsdctl, payload: installedPayload, receipt: layout.receipt, esdctlInPayload: bundled !== undefined})
      await writeFile(join(scriptsDir, script), text, {mode: 0o755})
      await chmod(join(scriptsDir, script), 0o755)
    }
    const appInRoot = `${installedPayload.slice(1)}/${layout.bundle}`
    await writeFile(join(staging, OUT_NAMES.componentPlist), renderComponentPlist(appInRoot), {mode: 0o644})
    const instructions = renderInstructions({name: manifest.name, version, installedPayload, esdctl: scriptEsdctl, commands, variables})
    await writeFile(join(staging, OUT_NAMES.instructions), instructions, {mode: 0o644})

    const pkg = await maybeBuildPkg(req, env, staging, out, {identifier: `${manifest.bundleId}.pkg`, version, name: manifest.name, installerIdentity: req.installerIdentity})
    await chmod(staging, 0o755)
    await replace(staging, out, req.force === true).catch((e: unknown) => {
      throw outRefusal('payload', out, e) ?? e
    })
    const root = join(out, OUT_NAMES.root)
    return {
      name: manifest.name,
      label: manifest.label,
      bundleId: manifest.bundleId,
      teamId: manifest.teamId,
      version,
      out,
      root,
      payload: join(root, ...installedPayload.split('/').filter(Boolean)),
      installedPayload,
      scripts: {preinstall: join(out, OUT_NAMES.scripts, 'preinstall'), postinstall: join(out, OUT_NAMES.scripts, 'postinstall')},
      componentPlist: join(out, OUT_NAMES.componentPlist),
      commands,
      commandLines: (['pkgbuild', 'productbuild', 'notarytool', 'stapler'] as const).map(k => commandLine(commands[k])),
      instructions: join(out, OUT_NAMES.instructions),
      pkg,
      ...(bundled === undefined ? {} : {bundledEsdctl: {launcher: scriptEsdctl, version: bundled.version, arch: bundled.arch, node: bundled.node}}),
    }
  } finally {
    await scratch.dispose()
  }
}

async function checkOut(out: string, force: boolean): Promise<void> {
  if (!(await stat(dirname(out)).catch(() => undefined))?.isDirectory()) {
    throw new BuildRefusal('payload.out-parent', out, '--out', `its parent ${dirname(out)} is not an existing directory`, 'Create the parent directory first.')
  }
  const existing = await lstat(out).catch(() => undefined)
  if (existing && !existing.isDirectory()) throw new BuildRefusal('payload.exists', out, '--out', 'exists and is not a directory', 'Choose another --out.')
  // An empty folder holds nothing to lose: it is filled as a new one would be, --force or not.
  if (existing && (await isEmptyDirectory(out))) return
  if (existing && !force) throw new BuildRefusal('payload.exists', out, '--out', 'already exists and is not empty; esdctl does not overwrite it', 'Pass --force to replace an earlier payload there, or choose a new or empty --out.')
  if (existing) await checkReplaceable(out)
}

async function isEmptyDirectory(path: string): Promise<boolean> {
  return (await readdir(path).catch(() => [undefined])).length === 0
}

/**
 * --force replaces only what esdctl payload itself wrote (root/, scripts/, component.plist,
 * PACKAGING.txt, the .pkg files) or an empty folder: never a folder holding anything else, which
 * `--out /tmp --force` or `--out ~ --force` would otherwise delete as a whole.
 */
async function checkReplaceable(out: string): Promise<void> {
  const ours = new Set<string>(Object.values(OUT_NAMES))
  const foreign = (await readdir(out)).filter(entry => !ours.has(entry) && !entry.endsWith('.pkg'))
  if (foreign.length > 0) {
    const shown = foreign.slice(0, 5).join(', ') + (foreign.length > 5 ? `, … (${foreign.length} in all)` : '')
    throw new BuildRefusal('payload.not-ours', out, '--out', `is not a folder esdctl payload wrote (it holds ${shown}); --force replaces only esdctl's own output, so nothing was changed`, 'Choose a new or empty --out folder, e.g. dist/payload.')
  }
}

async function maybeBuildPkg(req: PayloadRequest, env: PayloadEnvironment, staging: string, out: string, o: {identifier: string; version: string; name: string; installerIdentity?: string}): Promise<PayloadResult['pkg']> {
  if (!req.pkg) return {built: false, reason: 'not asked for (--pkg)'}
  const pkgbuild = env.pkgbuild === undefined ? (PkgbuildAdapter.available() ? new PkgbuildAdapter() : null) : env.pkgbuild
  if (!pkgbuild) return {built: false, reason: 'pkgbuild is not available on this machine (it exists only on macOS); run the command lines on a Mac'}
  const file = componentPackageName(o.name, o.version)
  try {
    await pkgbuild.build({
      root: join(staging, OUT_NAMES.root),
      scripts: join(staging, OUT_NAMES.scripts),
      componentPlist: join(staging, OUT_NAMES.componentPlist),
      identifier: o.identifier,
      version: o.version,
      installLocation: '/',
      ...(o.installerIdentity === undefined ? {} : {sign: o.installerIdentity}),
      output: join(staging, file),
    })
  } catch (e) {
    if (!(e instanceof PkgbuildError)) throw e
    throw new BuildRefusal('payload.pkgbuild-failed', out, '--pkg', `pkgbuild failed, so nothing was written: ${e.message}`, 'Fix what pkgbuild reports (often the --installer-identity) and run again.', ExitCode.badInput)
  }
  return {built: true, path: join(out, file)}
}

/** Renames the finished staging directory to `out`; a replaced `out` is removed only after the swap. */
async function replace(staging: string, out: string, force: boolean): Promise<void> {
  const existing = await lstat(out).catch(() => undefined)
  // rename(2) replaces an empty directory in one step, and fails (ENOTEMPTY) if something arrived meanwhile.
  if (!existing || (existing.isDirectory() && (await isEmptyDirectory(out)))) {
    await rename(staging, out)
    return
  }
  if (!force) throw new BuildRefusal('payload.exists', out, '--out', 'appeared while the payload was built; nothing was replaced', 'Pass --force to replace it, or choose a new or empty --out.')
  await checkReplaceable(out)
  const aside = `${staging}.replaced`
  await rename(out, aside)
  await rename(staging, out)
  await rm(aside, {recursive: true, force: true})
}
