import {lstat} from 'node:fs/promises'
import type {LaunchctlAdapter, ServiceInfo} from '../adapters/launchctl.js'
import {daemonState, lastExitOf, type DaemonState, type LastExit} from './daemon-state.js'
import {installedDaemons, type InstalledDaemon} from './installed-daemons.js'
import {processStartTime} from './process-start.js'
import {esdctlCommand} from '../render/esdctl-command.js'

const DAY_MS = 86_400_000
/** A profile that expires this soon needs renewing before the next upgrade ships. */
export const PROFILE_WARNING_DAYS = 30

export interface ProfileExpiry {
  name: string
  uuid: string
  expires: string
  /** Whole days left (negative once expired). */
  daysLeft: number
  status: 'ok' | 'expiring' | 'expired'
}

/** One row of `esdctl status`; also the `--json` shape of each daemon (keep it stable). */
export interface DaemonStatus {
  name: string
  label?: string
  state: DaemonState
  version?: string
  build?: string
  /** The bundle as the booted Mac sees it. */
  bundlePath?: string
  bundleId?: string
  teamId?: string
  pid?: number
  /** How many times launchd started it since it was loaded. */
  runs?: number
  lastExit?: LastExit
  /** When this version was installed (the install record). */
  installedAt?: string
  installedBy?: string
  /** When the running process started, where that is cheap to learn (not on macOS). */
  processStartedAt?: string
  disabled?: boolean
  profile?: ProfileExpiry
  /** An interrupted install, upgrade, rollback or uninstall left its journal: the daemon may be half-changed. */
  transactionPending?: boolean
  /** Things an admin should act on, in words. */
  warnings: string[]
  /** Why the row is incomplete: unreadable record, launchctl not runnable. */
  error?: string
  /**
   * esdctl's install record is missing or damaged (installed-daemons.ts decides which), whatever
   * launchd says: `esdctl install PAYLOAD` repairs it. Jamf reads `damaged`, Munki "install needed".
   */
  damaged?: true
}

export interface StatusReport {
  daemons: DaemonStatus[]
  /** True when a record or launchd could not be read for some daemon. */
  incomplete: boolean
}

export interface StatusContext {
  /** The launchd to ask; undefined for an image under --root, whose daemons are reported `staged` (hostLaunchctlFor). */
  launchctl: LaunchctlAdapter | undefined
  /** `--root`; default `/`. */
  root?: string
  /** One daemon; default every daemon in the registry. */
  name?: string
  now?: Date
}

/**
 * `esdctl status` without the rendering: records from esdctl's registry, then one `launchctl
 * print` per daemon plus one `print-disabled`, all at once. It never hashes or verifies anything,
 * so it stays fast on a fleet tool's schedule.
 */
export async function statusReport(ctx: StatusContext): Promise<StatusReport> {
  const now = ctx.now ?? new Date()
  const {daemons, notInstalled} = await installedDaemons(ctx.root ?? '/', ctx.name)
  const {launchctl} = ctx
  // One print-disabled for everyone, asked alongside the per-daemon prints.
  const disabled = daemons.length > 0 && launchctl ? launchctl.disabledServices() : Promise.resolve(new Map<string, boolean>())
  disabled.catch(() => undefined)
  const rows = await Promise.all(daemons.map((d) => daemonStatus(d, launchctl, disabled, now)))
  for (const name of notInstalled) rows.push({name, state: 'not installed', warnings: []})
  return {daemons: rows, incomplete: rows.some((r) => r.error !== undefined)}
}

/** One row; `launchctl` undefined for an image under --root, whose daemons are `staged`. */
async function daemonStatus(daemon: InstalledDaemon, launchctl: LaunchctlAdapter | undefined, disabledTable: Promise<Map<string, boolean>>, now: Date): Promise<DaemonStatus> {
  const {entry, layout, record} = daemon
  const row: DaemonStatus = {name: entry.name, label: entry.label, state: 'unknown', bundlePath: layout.system.app, warnings: []}
  if (record) {
    Object.assign(row, {version: record.version, bundleId: record.bundleId, teamId: record.teamId, installedAt: record.installedAt})
    if (record.build !== undefined) row.build = record.build
    if (record.installedBy !== undefined) row.installedBy = record.installedBy
    if (record.profile) row.profile = profileExpiry(record.profile, now)
  } else {
    row.error = daemon.recordNeedsRoot ? `install record: ${daemon.recordProblem}` : `install record unreadable: ${daemon.recordProblem}`
    if (daemon.recordDamaged) row.damaged = true
  }
  if (daemon.layoutGuess !== undefined) row.warnings.push(daemon.layoutGuess)
  // Only whether the journal exists: reading it is doctor's job, and status must stay cheap.
  if (await exists(layout.journal)) row.transactionPending = true
  if (launchctl === undefined) {
    row.state = 'staged'
    return withWarnings(row, layout.root)
  }
  let info: ServiceInfo | undefined
  try {
    let table: Map<string, boolean>
    ;[info, table] = await Promise.all([launchctl.print(entry.label), disabledTable])
    row.disabled = table.get(entry.label) ?? false
  } catch (e) {
    row.error = [row.error, `launchd could not be asked: ${(e as Error).message}`].filter(Boolean).join('; ')
    return withWarnings(row, layout.root)
  }
  row.state = daemonState(info, row.disabled)
  if (info?.pid !== undefined) {
    row.pid = info.pid
    const started = await processStartTime(info.pid)
    if (started) row.processStartedAt = started.toISOString()
  }
  if (info?.runs !== undefined) row.runs = info.runs
  const lastExit = lastExitOf(info)
  if (lastExit) row.lastExit = lastExit
  return withWarnings(row, layout.root)
}

function profileExpiry(profile: {name: string; uuid: string; expires: string}, now: Date): ProfileExpiry {
  const daysLeft = Math.floor((Date.parse(profile.expires) - now.getTime()) / DAY_MS)
  const status = !(daysLeft >= 0) ? 'expired' : daysLeft < PROFILE_WARNING_DAYS ? 'expiring' : 'ok'
  return {name: profile.name, uuid: profile.uuid, expires: profile.expires, daysLeft: Number.isFinite(daysLeft) ? daysLeft : -1, status}
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  )
}

function withWarnings(row: DaemonStatus, root: string): DaemonStatus {
  const w = row.warnings
  // Status only sees that a journal exists; whether this esdctl can act on it is doctor's reading.
  const doctor = esdctlCommand('doctor', row.name, root).replace(/^sudo /, '')
  if (row.transactionPending) w.push(`an interrupted esdctl transaction is pending: the daemon may be half-changed; the next esdctl command that changes it first finishes or undoes it, or refuses if the journal is one this esdctl cannot act on; run \`${doctor}\` for which, and what to do`)
  if (row.profile?.status === 'expired') w.push(`provisioning profile "${row.profile.name}" expired on ${row.profile.expires}: macOS will refuse the daemon's restricted entitlements at its next launch; ship a build with a renewed profile`)
  else if (row.profile?.status === 'expiring') w.push(`provisioning profile "${row.profile.name}" expires in ${row.profile.daysLeft} days (${row.profile.expires}); ship a build with a renewed profile before then`)
  if (row.lastExit?.codeSigning) {
    const looping = row.state === 'crash-looping' || (row.runs ?? 0) > 1 ? ' (launchd keeps trying: it is crash-looping)' : ''
    w.push(`macOS killed it for its code signature (${row.lastExit.reason})${looping}: check the bundle with \`esdctl verify ${row.bundlePath ?? '<bundle>'}\` and run \`esdctl doctor ${row.name}\` for the cause`)
  } else if (row.state === 'crash-looping') w.push(`crash-looping: launchd keeps restarting it${row.lastExit ? `; last exit: ${row.lastExit.text}, ${row.lastExit.meaning}` : ''}`)
  else if ((row.state === 'stopped' || (row.state === 'running' && (row.runs ?? 0) > 1)) && row.lastExit && row.lastExit.code !== 0) {
    w.push(`last exit: ${row.lastExit.text}: ${row.lastExit.meaning}`)
  }
  if (row.state === 'running' && row.disabled) w.push('disabled: running now, but launchd will not load it at the next boot; run `esdctl start` to enable it')
  if (row.state === 'disabled') w.push('disabled in launchd: it will not start, even at boot; run `esdctl start` to enable and load it')
  if (row.state === 'stopping') w.push('stopping: launchd sent it SIGTERM (bootout) and is waiting for it to exit')
  if (row.state === 'not loaded') w.push('not loaded in launchd: run `esdctl start` (or `esdctl doctor` if that fails)')
  return row
}
