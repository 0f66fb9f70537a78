import {esdctlCommand} from '../render/esdctl-command.js'
import {CrashReportAdapter} from '../adapters/crash-reports.js'
import type {LaunchctlAdapter} from '../adapters/launchctl.js'
import {formatLogEntry, type UnifiedLogAdapter} from '../adapters/unified-log.js'
import {outputFiles, readInstalledPlist, tailLines} from '../status/daemon-output.js'
import {join} from 'node:path'
import {RootFs} from '../adapters/root-fs.js'
import {isRecordDamaged} from '../records/own-json.js'
import {registryFromReceipts} from '../records/rebuild-registry.js'
import {registryRepairHint} from '../records/registry.js'
import {installedDaemons, installedDaemonsOf, type InstalledDaemon, type InstalledDaemons} from '../status/installed-daemons.js'
import {verifyPath} from '../verify/verify-path.js'
import type {VerifyOptions} from '../verify/verify-options.js'
import {checkCrashReports} from './check-crash-reports.js'
import {checkInstallAncestors, checkLaunchdPlist, checkLinks} from './check-install-files.js'
import {checkLaunchdState} from './check-launchd-state.js'
import {checkRecordedCode, checkSigningIdentity} from './check-signing-identity.js'
import {checkJournal} from './check-journal.js'
import {checkRollbackSlot} from './check-rollback-slot.js'
import {checkSlotRecord} from './check-slot-record.js'
import {recordRepairHint} from '../records/install-record.js'
import {checkAmfiLog, esClientChecks} from './check-unified-log.js'
import {esClientUnknown} from './es-client-unknown.js'
import {processPredicate} from '../status/daemon-logs.js'
import {failed, fromFinding, passed, skipped, type DoctorCheck} from './doctor-check.js'

export interface DoctorContext {
  launchctl: LaunchctlAdapter
  log: UnifiedLogAdapter
  root?: string
  /**
   * `--root` names a system image, not this Mac: its launchd and unified log are not this host's,
   * so those checks are skipped rather than asked of the host (the command sets it for any root but /).
   */
  offline?: boolean
  name?: string
  /** Which OS the checks run on; default this one. Tests set `darwin` to drive the log double. */
  platform?: NodeJS.Platform
  /** How far back the unified log is read. */
  logMinutes?: number
  /** Trust anchors and clock for the verifier; default Apple's roots and now. */
  verify?: VerifyOptions
}

export interface DaemonDiagnosis {
  name: string
  label: string
  checks: DoctorCheck[]
  /** No check failed with severity error. */
  ok: boolean
}

export interface DoctorReport {
  ok: boolean
  /**
   * esdctl's registry is damaged: this failed check says so and how to repair it, and `daemons`
   * are those whose install records were found under /opt instead (registryFromReceipts).
   */
  registry?: DoctorCheck
  daemons: DaemonDiagnosis[]
  /** Names asked for that esdctl has no record of. */
  notInstalled: string[]
}

export const DEFAULT_LOG_MINUTES = 30
/** Checks whose failure means the process never ran its own code. */
const KILLED_AT_LAUNCH = /^(amfi\.|crash\.code-signing$|launchd\.killed-code-signing$)/
/** Lines of the daemon's own output searched for es_new_client results. */
const OUTPUT_LINES = 2000

/** Everything that can keep a deployed Endpoint Security daemon from running, checked and explained. */
export async function doctorReport(ctx: DoctorContext): Promise<DoctorReport> {
  const root = ctx.root ?? '/'
  let found: InstalledDaemons
  let registry: DoctorCheck | undefined
  try {
    found = await installedDaemons(root, ctx.name)
  } catch (e) {
    if (!isRecordDamaged(e)) throw e
    // The receipts name every daemon esdctl installed, as the registry rebuild finds them: doctor still checks those.
    const {entries, skipped} = await registryFromReceipts(new RootFs(), root)
    found = await installedDaemonsOf(root, entries, ctx.name)
    const left = skipped.length === 0 ? '' : `; left out for a damaged install record: ${skipped.join(', ')}`
    registry = failed('registry.damaged', 'error', e.path, `esdctl's registry ${e.path} is damaged (${e.problem}); the daemons below were found from their install records under ${join(root === '/' ? '/' : root, 'opt')}${left}`, `${registryRepairHint(root)}.`)
  }
  const {daemons, notInstalled} = found
  const diagnoses: DaemonDiagnosis[] = []
  for (const daemon of daemons) diagnoses.push(await diagnose(daemon, ctx))
  return {ok: registry === undefined && notInstalled.length === 0 && diagnoses.every((d) => d.ok), ...(registry ? {registry} : {}), daemons: diagnoses, notInstalled}
}

/** The repair doctor offers for a link when the layout is a guess: never an `ln` from the guess, but what makes the record say. */
function guessedLinkFix(daemon: InstalledDaemon): string {
  const {layout} = daemon
  return daemon.recordNeedsRoot
    ? `Run \`${esdctlCommand('doctor', layout.name, layout.root)}\`: the install record, readable only by root, says where the links belong.`
    : `The install record is damaged: run \`${esdctlCommand('install', 'PAYLOAD', layout.root)}\` to repair it (it rebuilds the record and puts the links back).`
}

async function diagnose(daemon: InstalledDaemon, ctx: DoctorContext): Promise<DaemonDiagnosis> {
  const {layout, record} = daemon
  const platform = ctx.platform ?? process.platform
  const minutes = ctx.logMinutes ?? DEFAULT_LOG_MINUTES
  const checks: DoctorCheck[] = []
  const guessed = daemon.layoutGuess === undefined ? '' : `; ${daemon.layoutGuess}`
  checks.push(record && daemon.layoutGuess === undefined
    ? passed('record.ok', layout.receipt, `install record: ${record.name} ${record.version}, installed ${record.installedAt}`)
    : record
      ? failed('record.unreadable', 'error', layout.receipt, `install record: ${record.name} ${record.version}${guessed}`, `${recordRepairHint(layout.name, layout.root)}.`)
      : daemon.recordNeedsRoot
        ? failed('record.needs-root', 'warning', layout.receipt, `install record: ${daemon.recordProblem}; without it the bundle cannot be compared with what was installed${guessed}`, `Run \`${esdctlCommand('doctor', layout.name, layout.root)}\`.`)
        : failed('record.unreadable', 'error', layout.receipt, `install record: ${daemon.recordProblem}${guessed}`, `${recordRepairHint(layout.name, layout.root)}; until then esdctl cannot compare the bundle with what was installed.`))
  checks.push(...(await checkSlotRecord(layout)))
  checks.push(...(await checkRollbackSlot(layout, ctx.verify)))
  checks.push(...(await checkJournal(layout, record)))

  const report = await verifyPath(layout.app, ctx.verify)
  const problems = report.findings.filter((f) => f.severity !== 'info')
  checks.push(problems.length === 0
    ? passed('bundle.verified', layout.app, `the installed bundle passes every check AMFI makes at launch (${report.slices.map((s) => s.arch).join(', ') || 'no slices'})`)
    : failed('bundle.verify', problems.some((f) => f.severity === 'error') ? 'error' : 'warning', layout.app, `the verifier found ${problems.length} problem(s) with the installed bundle; macOS would refuse or kill it`, 'Fix the findings below and reinstall a correctly signed build.'))
  checks.push(...problems.map(fromFinding))
  if (record) checks.push(...checkSigningIdentity(record, report), ...checkRecordedCode(record, report, layout.root))

  const plist = await readInstalledPlist(layout)
  checks.push(...checkLaunchdPlist(layout, plist, record))
  checks.push(...(await checkInstallAncestors(layout)))
  checks.push(...(await checkLinks(layout, daemon.layoutGuess === undefined ? undefined : guessedLinkFix(daemon))))
  const image = 'image, launchd not asked'
  if (ctx.offline) {
    checks.push(skipped('launchd', `system/${layout.label}`, `${image} (the image under ${ctx.root} is not running; its launchd loads the plist at its first boot)`))
    checks.push(skipped('log.amfi', 'unified log', `${image}, and this host's unified log is not the image's`))
  } else {
    checks.push(...(await checkLaunchdState(layout, ctx.launchctl)))
    checks.push(...(await checkAmfiLog(layout, record?.bundleId, ctx.log, platform, minutes)))
  }
  checks.push(...(await checkCrashReports(layout, new CrashReportAdapter({directory: layout.diagnosticReportsDir, systemDirectory: layout.system.diagnosticReportsDir}), record && record.rebuiltAt === undefined ? record.installedAt : undefined)))

  // es_new_client results: in the daemon's own output files, and on macOS its unified-log lines.
  const lines: {text: string; where: string}[] = []
  const files = outputFiles(plist.dict, layout)
  for (const file of files) {
    for (const text of (await tailLines(file.path, OUTPUT_LINES)) ?? []) lines.push({text, where: file.systemPath})
  }
  if (platform === 'darwin' && !ctx.offline) {
    try {
      const entries = await ctx.log.show({predicate: processPredicate(layout), lastMinutes: minutes})
      for (const e of entries) lines.push({text: formatLogEntry(e), where: 'unified log'})
    } catch {
      // Reported by the AMFI log check already.
    }
  }
  const es = esClientChecks(lines)
  const killedAtLaunch = checks.some((c) => c.outcome === 'failed' && c.severity === 'error' && KILLED_AT_LAUNCH.test(c.id))
  if (es.length > 0) checks.push(...es)
  else if (killedAtLaunch) checks.push(skipped('es.client', layout.name, 'macOS killed the daemon at launch (see above), so it never got to call es_new_client; its result is unknown until it runs'))
  else if (lines.length > 0 || (platform === 'darwin' && !ctx.offline)) checks.push(passed('es.client-ok', layout.name, 'no es_new_client failure in its recent output; TCC itself cannot be read from here, so if the daemon reports ERR_NOT_PERMITTED later, deploy the profile from `esdctl pppc`'))
  else checks.push(await esClientUnknown(layout.name, files))

  return {name: layout.name, label: layout.label, checks, ok: !checks.some((c) => c.outcome === 'failed' && c.severity === 'error')}
}
