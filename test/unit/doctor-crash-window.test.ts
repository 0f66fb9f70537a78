import {strict as assert} from 'node:assert'
import {mkdir, mkdtemp, rm, utimes, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {CrashReportAdapter} from '../../src/adapters/crash-reports.js'
import {checkCrashReports, crashTimeMs} from '../../src/doctor/check-crash-reports.js'
import {PrefixLayout} from '../../src/layout/prefix-layout.js'
import {renderDoctorText} from '../../src/doctor/render-doctor.js'
import {crashTextReport, ipsReport} from '../support/crash-report-texts.js'

// The reviewer's osquery-like layout: the process (CFBundleExecutable) is not named like the daemon.
const EXE = 'Karabiner-VirtualHIDDevice-Daemon'
const INSTALLED_AT = '2026-12-01T09:00:00.000Z'

describe('doctor: crash reports from before the current install are history, not errors', () => {
  let root: string
  let layout: PrefixLayout
  let reports: string
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'esdctl-crash-window-'))
    layout = new PrefixLayout({name: 'kd', label: 'org.pqrs.karabiner.vhiddaemon', root, bundle: 'lib/kd.app', executableName: EXE})
    reports = layout.diagnosticReportsDir
    await mkdir(reports, {recursive: true})
  })
  afterEach(() => rm(root, {recursive: true, force: true}))

  const facts = (time: string) => ({name: EXE, pid: 501, path: `/opt/kd/lib/kd.app/Contents/MacOS/${EXE}`, time})
  const adapter = () => new CrashReportAdapter({directory: reports, systemDirectory: layout.system.diagnosticReportsDir})
  const byId = (checks: Awaited<ReturnType<typeof checkCrashReports>>, id: string) => checks.find((c) => c.id === id)

  it('a CODESIGNING .ips dated 2025, receipt installed 2026-12-01: no crash.code-signing, an info line saying it predates the install', async () => {
    await writeFile(join(reports, `${EXE}-2025-06-01-100005.ips`), ipsReport(facts('2025-06-01 10:00:05.1234 +0000')))
    const checks = await checkCrashReports(layout, adapter(), INSTALLED_AT)
    assert.equal(byId(checks, 'crash.code-signing'), undefined, JSON.stringify(checks))
    assert.ok(checks.every((c) => c.severity === 'info' && c.outcome === 'passed'), JSON.stringify(checks))
    const h = byId(checks, 'crash.before-install')!
    assert.equal(h.path, `/Library/Logs/DiagnosticReports/${EXE}-2025-06-01-100005.ips`)
    assert.match(h.message, /^1 crash report of kd \(1 code-signing kill\) predate this install \(installed 2026-12-01T09:00:00\.000Z\): history of the code it replaced, not held against the installed one; newest: .*2025-06-01 10:00:05/)
    assert.match(byId(checks, 'crash.none')!.message, /since it was installed$/)
    const text = renderDoctorText({ok: true, notInstalled: [], daemons: [{name: 'kd', label: layout.label, ok: true, checks}]})
    assert.doesNotMatch(text, /\[FAIL\]/)
  })

  it('the same report dated after the install is still an error against the installed code', async () => {
    await writeFile(join(reports, `${EXE}-2026-12-01-100005.ips`), ipsReport(facts('2026-12-01 10:00:05.1234 +0000')))
    const checks = await checkCrashReports(layout, adapter(), INSTALLED_AT)
    const c = byId(checks, 'crash.code-signing')!
    assert.equal(c.severity, 'error')
    assert.match(c.message, /^macOS killed kd for its code signature \(1 of its 1 newest crash reports since it was installed\)/)
    assert.equal(byId(checks, 'crash.before-install'), undefined)
  })

  it('an old kill and a new ordinary crash: only the new one is judged (crash.other, a warning), the old one is history', async () => {
    await writeFile(join(reports, `${EXE}_2025-01-01-100005_mac.crash`), crashTextReport(facts('2025-01-01 10:00:05.123 -0700')))
    await utimes(join(reports, `${EXE}_2025-01-01-100005_mac.crash`), 1_700_000_000, 1_700_000_000)
    await writeFile(join(reports, `${EXE}-2026-12-02-100005.ips`), ipsReport({...facts('2026-12-02 10:00:05.1234 +0000'), exceptionType: 'EXC_BAD_ACCESS', signal: 'SIGSEGV', namespace: 'SIGNAL', code: 11, indicator: 'Segmentation fault: 11'}))
    const checks = await checkCrashReports(layout, adapter(), INSTALLED_AT)
    assert.deepEqual(checks.map((c) => [c.id, c.severity]), [['crash.other', 'warning'], ['crash.before-install', 'info']])
  })

  it('a report whose date cannot be read, or no receipt date: judged as current (it may be)', async () => {
    await writeFile(join(reports, `${EXE}-x.ips`), ipsReport(facts('yesterday-ish')))
    assert.equal((await checkCrashReports(layout, adapter(), INSTALLED_AT)).find((c) => c.id === 'crash.code-signing')?.severity, 'error')
    await rm(join(reports, `${EXE}-x.ips`))
    await writeFile(join(reports, `${EXE}-2025-06-01-100005.ips`), ipsReport(facts('2025-06-01 10:00:05.1234 +0000')))
    assert.equal((await checkCrashReports(layout, adapter())).find((c) => c.id === 'crash.code-signing')?.severity, 'error')
  })

  it('reads the times macOS writes, with their offsets', () => {
    assert.equal(crashTimeMs('2026-03-01 10:00:05.1234 +0000'), Date.UTC(2026, 2, 1, 10, 0, 5, 123))
    assert.equal(crashTimeMs('2026-03-01 10:00:05.00 +0000'), Date.UTC(2026, 2, 1, 10, 0, 5))
    assert.equal(crashTimeMs('2025-01-01 10:00:05.123 -0700'), Date.UTC(2025, 0, 1, 17, 0, 5, 123))
    assert.equal(crashTimeMs('2025-01-01 10:00:05 +0530'), Date.UTC(2025, 0, 1, 4, 30, 5))
    assert.equal(crashTimeMs('2025-13-45 10:00:05 +0000'), undefined)
    assert.equal(crashTimeMs(undefined), undefined)
  })
})
