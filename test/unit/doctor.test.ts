import {strict as assert} from 'node:assert'
import {appendFile, chmod, mkdir, mkdtemp, rm, symlink, unlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import * as plist from 'plist'
import {LaunchctlAdapter} from '../../src/adapters/launchctl.js'
import {UnifiedLogAdapter} from '../../src/adapters/unified-log.js'
import {doctorReport, type DoctorContext} from '../../src/doctor/doctor-report.js'
import type {DoctorCheck} from '../../src/doctor/doctor-check.js'
import {renderDoctorText} from '../../src/doctor/render-doctor.js'
import type {PrefixLayout} from '../../src/layout/prefix-layout.js'
import {verifyPath} from '../../src/verify/verify-path.js'
import {writeInstalledFixture} from '../support/installed-fixture.js'
import {startFakeLaunchd, type FakeLaunchd} from '../doubles/fake-launchd/fake-launchd.js'
import {writeSampleDaemonPlist} from '../doubles/fake-launchd/daemon-plist.js'
import {amfiEntry, createFakeLog, type FakeLog, type FakeLogEntry} from '../doubles/log/fake-log.js'
import {buildBundle} from '../support/bundle-builder.js'
import {createTestPki, type TestPki} from '../support/test-pki.js'

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
    }})
    await mkdir(layout.bin, {recursive: true})
    await symlink(layout.binLinkTarget, layout.binLink)
    await writePlist({})
    await mkdir(join(root, 'var/log'), {recursive: true})
  })
  afterEach(async () => {
    fakeLog?.remove()
    fakeLog = undefined
    await launchd.stop()
    await rm(root, {recursive: true, force: true})
  })

  async function writePlist(extra: Record<string, plist.PlistValue>, mode = 0o644): Promise<void> {
    await mkdir(layout.launchDaemonsDir, {recursive: true})
    const dict = {Label: LABEL, Program: `/opt/${NAME}/${NAME}.app/Contents/MacOS/${NAME}`, ProgramArguments: [NAME], StandardErrorPath: '/var/log/thed.err', ...extra}
    await writeFile(layout.launchdPlist, plist.build(dict))
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
    assert.equal(fakeLog!.calls().length, 0, 'no unified log off macOS')
  })

  it('translates each known AMFI message about this daemon into its cause, ignoring other processes', async () => {
    await runningUnderLaunchd()
    const exe = `/opt/${NAME}/${NAME}.app/Contents/MacOS/${NAME}`
    const checks = await doctor({platform: 'darwin', logEntries: [
      amfiEntry('amfid', `${exe}: Restricted entitlements not validated, bailing out. Error: Error Domain=AppleMobileFileIntegrityError Code=-413 "No matching profile found" UserInfo={NSURL=file://${exe}, unsigned int=0}`),
      amfiEntry('taskgated-helper', `${BUNDLE_ID}: Unsatisfied entitlements: com.apple.developer.endpoint-security.client`),
      amfiEntry('kernel', `AMFI: When validating ${exe}:\n  Code has restricted entitlements, but the validation of its code signature failed.\nUnsatisfied Entitlements: com.apple.developer.endpoint-security.client`),
      amfiEntry('taskgated-helper', `${BUNDLE_ID}: no eligible provisioning profiles found`),
      amfiEntry('amfid', '/Applications/Other.app/Contents/MacOS/Other: Restricted entitlements not validated, bailing out. Error: Code=-413 "No matching profile found"'),
    ]})
    assert.deepEqual(failedIds(checks).sort(), ['amfi.no-matching-profile', 'amfi.no-eligible-profile', 'amfi.signature-invalid', 'amfi.unsatisfied-entitlements'].sort())
    assert.match(byId(checks, 'amfi.no-matching-profile')!.message, /-413/)
    assert.match(byId(checks, 'amfi.signature-invalid')!.message, /did not validate/)
    const [show] = fakeLog!.calls()
    assert.deepEqual(show!.slice(0, 5), ['show', '--style', 'ndjson', '--last', '45m'])
    assert.match(show![6]!, /process == "amfid" OR process == "taskgated-helper" OR \(process == "kernel"/)
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
    await appendFile(join(root, 'var/log/thed.err'), 'starting\nes_new_client failed: ES_NEW_CLIENT_RESULT_ERR_NOT_PERMITTED\n')
    let checks = await doctor()
    assert.deepEqual(failedIds(checks), ['es.not-permitted'])
    assert.match(byId(checks, 'es.not-permitted')!.fix!, /esdctl pppc/)
    await appendFile(join(root, 'var/log/thed.err'), 'es_new_client: ES_NEW_CLIENT_RESULT_ERR_NOT_PRIVILEGED\n')
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

  it('says not installed for an unknown name', async () => {
    fakeLog = createFakeLog([])
    const report = await doctorReport({launchctl: new LaunchctlAdapter({executable: launchd.launchctlPath}), log: new UnifiedLogAdapter({executable: fakeLog.logPath}), root, name: 'nosuch'})
    assert.deepEqual(report, {ok: false, daemons: [], notInstalled: ['nosuch']})
  })
})
