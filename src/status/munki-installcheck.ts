import {lstat} from 'node:fs/promises'
import {compareVersions} from '../lifecycle/version-order.js'
import {isRecordDamaged} from '../records/own-json.js'
import {installedDaemons} from './installed-daemons.js'

/** Munki runs `installcheck_script` and installs the item only when it exits 0. */
export const MUNKI_INSTALL_NEEDED = 0
export const MUNKI_INSTALLED = 1

export interface InstallCheck {
  exitCode: typeof MUNKI_INSTALL_NEEDED | typeof MUNKI_INSTALLED
  /** One line for Munki's log. */
  message: string
}

/**
 * Munki's installcheck contract: exit 0 only when an install is needed — the daemon is not in
 * esdctl's registry, its executable is gone, its version is older than `expectVersion`, or
 * esdctl's records of it are damaged (its install record missing, not JSON or short of a field, or
 * the registry damaged). `esdctl install PAYLOAD` repairs damaged records before anything else
 * (repair-records.ts), so the install Munki then runs fixes them and the next check reports
 * installed: no reinstall on every run. Every other outcome, including an error that says nothing
 * about damage (a record only root may read, an I/O error, a missing --root), reports "installed"
 * (exit 1), and so does an `expectVersion` that is not a version (isMunkiVersion). Versions are
 * ordered by compareVersions in version-order.ts, the one order install's downgrade rule uses too.
 */
export async function munkiInstallCheck(opts: {root?: string; name: string; expectVersion: string}): Promise<InstallCheck> {
  const {name, expectVersion} = opts
  // Any value compares as some order, so a typo in the pkginfo would otherwise ask for an install on every run, forever.
  if (!isMunkiVersion(expectVersion)) {
    return installed(`--expect-version ${JSON.stringify(expectVersion)} is not a version: give the version the Munki item installs (its CFBundleShortVersionString), numbers separated by dots such as 1.4.0 or 6.10.0; reporting installed`)
  }
  try {
    const {daemons} = await installedDaemons(opts.root ?? '/', name)
    const daemon = daemons[0]
    if (daemon === undefined) return needed(`${name} is not installed; install ${expectVersion}`)
    const record = daemon.record
    if (daemon.recordDamaged) return needed(`${name}: ${daemon.recordProblem}; install ${expectVersion} repairs it`)
    if (record === undefined) return installed(`${name}: ${daemon.recordProblem}; not asking for a reinstall`)
    if (!(await isFile(daemon.layout.executable))) return needed(`${name} ${record.version} is recorded but ${daemon.layout.system.executable} is missing; install ${expectVersion}`)
    const order = compareVersions(record.version, expectVersion)
    if (order < 0) return needed(`${name} ${record.version} is older than ${expectVersion}; install ${expectVersion}`)
    if (order > 0) return installed(`${name} ${record.version} is newer than ${expectVersion}; nothing to install`)
    return installed(`${name} ${record.version} is installed; nothing to install`)
  } catch (e) {
    if (isRecordDamaged(e)) return needed(`${name}: ${e.message}; install ${expectVersion} repairs it`)
    return installed(`${name}: could not check (${(e as Error).message}); reporting installed`)
  }
}

function needed(message: string): InstallCheck {
  return {exitCode: MUNKI_INSTALL_NEEDED, message}
}

function installed(message: string): InstallCheck {
  return {exitCode: MUNKI_INSTALLED, message}
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isFile()
  } catch {
    return false
  }
}

/**
 * Whether `value` reads as a version as Munki writes one in a pkginfo: a number first, then parts
 * of letters and digits separated by `.`, `-`, `+` or a space, the separators Munki splits at
 * (`1.4.0`, `1.2.3.0`, `6.10`, `2.0-beta1`). Looser than what install accepts (isBundleVersion),
 * since pkginfo versions often carry a fourth part; the order is the same one either way.
 */
export function isMunkiVersion(value: string): boolean {
  return /^\d+(?:[.\-+ ][0-9A-Za-z]+)*$/.test(value.trim())
}
