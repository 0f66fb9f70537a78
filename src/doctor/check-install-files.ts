import {esdctlCommand} from '../render/esdctl-command.js'
import {lstat, readlink} from 'node:fs/promises'
import {dirname} from 'node:path'
import type {PlacedLink} from '../layout/daemon-links.js'
import type {PrefixLayout} from '../layout/prefix-layout.js'
import type {InstallRecord} from '../records/install-record.js'
import {plistProblems} from '../launchd/plist-rules.js'
import {checkAncestors} from '../safety/check-ancestors.js'
import type {InstalledPlist} from '../status/daemon-output.js'
import {checkPlistAsRendered} from './check-plist-drift.js'
import {failed, passed, type DoctorCheck} from './doctor-check.js'

const ROOT_PLIST_MODE = 0o644

/** The launchd plist: readable, the right Label and Program, root:wheel 0644. */
export function checkLaunchdPlist(layout: PrefixLayout, plist: InstalledPlist, record: InstallRecord | undefined): DoctorCheck[] {
  const path = plist.path
  const reinstall = `Reinstall with \`${esdctlCommand('install', 'PAYLOAD', layout.root)}\` (it writes the plist from the manifest).`
  if (!plist.dict) return [failed('plist.unreadable', 'error', path, `launchd plist: ${plist.problem}`, reinstall)]
  const checks: DoctorCheck[] = []
  const system = layout.system
  const expected = record?.executable ?? system.executable
  // The same rules install, upgrade, plist and payload refuse a manifest by (launchd/plist-rules.ts).
  for (const p of plistProblems(plist.dict, {name: layout.name, label: layout.label, executable: expected, binLink: system.binLink})) {
    checks.push(failed(p.id, p.severity, path, p.problem, p.fix))
  }
  if (plist.uid !== 0 || plist.gid !== 0) {
    checks.push(failed('plist.owner', 'error', path, `owned by uid ${plist.uid}, gid ${plist.gid}; launchd refuses a system daemon plist not owned by root (bootstrap error 122 or 5)`, `sudo chown root:wheel ${system.launchdPlist}`))
  }
  if (plist.mode !== undefined && (plist.mode & 0o022) !== 0) {
    checks.push(failed('plist.mode', 'error', path, `mode ${octal(plist.mode)} is writable by group or others; launchd refuses it and anyone who can write it can run code as root`, `sudo chmod 644 ${system.launchdPlist}`))
  } else if (plist.mode !== undefined && plist.mode !== ROOT_PLIST_MODE) {
    checks.push(failed('plist.mode', 'warning', path, `mode ${octal(plist.mode)}; Apple's guidance for daemon plists is 0644`, `sudo chmod 644 ${system.launchdPlist}`))
  }
  checks.push(...checkPlistAsRendered(layout, plist, record, new Set(checks.map((c) => c.message))))
  if (checks.length === 0) checks.push(passed('plist.ok', path, `launchd plist: Label ${layout.label}, Program ${expected}, root:wheel ${octal(ROOT_PLIST_MODE)}`))
  return checks
}

/** Every directory from the executable up to `/`, and above the plist, may be changed only by root. */
export async function checkInstallAncestors(layout: PrefixLayout): Promise<DoctorCheck[]> {
  const offenders = [...(await checkAncestors(dirname(layout.executable))), ...(await checkAncestors(layout.launchDaemonsDir))]
  const unique = offenders.filter((o, i) => offenders.findIndex((p) => p.directory === o.directory) === i)
  if (unique.length === 0) return [passed('ancestors.ok', dirname(layout.executable), 'every directory above the executable and the plist is root-owned and writable only by root')]
  return unique.map((o) => failed('ancestors.unsafe', 'error', o.directory, o.message, o.fix ?? `sudo chown root:wheel ${o.directory} && sudo chmod go-w ${o.directory}`))
}

/**
 * Every link the installed version maintains (`bin/<name>` by default; the record's `links`, e.g.
 * osquery's `/usr/local/bin/osqueryi`) is a symlink holding what esdctl writes for it: relative
 * inside the prefix, absolute outside (daemon-links.ts). `guessedFix` replaces the `ln -sfn` repair
 * when the layout is only a guess (no readable install record): a link rewritten from a guess can
 * break a working install.
 */
export async function checkLinks(layout: PrefixLayout, guessedFix?: string): Promise<DoctorCheck[]> {
  return Promise.all(layout.links.map((link) => checkLink(link, guessedFix)))
}

async function checkLink(link: PlacedLink, guessedFix: string | undefined): Promise<DoctorCheck> {
  const {path, systemPath, text} = link
  const fix = guessedFix ?? `sudo ln -sfn ${text} ${systemPath} (or reinstall)`
  try {
    const st = await lstat(path)
    if (!st.isSymbolicLink()) return failed('bin-link.not-a-link', 'warning', path, `${systemPath} is not a symlink; a copy of the executable outside the bundle has no profile and is killed at launch`, fix)
    const target = await readlink(path)
    if (target !== text) return failed('bin-link.target', 'warning', path, `${systemPath} points to ${target}, expected ${text}`, fix)
    return passed('bin-link.ok', path, `${systemPath} → ${target}`)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    return failed('bin-link.missing', 'warning', path, `${systemPath} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`}`, fix)
  }
}

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0')
}
