import assert from 'node:assert/strict'
import {cpSync, mkdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {createHash} from 'node:crypto'
import {join} from 'node:path'
import {execa} from 'execa'
import * as plist from 'plist'
import {OfflineLaunchctl} from '../../src/adapters/offline-launchctl.js'
import {UnifiedLogAdapter} from '../../src/adapters/unified-log.js'
import {doctorReport} from '../../src/doctor/doctor-report.js'
import type {DoctorCheck} from '../../src/doctor/doctor-check.js'
import {ExitCode} from '../../src/exit-codes.js'
import {PrefixLayout} from '../../src/layout/prefix-layout.js'
import type {LifecycleContext} from '../../src/lifecycle/context.js'
import * as lifecycle from '../../src/lifecycle/index.js'
import {buildPayload as assemblePayload} from '../../src/payload-build/build-payload.js'
import {daemonLogs} from '../../src/status/daemon-logs.js'
import {installedDaemons} from '../../src/status/installed-daemons.js'
import {munkiInstallCheck, MUNKI_INSTALLED} from '../../src/status/munki-installcheck.js'
import {statusReport} from '../../src/status/status-report.js'
import {TrustStore} from '../../src/trust/trust-store.js'
import {createFakeLog} from '../doubles/log/fake-log.js'
import {makeRoot, testContext} from '../support/lifecycle-fixture.js'
import {extractBundleFromPkg, KARABINER_DAEMON_IN_PAYLOAD, bothRealPackages} from '../support/lifecycle-pkg-payload.js'
import {REPO_ROOT} from '../support/real-artifacts.js'
import {ipsReport} from '../support/crash-report-texts.js'

/** The real daemon's CFBundleExecutable: the process name macOS logs it under. */
const EXECUTABLE = 'Karabiner-VirtualHIDDevice-Daemon'
const NAME = 'osq'
const LABEL = 'org.pqrs.karabiner.vhiddaemon'
const BUNDLE = 'lib/osq.app'
const SYSTEM_APP = `/opt/${NAME}/${BUNDLE}`
const SYSTEM_EXECUTABLE = `${SYSTEM_APP}/Contents/MacOS/${EXECUTABLE}`

const failures = (checks: readonly DoctorCheck[]): DoctorCheck[] => checks.filter((c) => c.outcome === 'failed')

/**
 * The real notarized Karabiner daemon, installed (6.0.0, then upgraded to 6.10.0) by the lifecycle
 * into an offline image from payloads `esdctl payload` made, under a name of its own (`osq`) and
 * at osquery's kind of location (`lib/osq.app`), so the daemon's name, its bundle's location and
 * its executable's name all differ (DESIGN.md §11). status, doctor, pppc and logs must look where
 * the receipt says the install is, not where the default layout would put it.
 */
describe('status, doctor and logs read an install where its receipt recorded it (real daemon at lib/osq.app)', function () {
  this.timeout(120_000)
  const paths: string[] = []
  let root = ''
  let ctx: LifecycleContext

  before(async function () {
    const packages = bothRealPackages(this)
    root = makeRoot()
    paths.push(root)
    ctx = {...testContext({root, launchctlPath: '/nonexistent/launchctl', trust: TrustStore.apple()}), launchctl: new OfflineLaunchctl(), offline: true}
    for (const [version, pkg] of packages) {
      const base = `${root}-${version}`
      paths.push(`${base}-app`, `${base}-out`)
      const app = join(`${base}-app`, `${NAME}.app`)
      await extractBundleFromPkg(pkg, KARABINER_DAEMON_IN_PAYLOAD, app)
      const manifest = `${base}-app/esdctl.json`
      writeFileSync(manifest, JSON.stringify({name: NAME, label: LABEL, bundleId: 'org.pqrs.Karabiner-VirtualHIDDevice-Daemon', teamId: 'G43BCU2T37', bundle: BUNDLE, RunAtLoad: true, KeepAlive: true}))
      const {payload} = await assemblePayload({app, manifest, out: `${base}-out`}, {trust: TrustStore.apple(), pkgbuild: null})
      const r = version === '6.0.0' ? await lifecycle.install(ctx, payload) : await lifecycle.upgrade(ctx, payload)
      assert.equal(r.exitCode, ExitCode.ok, `${r.message} ${JSON.stringify(r.findings ?? [])}`)
    }
  })
  after(() => {
    for (const p of paths) rmSync(p, {recursive: true, force: true})
  })

  it('installedDaemons lays the daemon out as its receipt recorded it: lib/osq.app, executable Karabiner-VirtualHIDDevice-Daemon', async () => {
    const {daemons} = await installedDaemons(root, NAME)
    const layout = daemons[0]!.layout
    assert.equal(daemons[0]!.layoutGuess, undefined)
    assert.equal(layout.system.app, SYSTEM_APP)
    assert.equal(layout.system.executable, SYSTEM_EXECUTABLE)
  })

  it('status: the bundle path the receipt recorded, and Munki is told 6.10.0 is installed (no reinstall loop)', async () => {
    const report = await statusReport({launchctl: undefined, root, name: NAME})
    assert.equal(report.daemons[0]!.bundlePath, SYSTEM_APP)
    assert.deepEqual(report.daemons[0]!.warnings, [])
    const check = await munkiInstallCheck({root, name: NAME, expectVersion: '6.10.0'})
    assert.equal(check.exitCode, MUNKI_INSTALLED, check.message)
    assert.match(check.message, /6\.10\.0 is installed/)
  })

  it('doctor: a healthy install has no failed check; the bin link is judged against the target install wrote', async () => {
    const report = await doctorReport({launchctl: ctx.launchctl, log: new UnifiedLogAdapter(), root, offline: true, name: NAME})
    const checks = report.daemons[0]!.checks
    assert.deepEqual(failures(checks), [])
    assert.equal(report.ok, true)
    assert.ok(checks.some((c) => c.id === 'bundle.verified' && c.path === join(root, SYSTEM_APP)), JSON.stringify(checks))
    const link = checks.find((c) => c.id === 'bin-link.ok')
    assert.equal(link?.message, `/opt/${NAME}/bin/${NAME} → ../${BUNDLE}/Contents/MacOS/${EXECUTABLE}`)
  })

  it('doctor: a bin link pointing elsewhere gets a fix that writes the target install writes', async () => {
    const binLink = join(root, 'opt', NAME, 'bin', NAME)
    const held = readlinkSync(binLink)
    rmSync(binLink)
    try {
      const report = await doctorReport({launchctl: ctx.launchctl, log: new UnifiedLogAdapter(), root, offline: true, name: NAME})
      const missing = failures(report.daemons[0]!.checks)
      assert.deepEqual(missing.map((c) => c.id), ['bin-link.missing'])
      assert.equal(missing[0]!.fix, `sudo ln -sfn ../${BUNDLE}/Contents/MacOS/${EXECUTABLE} /opt/${NAME}/bin/${NAME} (or reinstall)`)
    } finally {
      symlinkSync(held, binLink)
    }
  })

  it('logs (and doctor) ask the unified log for the process named after the executable, not the daemon', async () => {
    const {daemons} = await installedDaemons(root, NAME)
    const fake = createFakeLog([{timestamp: '2026-03-01 10:00:00.000000+0000', processImagePath: SYSTEM_EXECUTABLE, processID: 77, eventMessage: 'es client up'}])
    try {
      const sections = await daemonLogs({layout: daemons[0]!.layout, log: new UnifiedLogAdapter({executable: fake.logPath}), lines: 5, platform: 'darwin', minutes: 15})
      assert.deepEqual(sections.at(-1), {title: `unified log: process == "${EXECUTABLE}"`, lines: [`2026-03-01 10:00:00.000000+0000 ${EXECUTABLE}[77]: es client up`]})
    } finally {
      fake.remove()
    }
  })

  it('doctor finds the crash reports macOS names after the executable', async () => {
    const reports = join(root, 'Library', 'Logs', 'DiagnosticReports')
    mkdirSync(reports, {recursive: true})
    const file = join(reports, `${EXECUTABLE}-2026-03-01-100005.ips`)
    // Dated after the install this suite made (a report from before it is history: doctor-crash-window.test.ts).
    const time = `${new Date(Date.now() + 60_000).toISOString().replace('T', ' ').replace('Z', '')}4 +0000`
    writeFileSync(file, ipsReport({name: EXECUTABLE, pid: 777, path: SYSTEM_EXECUTABLE, time, code: 2, indicator: 'Invalid Page'}))
    try {
      const report = await doctorReport({launchctl: ctx.launchctl, log: new UnifiedLogAdapter(), root, offline: true, name: NAME})
      const crash = report.daemons[0]!.checks.find((c) => c.id === 'crash.code-signing')
      assert.equal(crash?.path, `/Library/Logs/DiagnosticReports/${EXECUTABLE}-2026-03-01-100005.ips`, JSON.stringify(report.daemons[0]!.checks.filter((c) => c.id.startsWith('crash'))))
    } finally {
      rmSync(file)
    }
  })

  it('doctor: the 6.0.0 bundle put where the receipt records 6.10.0 is an error, though it is validly signed', async () => {
    const prefix = join(root, 'opt', NAME)
    const healthy = await doctorReport({launchctl: ctx.launchctl, log: new UnifiedLogAdapter(), root, offline: true, name: NAME})
    assert.ok(healthy.daemons[0]!.checks.some((c) => c.id === 'bundle.recorded'))
    renameSync(join(prefix, 'lib'), join(prefix, 'lib.held'))
    try {
      // The rollback slot holds the 6.0.0 bundle exactly as install placed it.
      cpSync(join(prefix, '.esdctl', 'previous', 'lib'), join(prefix, 'lib'), {recursive: true, verbatimSymlinks: true})
      const report = await doctorReport({launchctl: ctx.launchctl, log: new UnifiedLogAdapter(), root, offline: true, name: NAME})
      const failed = failures(report.daemons[0]!.checks)
      assert.deepEqual(failed.map((c) => [c.id, c.severity]), [['bundle.not-recorded', 'error']])
      assert.match(failed[0]!.message, /not the code the receipt recorded for 6\.10\.0 \(cdhashes .+, recorded .+\)/)
      assert.equal(report.ok, false)
    } finally {
      rmSync(join(prefix, 'lib'), {recursive: true, force: true})
      renameSync(join(prefix, 'lib.held'), join(prefix, 'lib'))
    }
  })

  it('doctor judges the rollback slot as rollback does: a modified 6.0.0 there is a warning, and rollback refuses it', async () => {
    const healthy = await doctorReport({launchctl: ctx.launchctl, log: new UnifiedLogAdapter(), root, offline: true, name: NAME})
    assert.ok(healthy.daemons[0]!.checks.some((c) => c.id === 'rollback.slot-ok' && c.outcome === 'passed' && /holds 6\.0\.0/.test(c.message)), JSON.stringify(healthy.daemons[0]!.checks))
    const info = join(root, 'opt', NAME, '.esdctl', 'previous', ...BUNDLE.split('/'), 'Contents', 'Info.plist')
    const original = readFileSync(info)
    writeFileSync(info, Buffer.concat([original, Buffer.from('\n')]))
    try {
      const report = await doctorReport({launchctl: ctx.launchctl, log: new UnifiedLogAdapter(), root, offline: true, name: NAME})
      const failed = failures(report.daemons[0]!.checks)
      assert.ok(failed.length > 0 && failed.every((c) => c.id === 'rollback.slot-refused' && c.severity === 'warning'), JSON.stringify(failed))
      assert.match(failed[0]!.message, /the rollback slot's 6\.0\.0 would be refused by `esdctl rollback` \(exit 3\)/)
      assert.match(failed[0]!.fix ?? '', /esdctl install --root .+ --allow-downgrade PAYLOAD/)
      // The running daemon is fine: the report is not failed.
      assert.equal(report.ok, true)
      const rollback = await lifecycle.rollback(ctx, NAME)
      assert.equal(rollback.exitCode, ExitCode.verificationFailed, rollback.message)
    } finally {
      writeFileSync(info, original)
    }
  })

  describe('doctor judges the installed launchd plist against what esdctl renders for the receipt', () => {
    const plistPath = (): string => join(root, 'Library', 'LaunchDaemons', `${LABEL}.plist`)
    const receiptPath = (): string => new PrefixLayout({name: NAME, label: LABEL, root}).receipt
    let original: Buffer
    beforeEach(() => {
      original = readFileSync(plistPath())
    })
    afterEach(() => {
      writeFileSync(plistPath(), original)
    })
    async function plistFailures(): Promise<DoctorCheck[]> {
      const report = await doctorReport({launchctl: ctx.launchctl, log: new UnifiedLogAdapter(), root, offline: true, name: NAME})
      return failures(report.daemons[0]!.checks)
    }
    const edit = (change: (job: Record<string, plist.PlistValue>) => void): void => {
      const job = plist.parse(original.toString('utf8')) as Record<string, plist.PlistValue>
      change(job)
      writeFileSync(plistPath(), plist.build(job))
    }

    it('as installed: plist.ok', async () => {
      const report = await doctorReport({launchctl: ctx.launchctl, log: new UnifiedLogAdapter(), root, offline: true, name: NAME})
      assert.equal(report.daemons[0]!.checks.find((c) => c.id.startsWith('plist.'))?.id, 'plist.ok')
    })

    it('DYLD_INSERT_LIBRARIES inserted: an error, by the rule install refuses a manifest by', async () => {
      edit((job) => {
        job['EnvironmentVariables'] = {DYLD_INSERT_LIBRARIES: '/tmp/x.dylib'}
      })
      const failed = await plistFailures()
      assert.deepEqual(failed.map((c) => [c.id, c.severity]), [['plist.refused', 'error']])
      assert.match(failed[0]!.message, /launchd plist \/EnvironmentVariables\/DYLD_INSERT_LIBRARIES: DYLD_INSERT_LIBRARIES would make the dynamic loader change what code a root daemon loads/)
      assert.match(failed[0]!.fix ?? '', /Remove it; .* Reinstall the recorded version with `sudo esdctl install --root .+ PAYLOAD`/)
    })

    it('a value a manifest could have asked for, edited after install: drift, told by the SHA-256 the receipt keeps', async () => {
      const record = JSON.parse(readFileSync(receiptPath(), 'utf8')) as {plistSha256?: string}
      assert.equal(record.plistSha256, createHash('sha256').update(original).digest('hex'))
      // An argument after argv[0] and RunAtLoad off: a manifest could ask for both, so the plist rules and the re-rendering accept them.
      edit((job) => {
        job['ProgramArguments'] = [...(job['ProgramArguments'] as string[]), '--verbose']
      })
      let failed = await plistFailures()
      assert.deepEqual(failed.map((c) => [c.id, c.severity]), [['plist.drift', 'error']])
      assert.match(failed[0]!.message, /not the one this install wrote \(its SHA-256 differs from the one the install record keeps\)/)
      // A receipt written before esdctl kept the hash: a manifest could have asked for this, so it reads only as written differently.
      const {plistSha256: _, ...older} = JSON.parse(readFileSync(receiptPath(), 'utf8')) as Record<string, unknown>
      const kept = readFileSync(receiptPath())
      writeFileSync(receiptPath(), JSON.stringify(older))
      try {
        failed = await plistFailures()
        assert.deepEqual(failed.map((c) => [c.id, c.severity]), [['plist.drift', 'warning']])
        assert.match(failed[0]!.message, /the same keys and values, written differently/)
      } finally {
        writeFileSync(receiptPath(), kept)
      }
    })

    it('ProgramArguments changed, or a key esdctl never writes added: drift, naming the keys', async () => {
      edit((job) => {
        job['ProgramArguments'] = ['/bin/sh', '-c', 'id']
      })
      let failed = await plistFailures()
      // argv[0] not the executable is the plist rules' warning already; that it is not what esdctl wrote is an error.
      assert.deepEqual(failed.map((c) => [c.id, c.severity]), [['plist.program-arguments', 'warning'], ['plist.drift', 'error']])
      assert.match(failed[1]!.message, /not the one this install wrote \(ProgramArguments differs\)/)
      edit((job) => {
        job['Sockets'] = {Listener: {SockServiceName: '8080'}}
      })
      failed = await plistFailures()
      assert.deepEqual(failed.map((c) => c.id), ['plist.drift'])
      assert.match(failed[0]!.message, /\(Sockets differs\)/)
    })
  })

  it('pppc NAME writes the Full Disk Access profile for the bundle the receipt recorded', async () => {
    const r = await execa(process.execPath, [join(REPO_ROOT, 'bin', 'run.js'), 'pppc', NAME, '--root', root], {reject: false})
    assert.equal(r.exitCode, 0, r.stderr)
    assert.match(r.stdout, /<string>org\.pqrs\.Karabiner-VirtualHIDDevice-Daemon<\/string>/)
    assert.match(r.stdout, /G43BCU2T37/)
    // The Comment goes to MDM: it names the bundle as the booted Mac sees it, never this host's image path.
    const comment = (plist.parse(r.stdout) as {PayloadContent: {Services: {SystemPolicyAllFiles: {Comment: string}[]}}[]}).PayloadContent[0]!.Services.SystemPolicyAllFiles[0]!.Comment
    assert.match(comment, new RegExp(`the signature of /opt/${NAME}/lib/${NAME}\\.app$`))
    assert.ok(!r.stdout.includes(root), r.stdout)
  })

  it('without a readable receipt, status and doctor take the layout from the launchd plist\'s Program and say it is a guess', async () => {
    const {daemons} = await installedDaemons(root, NAME)
    const receipt = daemons[0]!.layout.receipt
    renameSync(receipt, `${receipt}.held`)
    try {
      const after = await installedDaemons(root, NAME)
      assert.equal(after.daemons[0]!.layout.system.app, SYSTEM_APP)
      assert.equal(after.daemons[0]!.layout.system.executable, SYSTEM_EXECUTABLE)
      assert.match(after.daemons[0]!.layoutGuess ?? '', /no install record, so the paths checked are the ones the launchd plist \/Library\/LaunchDaemons\/org\.pqrs\.karabiner\.vhiddaemon\.plist and the links on disk give \(\/opt\/osq\/lib\/osq\.app, executable Karabiner-VirtualHIDDevice-Daemon\)/)
      const status = await statusReport({launchctl: undefined, root, name: NAME})
      assert.equal(status.daemons[0]!.bundlePath, SYSTEM_APP)
      assert.ok(status.daemons[0]!.warnings.some((w) => w.includes('not a record of what was installed')), JSON.stringify(status.daemons[0]))
      const doctor = await doctorReport({launchctl: ctx.launchctl, log: new UnifiedLogAdapter(), root, offline: true, name: NAME})
      const record = doctor.daemons[0]!.checks.find((c) => c.id === 'record.unreadable')
      assert.match(record?.message ?? '', /the launchd plist .* and the links on disk give/)
      const wrong = failures(doctor.daemons[0]!.checks).filter((c) => /^(bundle\.|input\.|plist\.|bin-link\.)/.test(c.id))
      assert.deepEqual(wrong, [])
    } finally {
      renameSync(`${receipt}.held`, receipt)
    }
  })
})
