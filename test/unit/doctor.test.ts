import {strict as assert} from 'node:assert'
import {appendFile, chmod, mkdir, mkdtemp, rm, symlink, unlink, utimes, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {execa} from 'execa'
import * as plist from 'plist'
import {LaunchctlAdapter} from '../../src/adapters/launchctl.js'
import {UnifiedLogAdapter} from '../../src/adapters/unified-log.js'
import {doctorReport, type DoctorContext} from '../../src/doctor/doctor-report.js'
import type {DoctorCheck} from '../../src/doctor/doctor-check.js'
import {renderDoctorText} from '../../src/doctor/render-doctor.js'
import {renderLaunchdPlist} from '../../src/launchd/render-plist.js'
import type {PrefixLayout} from '../../src/layout/prefix-layout.js'
import {verifyPath} from '../../src/verify/verify-path.js'
import {writeInstalledFixture} from '../support/installed-fixture.js'
import {startFakeLaunchd, type FakeLaunchd} from '../doubles/fake-launchd/fake-launchd.js'
import {writeSampleDaemonPlist} from '../doubles/fake-launchd/daemon-plist.js'
import {consoleCopyEntries, createFakeLog, type FakeLog, type FakeLogEntry} from '../doubles/log/fake-log.js'
import {transcriptText} from '../support/macos-transcripts.js'
import {REPO_ROOT} from '../support/real-artifacts.js'
import {crashTextReport, ipsReport} from '../support/crash-report-texts.js'
import {buildBundle} from '../support/bundle-builder.js'
import {createTestPki, type TestPki} from '../support/test-pki.js'
import {skipBecause} from '../support/skip.js'

const NAME = 'thed'
const LABEL = 'com.example.thed'
const BUNDLE_ID = 'com.example.thed'
const TEAM = 'ABCDE12345'

describe('esdctl doctor against the fake launchd and the fake log', function () {
  this.timeout(60_000)
  let pki: TestPki
  let launchd: FakeLaunchd
  let root: string
  let layout: PrefixLayout
  let fakeLog: FakeLog | undefined

  before(async () => {
    pki = await createTestPki()
  })
  beforeEach(async () => {
    launchd = await startFakeLaunchd()
    root = await mkdtemp(join(tmpdir(), 'esdctl-doctor-'))
    await chmod(root, 0o755)
    // What `esdctl install` leaves: the signed bundle, the bin link, the plist, the record.
    const system = {executable: `/opt/${NAME}/${NAME}.app/Contents/MacOS/${NAME}`}
    layout = await writeInstalledFixture({root, name: NAME, label: LABEL, record: {bundleId: BUNDLE_ID, teamId: TEAM}})
    await mkdir(layout.prefix, {recursive: true})
    await buildBundle({dir: layout.prefix, name: NAME, bundleId: BUNDLE_ID, teamId: TEAM, identity: await pki.developerId(TEAM)})
    const report = await verifyPath(layout.app, {trust: pki.trust})
    assert.equal(report.ok, true, JSON.stringify(report.findings))
    await writeInstalledFixture({root, name: NAME, label: LABEL, record: {
      bundleId: BUNDLE_ID, teamId: TEAM, designatedRequirement: report.slices[0]!.designatedRequirement,
      signer: {kind: report.slices[0]!.signer, commonName: report.slices[0]!.signerName},
      cdhashes: report.slices.map((sl) => ({arch: sl.arch, cdhash: sl.cdhash!})),
    }})
    await mkdir(layout.bin, {recursive: true})
    await symlink(layout.binLinkTarget, layout.binLink)
    await writePlist({})
    await mkdir(join(layout.var, 'log'), {recursive: true})
  })
  afterEach(async () => {
    fakeLog?.remove()
    fakeLog = undefined
    await launchd.stop()
    await rm(root, {recursive: true, force: true})
  })

  /** The plist esdctl renders for this daemon (as install writes it), with `extra` keys changed after install. */
  async function writePlist(extra: Record<string, plist.PlistValue>, mode = 0o644): Promise<void> {
    await mkdir(layout.launchDaemonsDir, {recursive: true})
    const rendered = renderLaunchdPlist({name: NAME, label: LABEL, bundleId: BUNDLE_ID, teamId: TEAM, StandardErrorPath: '{var}/log/thed.err'}, layout)
    const dict = {...(plist.parse(rendered) as Record<string, plist.PlistValue>), ...extra}
    await writeFile(layout.launchdPlist, Object.keys(extra).length === 0 ? rendered : plist.build(dict))
    await chmod(layout.launchdPlist, mode)
  }

  async function runningUnderLaunchd(): Promise<void> {
    await new LaunchctlAdapter({executable: launchd.launchctlPath}).bootstrap(writeSampleDaemonPlist(launchd.stateDir, {label: LABEL, keepAlive: true}))
  }

  async function doctor(opts: {platform?: NodeJS.Platform; logEntries?: FakeLogEntry[]; logExitCode?: number} = {}): Promise<DoctorCheck[]> {
    fakeLog = createFakeLog(opts.logEntries ?? [], {exitCode: opts.logExitCode})
    const ctx: DoctorContext = {
      launchctl: new LaunchctlAdapter({executable: launchd.launchctlPath}),
      log: new UnifiedLogAdapter({executable: fakeLog.logPath}),
      root, platform: opts.platform ?? 'linux', logMinutes: 45, verify: {trust: pki.trust},
    }
    const report = await doctorReport(ctx)
    assert.equal(report.daemons.length, 1)
    assert.equal(report.ok, report.daemons[0]!.ok)
    // Every check is a finding with an id, a severity, a message; failures carry a fix.
    for (const c of report.daemons[0]!.checks) {
      assert.ok(c.id && c.severity && c.message && c.outcome, JSON.stringify(c))
      if (c.outcome === 'failed') assert.ok(c.fix, `${c.id} has no fix`)
    }
    return report.daemons[0]!.checks
  }
  const byId = (checks: DoctorCheck[], id: string) => checks.find((c) => c.id === id)
  const failedIds = (checks: DoctorCheck[]) => checks.filter((c) => c.outcome === 'failed').map((c) => c.id)

  it('passes a correct install that runs, and says which checks it could not run off macOS', async () => {
    await runningUnderLaunchd()
    const checks = await doctor()
    assert.deepEqual(failedIds(checks), [])
    for (const id of ['record.ok', 'bundle.verified', 'identity.unchanged', 'plist.ok', 'ancestors.ok', 'bin-link.ok', 'launchd.enabled', 'launchd.running']) {
      assert.equal(byId(checks, id)?.outcome, 'passed', id)
    }
    assert.equal(byId(checks, 'log.amfi')?.outcome, 'skipped')
    assert.match(byId(checks, 'log.amfi')!.message, /^skipped: not macOS/)
    assert.equal(byId(checks, 'es.client')?.outcome, 'skipped')
    // The plist sets StandardErrorPath; the daemon has not written it yet: said so, not "no output path".
    assert.equal(byId(checks, 'es.client')!.message, `skipped: StandardErrorPath /opt/${NAME}/var/log/thed.err is set but not written yet (the daemon has printed nothing there since it was installed); and no unified log here, so es_new_client results are unknown`)
    assert.equal(fakeLog!.calls().length, 0, 'no unified log off macOS')
  })

  it('translates the real refusal lines (06 transcript) about this daemon into causes, tying path-less lines, ignoring another app', async function () {
    const recorded = transcriptText('06-log-amfi-restricted-entitlements.txt')
    if (recorded === undefined) skipBecause(this, 'fixtures-absent')
    await runningUnderLaunchd()
    const exe = `/opt/${NAME}/${NAME}.app/Contents/MacOS/${NAME}`
    // The poster's placeholders become this daemon; the same refusal a minute later is another app's.
    const ours = consoleCopyEntries(recorded!, [['/Applications/<app-bundle-id>/Contents/MacOS/<app-name>', exe], ['<app-bundle-id>', BUNDLE_ID]])
    const other = consoleCopyEntries(recorded!.replace(/14:36:03/g, '14:37:03'), [['<app-bundle-id>', 'com.example.other']])
    const checks = await doctor({platform: 'darwin', logEntries: [...ours, ...other]})
    assert.deepEqual(failedIds(checks).filter((id) => id.startsWith('amfi.')).sort(), [
      'amfi.no-matching-profile', 'amfi.requirement-failed', 'amfi.restricted-entitlements-refused', 'amfi.signature-invalid', 'amfi.unsatisfied-entitlements',
    ])
    assert.match(byId(checks, 'amfi.no-matching-profile')!.message, /-413/)
    assert.match(byId(checks, 'amfi.restricted-entitlements-refused')!.message, /tied to the daemon by time and process/)
    assert.match(byId(checks, 'amfi.signature-invalid')!.message, /mac_vnode_check_signature/)
    assert.equal(checks.filter((c) => c.message.includes('com.example.other')).length, 0)
    const [show] = fakeLog!.calls()
    assert.deepEqual(show!.slice(0, 5), ['show', '--style', 'ndjson', '--last', '45m'])
    assert.match(show![6]!, /process == "kernel" AND \(.*"mac_vnode_check_signature"/)
    assert.equal(byId(checks, 'es.client-ok'), undefined, 'killed at launch: the ES client is not called fine')
  })

  it('names a pending transaction journal (warning) and a damaged one (error), with the command that resolves each', async () => {
    await runningUnderLaunchd()
    await mkdir(join(layout.prefix, '.esdctl'), {recursive: true})
    // A journal as this esdctl writes it (format 2: the plan, each step with its state).
    await writeFile(layout.journal, JSON.stringify({schemaVersion: 2, esdctlVersion: '0.1.0', transaction: 'tx-1', action: 'upgrade', name: NAME, label: LABEL, phase: 'forward', steps: [{kind: 'enable', id: 'enable', title: 'Enable', label: LABEL, state: 'done'}], finish: [], abandon: [], afterAbandon: []}))
    let checks = await doctor()
    const pending = byId(checks, 'journal.pending')
    assert.equal(pending?.severity, 'warning', JSON.stringify(checks.map((c) => c.id)))
    assert.match(pending!.message, /interrupted upgrade \(transaction tx-1, phase forward\)/)
    assert.match(pending!.fix!, /undoes the transaction first/)
    const {renderDoctorText} = await import('../../src/doctor/render-doctor.js')
    const text = renderDoctorText({daemons: [{name: NAME, label: LABEL, ok: true, checks}], notInstalled: []} as unknown as Parameters<typeof renderDoctorText>[0])
    assert.match(text, /→ no error found; \d+ warnings? above \(warn\)/, 'a pending journal is not "no problem"')
    assert.doesNotMatch(text, /no problem found/)
    await writeFile(layout.journal, JSON.stringify({schemaVersion: 9, esdctlVersion: '9.0.0', transaction: 'tx-2', action: 'upgrade', name: NAME, label: LABEL, phase: 'forward', steps: []}))
    checks = await doctor()
    assert.equal(byId(checks, 'journal.foreign')?.severity, 'error', 'a journal this esdctl cannot act on blocks every mutating command')
    assert.ok(failedIds(checks).includes('journal.foreign'))
    await writeFile(layout.journal, JSON.stringify({schemaVersion: 9, transaction: 'tx-3', action: 'upgrade', name: NAME, label: LABEL, phase: 'forward', steps: []}))
    const unversioned = byId(await doctor(), 'journal.foreign')
    assert.match(unversioned!.message, /written by a newer esdctl, which this esdctl cannot finish or undo/)
    await writeFile(layout.journal, '{"schemaVersion": 1, "transac')
    checks = await doctor()
    assert.equal(byId(checks, 'journal.damaged')?.severity, 'error')
    assert.ok(failedIds(checks).includes('journal.damaged'))
  })

  it('reports a clean unified log as passed, and an unreadable one as a warning', async () => {
    await runningUnderLaunchd()
    assert.equal(byId(await doctor({platform: 'darwin'}), 'log.amfi')?.outcome, 'passed')
    fakeLog!.remove()
    const checks = await doctor({platform: 'darwin', logExitCode: 1})
    assert.equal(byId(checks, 'log.unreadable')?.severity, 'warning')
  })

  it('tells ERR_NOT_PERMITTED (Full Disk Access) from ERR_NOT_PRIVILEGED (not root) in the daemon output', async () => {
    await runningUnderLaunchd()
    await appendFile(join(layout.var, 'log/thed.err'), 'starting\nes_new_client failed: ES_NEW_CLIENT_RESULT_ERR_NOT_PERMITTED\n')
    let checks = await doctor()
    assert.deepEqual(failedIds(checks), ['es.not-permitted'])
    assert.match(byId(checks, 'es.not-permitted')!.fix!, /esdctl pppc/)
    await appendFile(join(layout.var, 'log/thed.err'), 'es_new_client: ES_NEW_CLIENT_RESULT_ERR_NOT_PRIVILEGED\n')
    await writePlist({UserName: 'nobody'})
    checks = await doctor()
    assert.deepEqual(failedIds(checks).sort(), ['es.not-permitted', 'es.not-privileged', 'plist.user'])
  })

  it('finds a plist pointing at the bin link, writable by group, not owned by root', async () => {
    await writePlist({Program: `/opt/${NAME}/bin/${NAME}`}, 0o664)
    await (await import('node:fs/promises')).chown(layout.launchdPlist, 501, 20)
    const checks = await doctor()
    assert.match(byId(checks, 'plist.program')!.message, /bin symlink/)
    assert.equal(byId(checks, 'plist.mode')?.severity, 'error')
    assert.match(byId(checks, 'plist.owner')!.message, /uid 501/)
  })

  it('finds a missing plist, a wrong bin link, a writable parent directory, a disabled service not loaded', async () => {
    await unlink(layout.launchdPlist)
    await unlink(layout.binLink)
    await symlink('/tmp/elsewhere', layout.binLink)
    await chmod(join(root, 'opt'), 0o777)
    await new LaunchctlAdapter({executable: launchd.launchctlPath}).disable(LABEL)
    const checks = await doctor()
    assert.deepEqual(failedIds(checks).sort(), ['ancestors.unsafe', 'bin-link.target', 'launchd.disabled', 'launchd.not-loaded', 'plist.unreadable'])
    assert.equal(byId(checks, 'ancestors.unsafe')!.path, join(root, 'opt'))
  })

  it('explains a job launchd could not start (exit 78)', async () => {
    // The installed plist's Program is the bundle executable, which this fake Mach-O cannot run.
    await writePlist({RunAtLoad: true})
    const adapter = new LaunchctlAdapter({executable: launchd.launchctlPath})
    await adapter.bootstrap(layout.launchdPlist)
    const {waitFor} = await import('../doubles/wait-for.js')
    await waitFor('the job to fail', async () => ((await adapter.print(LABEL))?.lastExitCode === 78 ? true : undefined))
    const c = byId(await doctor(), 'launchd.stopped')!
    assert.equal(c.severity, 'error')
    assert.match(c.message, /could not start the program/)
  })

  it('reports verifier findings on a bundle changed after install, and a changed signing identity', async () => {
    await runningUnderLaunchd()
    await writeFile(join(layout.contents, 'Info.plist'), (await import('node:fs')).readFileSync(join(layout.contents, 'Info.plist'), 'utf8').replace('1.0.0', '6.6.6'))
    await writeInstalledFixture({root, name: NAME, label: LABEL, record: {bundleId: BUNDLE_ID, teamId: TEAM, designatedRequirement: 'identifier "com.example.thed" and anchor apple', signer: {kind: 'developer-id', leafSha256: 'AB'.repeat(32)}}})
    const checks = await doctor()
    assert.equal(byId(checks, 'identity.certificate-changed')?.severity, 'warning')
    assert.equal(byId(checks, 'bundle.verify')?.severity, 'error')
    assert.equal(byId(checks, 'signature.info-plist-modified')?.severity, 'error', 'the verifier\'s own finding is listed')
    assert.match(byId(checks, 'identity.requirement-changed')!.message, /no longer match/)
    assert.match(renderDoctorText({ok: false, notInstalled: [], daemons: [{name: NAME, label: LABEL, ok: false, checks}]}), /\[FAIL\] identity\.requirement-changed: .*\n\s+fix: Regenerate the Full Disk Access profile/)
  })

  it('names a code-signing kill recorded by launchd and does not call the ES client fine', async () => {
    await launchd.stop()
    launchd = await startFakeLaunchd({codeSigningKills: [process.execPath]})
    await runningUnderLaunchd()
    const checks = await doctor()
    const killed = byId(checks, 'launchd.killed-code-signing')!
    assert.equal(killed.severity, 'error')
    assert.match(killed.message, /macOS killed it for its code signature: launchd recorded last exit reason = OS_REASON_CODESIGNING, job state = spawn failed/)
    assert.match(killed.fix!, /esdctl verify \/opt\/thed\/thed\.app/)
    assert.equal(byId(checks, 'es.client-ok'), undefined)
    assert.match(byId(checks, 'es.client')!.message, /killed the daemon at launch/)
  })

  it('explains the daemon\'s crash reports under --root: a code-signing kill with its indicator, another crash as a warning', async () => {
    await runningUnderLaunchd()
    const reports = join(root, 'Library/Logs/DiagnosticReports')
    await mkdir(reports, {recursive: true})
    const facts = {name: NAME, pid: 777, path: `/opt/${NAME}/${NAME}.app/Contents/MacOS/${NAME}`, time: '2026-03-01 10:00:05.1234 +0000'}
    await writeFile(join(reports, `${NAME}-2026-03-01-100005.ips`), ipsReport({...facts, code: 2, indicator: 'Invalid Page'}))
    await writeFile(join(reports, `${NAME}_2020-01-01-100005_mac.crash`), crashTextReport(facts))
    await utimes(join(reports, `${NAME}_2020-01-01-100005_mac.crash`), 1_600_000_000, 1_600_000_000)
    let checks = await doctor()
    const crash = byId(checks, 'crash.code-signing')!
    assert.equal(crash.severity, 'error')
    assert.equal(crash.path, `/Library/Logs/DiagnosticReports/${NAME}-2026-03-01-100005.ips`, 'named as the Mac names it, read under --root')
    assert.match(crash.message, /2 of its 2 newest crash reports.*EXC_CRASH \(SIGKILL \(Code Signature Invalid\)\), termination namespace CODESIGNING code 2 \(Invalid Page\) — a page of the executable no longer matched its signature/)
    assert.equal(byId(checks, 'es.client-ok'), undefined, 'killed at launch: no "ok" for the ES client')
    await rm(reports, {recursive: true})
    await mkdir(reports)
    await writeFile(join(reports, `${NAME}-2026-03-02-100005.ips`), ipsReport({...facts, exceptionType: 'EXC_BAD_ACCESS', signal: 'SIGSEGV', namespace: 'SIGNAL', code: 11, indicator: 'Segmentation fault: 11'}))
    checks = await doctor()
    assert.equal(byId(checks, 'crash.other')?.severity, 'warning')
    assert.equal(byId(checks, 'crash.code-signing'), undefined)
  })

  it('a code-signing kill dated before the receipt\'s installedAt (2026-01-02) is history: doctor passes and says why it was not held against this install', async () => {
    await runningUnderLaunchd()
    const reports = join(root, 'Library/Logs/DiagnosticReports')
    await mkdir(reports, {recursive: true})
    await writeFile(join(reports, `${NAME}-2025-06-01-100005.ips`), ipsReport({name: NAME, pid: 777, path: `/opt/${NAME}/${NAME}.app/Contents/MacOS/${NAME}`, time: '2025-06-01 10:00:05.1234 +0000'}))
    const checks = await doctor()
    assert.deepEqual(failedIds(checks), [])
    assert.match(byId(checks, 'crash.before-install')!.message, /^1 crash report of thed \(1 code-signing kill\) predate this install \(installed 2026-01-02T10:00:00\.000Z\)/)
  })

  it('with an image under --root, skips launchd and the host log: "skipped: image, launchd not asked"', async () => {
    fakeLog = createFakeLog([])
    const report = await doctorReport({launchctl: new LaunchctlAdapter({executable: '/nonexistent/launchctl'}), log: new UnifiedLogAdapter({executable: fakeLog.logPath}), root, offline: true, platform: 'darwin', verify: {trust: pki.trust}})
    const checks = report.daemons[0]!.checks
    assert.equal(byId(checks, 'launchd.unreachable'), undefined)
    assert.equal(byId(checks, 'launchd')?.outcome, 'skipped')
    assert.match(byId(checks, 'launchd')!.message, /^skipped: image, launchd not asked/)
    assert.equal(byId(checks, 'log.amfi')?.outcome, 'skipped')
    assert.equal(fakeLog.calls().length, 0, 'the host\'s unified log is not the image\'s')
    assert.equal(report.ok, true, JSON.stringify(checks.filter((c) => c.outcome === 'failed')))
  })

  it('finds es_new_client failures in any spelling, and an unnamed failure is never "ok"', async () => {
    await runningUnderLaunchd()
    const err = join(layout.var, 'log/thed.err')
    const cases: [string, string][] = [
      ['ESClient error: NotPermitted', 'es.not-permitted'],
      ['es_new_client failed: requires TCC approval', 'es.not-permitted'],
      ['failed to create client: EsClientCreateError::NotPermited', 'es.not-permitted'],
      ['es_new_client returned 5', 'es.not-privileged'],
      ['Endpoint Security client: ERR_TOO_MANY_CLIENTS', 'es.too-many-clients'],
      ['es_new_client failed: result 2 (internal)', 'es.client-failed'],
    ]
    for (const [line, id] of cases) {
      await writeFile(err, `starting\n${line}\n`)
      const checks = await doctor()
      assert.deepEqual(failedIds(checks).filter((c) => c.startsWith('es.')), [id], line)
      assert.equal(byId(checks, 'es.client-ok'), undefined, line)
    }
    await writeFile(err, 'open /var/db/x: Operation not permitted\nES client created\n')
    assert.equal(byId(await doctor(), 'es.client-ok')?.outcome, 'passed', 'an EPERM elsewhere is not an ES client failure')
  })

  it('esdctl doctor --root (the command) treats the root as an image: launchd is not asked', async () => {
    const run = await execa(process.execPath, [join(REPO_ROOT, 'bin', 'run.js'), 'doctor', NAME, '--root', root, '--json'], {env: {PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/'}, extendEnv: false, reject: false})
    const report = JSON.parse(run.stdout) as {daemons: {checks: DoctorCheck[]}[]}
    const checks = report.daemons[0]!.checks
    assert.equal(byId(checks, 'launchd.unreachable'), undefined, run.stdout)
    assert.match(byId(checks, 'launchd')!.message, /^skipped: image, launchd not asked/)
  })

  it('with a damaged registry, still checks the daemons its install records name, and --json prints a JSON document (exit 4)', async () => {
    const registry = join(root, 'Library', 'Application Support', 'esdctl', 'registry.json')
    await writeFile(registry, '')
    const cli = (...args: string[]) => execa(process.execPath, [join(REPO_ROOT, 'bin', 'run.js'), 'doctor', ...args, '--root', root, '--json'], {env: {PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/'}, extendEnv: false, reject: false})
    const run = await cli()
    assert.equal(run.exitCode, 4, run.stderr)
    const report = JSON.parse(run.stdout) as {ok: boolean; registry?: DoctorCheck; daemons: {name: string; checks: DoctorCheck[]}[]}
    assert.equal(report.ok, false)
    assert.equal(report.registry?.id, 'registry.damaged')
    assert.equal(report.registry?.path, registry)
    assert.match(report.registry!.message, /registry .+registry\.json is damaged \(.+\); the daemons below were found from their install records under .+\/opt/)
    assert.match(report.registry!.fix!, /rebuilds it from the install records/)
    assert.deepEqual(report.daemons.map((d) => d.name), [NAME])
    assert.equal(byId(report.daemons[0]!.checks, 'record.ok')?.outcome, 'passed', run.stdout)
    assert.ok(byId(report.daemons[0]!.checks, 'bin-link.ok'), run.stdout)
    const text = renderDoctorText(await doctorReport({launchctl: new LaunchctlAdapter({executable: launchd.launchctlPath}), log: new UnifiedLogAdapter(), root, offline: true}))
    assert.match(text, /^\[FAIL\] registry\.damaged: /)
    // Nothing to check at all: still one JSON document on stdout.
    const nowhere = await execa(process.execPath, [join(REPO_ROOT, 'bin', 'run.js'), 'doctor', '--root', join(root, 'nowhere'), '--json'], {reject: false})
    assert.equal(nowhere.exitCode, 4)
    const refused = JSON.parse(nowhere.stdout) as {ok: boolean; error: string; daemons: unknown[]}
    assert.equal(refused.ok, false)
    assert.match(refused.error, /nowhere: no such directory/)
    assert.deepEqual(refused.daemons, [])
  })

  it('says not installed for an unknown name', async () => {
    fakeLog = createFakeLog([])
    const report = await doctorReport({launchctl: new LaunchctlAdapter({executable: launchd.launchctlPath}), log: new UnifiedLogAdapter({executable: fakeLog.logPath}), root, name: 'nosuch'})
    assert.deepEqual(report, {ok: false, daemons: [], notInstalled: ['nosuch']})
  })
})
