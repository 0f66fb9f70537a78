import {strict as assert} from 'node:assert'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {LaunchctlAdapter} from '../../src/adapters/launchctl.js'
import {ExitCode} from '../../src/exit-codes.js'
import {exitCodeOf} from '../../src/commands/status.js'
import {statusReport, type DaemonStatus} from '../../src/status/status-report.js'
import {writeInstalledFixture} from '../support/installed-fixture.js'
import {startFakeLaunchd, type FakeLaunchd} from '../doubles/fake-launchd/fake-launchd.js'
import {waitUntilDaemonStarted, writeSampleDaemonPlist, type SampleDaemonJob} from '../doubles/fake-launchd/daemon-plist.js'
import {waitFor} from '../doubles/wait-for.js'
import {skipBecause} from '../support/skip.js'

const NAME = 'thed'
const LABEL = 'com.example.thed'
const NOW = new Date('2026-03-01T00:00:00Z')

describe('esdctl status library against the fake launchd', function () {
  this.timeout(30_000)
  let launchd: FakeLaunchd
  let launchctl: LaunchctlAdapter
  let root: string

  beforeEach(async () => {
    launchd = await startFakeLaunchd()
    launchctl = new LaunchctlAdapter({executable: launchd.launchctlPath})
    root = await mkdtemp(join(tmpdir(), 'esdctl-status-'))
  })
  afterEach(async () => {
    await launchd.stop()
    await rm(root, {recursive: true, force: true})
  })

  const install = (record = {}) => writeInstalledFixture({root, name: NAME, label: LABEL, record})
  const load = async (job: Partial<SampleDaemonJob> = {}) => launchctl.bootstrap(writeSampleDaemonPlist(launchd.stateDir, {label: LABEL, ...job}))
  const one = async (): Promise<DaemonStatus> => {
    const report = await statusReport({launchctl, root, now: NOW})
    assert.equal(report.daemons.length, 1)
    return report.daemons[0]!
  }

  it('names a code-signing kill in words and points at esdctl verify and doctor (last exit reason, no signal line)', async () => {
    await launchd.stop()
    launchd = await startFakeLaunchd({codeSigningKills: [process.execPath]})
    launchctl = new LaunchctlAdapter({executable: launchd.launchctlPath})
    await install()
    await load({keepAlive: true, throttleInterval: 1})
    const d = await one()
    assert.equal(d.lastExit?.reason, 'OS_REASON_CODESIGNING')
    assert.equal(d.lastExit?.codeSigning, true)
    assert.ok(d.state === 'crash-looping' || d.state === 'stopped', d.state)
    const warning = d.warnings.find((w) => /code signature/.test(w))
    assert.ok(warning, JSON.stringify(d.warnings))
    assert.match(warning, /macOS killed it for its code signature \(OS_REASON_CODESIGNING\).*esdctl verify \/opt\/thed\/thed\.app.*esdctl doctor thed/)
  })

  it('shows a job draining after bootout as stopping, not stopped', async () => {
    await install()
    await load({daemonArgs: ['--term-delay', '400']})
    await waitUntilDaemonStarted(launchd.stateDir, LABEL, (await launchctl.print(LABEL))!.pid!)
    await launchctl.bootout(LABEL, {waitMs: 5_000, wait: false})
    const d = await one()
    assert.equal(d.state, 'stopping')
    assert.ok(d.warnings.some((w) => /SIGTERM/.test(w)))
  })

  it('reports a running daemon with its record: version, pid, team, bundle, since', async () => {
    await install()
    await load({keepAlive: true})
    const d = await one()
    assert.equal(d.state, 'running')
    assert.equal(d.version, '1.2.3')
    assert.equal(d.build, '45')
    assert.equal(d.teamId, 'ABCDE12345')
    assert.equal(d.bundlePath, '/opt/thed/thed.app', 'the path as the booted Mac sees it, not the --root one')
    assert.equal(d.installedAt, '2026-01-02T10:00:00.000Z')
    assert.ok(d.pid !== undefined && d.pid > 0)
    assert.equal(d.disabled, false)
    assert.deepEqual(d.warnings, [])
    if (process.platform === 'linux') {
      const started = Date.parse(d.processStartedAt!)
      assert.ok(Math.abs(started - Date.now()) < 60_000, `process start ${d.processStartedAt} should be moments ago`)
    }
  })

  it('calls launchctl print once per daemon plus one print-disabled for all, and nothing that changes state', async () => {
    await install()
    await writeInstalledFixture({root, name: 'other', label: 'com.example.other'})
    const calls = join(root, 'calls')
    const counting = join(root, 'counting-launchctl')
    await writeFile(counting, `#!/bin/sh\necho "$*" >> '${calls}'\nexec '${launchd.launchctlPath}' "$@"\n`, {mode: 0o755})
    const report = await statusReport({launchctl: new LaunchctlAdapter({executable: counting}), root, now: NOW})
    assert.deepEqual(report.daemons.map((d) => [d.name, d.state]), [['other', 'not loaded'], [NAME, 'not loaded']])
    const lines = (await readFile(calls, 'utf8')).trim().split('\n').sort()
    assert.deepEqual(lines.filter((l) => l.startsWith('print ')), ['print system/com.example.other', 'print system/com.example.thed'])
    assert.deepEqual(lines.filter((l) => !l.startsWith('print ')).map((l) => l.split(' ')[0]), ['print-disabled'])
  })

  it('says not loaded, and disabled when launchd has it disabled', async () => {
    await install()
    let d = await one()
    assert.equal(d.state, 'not loaded')
    assert.match(d.warnings.join('\n'), /not loaded in launchd/)
    await launchctl.disable(LABEL)
    d = await one()
    assert.equal(d.state, 'disabled')
    assert.match(d.warnings.join('\n'), /disabled in launchd/)
  })

  it('warns when a running daemon is disabled for the next boot', async () => {
    await install()
    await load({keepAlive: true})
    await launchctl.disable(LABEL)
    const d = await one()
    assert.equal(d.state, 'running')
    assert.equal(d.disabled, true)
    assert.match(d.warnings.join('\n'), /next boot/)
  })

  it('recognises a crash loop and explains the last exit', async () => {
    await install()
    await load({keepAlive: true, throttleInterval: 2, daemonArgs: ['--exit-after', '50', '--exit-code', '3']})
    await waitFor('the job to be scheduled for respawn', async () => ((await launchctl.print(LABEL))?.state === 'spawn-scheduled' ? true : undefined))
    const d = await one()
    assert.equal(d.state, 'crash-looping')
    assert.equal(d.lastExit?.code, 3)
    assert.match(d.lastExit!.meaning, /esdctl logs/)
    assert.match(d.warnings.join('\n'), /crash-looping/)
  })

  it('points a daemon killed by SIGKILL at code signing and esdctl doctor', async () => {
    await install()
    await load({keepAlive: false})
    const info = await launchctl.print(LABEL)
    await waitUntilDaemonStarted(launchd.stateDir, LABEL, info!.pid!)
    process.kill(info!.pid!, 'SIGKILL')
    await waitFor('the job to exit', async () => ((await launchctl.print(LABEL))?.pid === undefined ? true : undefined))
    const d = await one()
    assert.equal(d.state, 'stopped')
    assert.equal(d.lastExit?.signal, 'SIGKILL')
    assert.match(d.lastExit!.meaning, /code signing/)
    assert.match(d.lastExit!.meaning, /esdctl doctor/)
    assert.match(d.warnings.join('\n'), /killed by SIGKILL/)
  })

  it('says when an interrupted transaction left its journal, and not otherwise', async () => {
    const layout = await install()
    await load()
    assert.equal((await one()).transactionPending, undefined)
    await writeFile(layout.journal, '{}')
    const d = await one()
    assert.equal(d.transactionPending, true)
    // The advice keeps --root: doctor must look at the same image, not the running Mac.
    assert.ok(d.warnings.some((w) => w.includes('interrupted esdctl transaction is pending') && w.includes(`\`esdctl doctor --root ${root} thed\``)), d.warnings.join('\n'))
    assert.match(d.warnings.join('\n'), /or refuses if the journal is one this esdctl cannot act on/)
  })

  it('reports a stopped daemon that exited cleanly without a warning', async () => {
    await install()
    await load({daemonArgs: ['--exit-after', '30']})
    await waitFor('the job to exit', async () => ((await launchctl.print(LABEL))?.lastExitCode === 0 ? true : undefined))
    const d = await one()
    assert.equal(d.state, 'stopped')
    assert.equal(d.lastExit?.meaning, 'it exited normally')
    assert.deepEqual(d.warnings, [])
  })

  it('warns about a profile expiring inside 30 days, and about an expired one', async () => {
    await install({profile: {uuid: 'U', name: 'ES profile', expires: '2026-03-20T00:00:00Z', kind: 'developer-id'}})
    let d = await one()
    assert.equal(d.profile?.status, 'expiring')
    assert.equal(d.profile?.daysLeft, 19)
    assert.match(d.warnings.join('\n'), /expires in 19 days/)
    await install({profile: {uuid: 'U', name: 'ES profile', expires: '2026-02-20T00:00:00Z', kind: 'developer-id'}})
    d = await one()
    assert.equal(d.profile?.status, 'expired')
    assert.match(d.warnings.join('\n'), /expired on 2026-02-20/)
    await install({profile: {uuid: 'U', name: 'ES profile', expires: '2026-05-20T00:00:00Z', kind: 'developer-id'}})
    assert.equal((await one()).profile?.status, 'ok')
  })

  it('answers "not installed" for a name esdctl has no record of, and an empty report when nothing is installed', async () => {
    assert.deepEqual((await statusReport({launchctl, root})).daemons, [])
    await install()
    const report = await statusReport({launchctl, root, name: 'nosuch'})
    assert.deepEqual(report.daemons, [{name: 'nosuch', state: 'not installed', warnings: []}])
    assert.equal(exitCodeOf(report), ExitCode.ok)
  })

  it('keeps going when a record is damaged, and says so (exit 4)', async () => {
    const layout = await install()
    await writeFile(layout.receipt, '{"schemaVersion": 1, "name": ')
    const report = await statusReport({launchctl, root})
    const d = report.daemons[0]!
    assert.equal(d.state, 'not loaded', 'launchd is still asked')
    assert.match(d.error!, /install record unreadable: .*not valid JSON/)
    assert.equal(exitCodeOf(report), ExitCode.badInput)
  })

  it('says unknown (exit 5) when launchctl cannot be run', async () => {
    await install()
    const missing = new LaunchctlAdapter({executable: join(root, 'no-launchctl')})
    const report = await statusReport({launchctl: missing, root})
    assert.equal(report.daemons[0]!.state, 'unknown')
    assert.match(report.daemons[0]!.error!, /launchd could not be asked/)
    assert.equal(report.daemons[0]!.version, '1.2.3', 'the record is still shown')
    assert.equal(exitCodeOf(report), ExitCode.launchdFailed)
  })
})

describe('esdctl status on a system image under --root', function () {
  this.timeout(60_000)
  let root: string
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'esdctl-status-image-'))
    await writeInstalledFixture({root, name: NAME, label: LABEL, record: {version: '1.2.3'}})
  })
  after(() => rm(root, {recursive: true, force: true}))

  it('reports its daemons as staged, asking no launchd: exit 0, through both command paths', async () => {
    const {execa} = await import('execa')
    const {REPO_ROOT} = await import('../support/real-artifacts.js')
    // PATH holds no launchctl here; a run that asked the host's launchd would say unknown and exit 5.
    for (const argv of [['status', '--root', root, '--json'], ['status', '--root', root, '--json', '--format', 'json']]) {
      const r = await execa(process.execPath, [join(REPO_ROOT, 'bin', 'run.js'), ...argv], {reject: false})
      assert.equal(r.exitCode, ExitCode.ok, r.stdout + r.stderr)
      const json = JSON.parse(r.stdout) as {daemons: DaemonStatus[]}
      assert.equal(json.daemons[0]!.state, 'staged')
      assert.equal(json.daemons[0]!.version, '1.2.3')
    }
    const report = await statusReport({launchctl: undefined, root, now: NOW})
    assert.deepEqual(report.daemons.map((d) => [d.name, d.state, d.error]), [[NAME, 'staged', undefined]])
  })

  it('a --root that does not exist is bad input (exit 4) for status and doctor, never an empty machine', async () => {
    const {execa} = await import('execa')
    const {REPO_ROOT} = await import('../support/real-artifacts.js')
    const missing = join(root, 'no-such-image')
    for (const argv of [['status', '--root', missing], ['status', '--root', missing, '--json'], ['doctor', '--root', missing]]) {
      const r = await execa(process.execPath, [join(REPO_ROOT, 'bin', 'run.js'), ...argv], {reject: false})
      assert.equal(r.exitCode, ExitCode.badInput, `${argv.join(' ')}: ${r.stdout}${r.stderr}`)
      assert.ok(`${r.stdout}${r.stderr}`.includes(`--root ${missing}: no such directory`), r.stdout + r.stderr)
      assert.doesNotMatch(r.stdout, /No daemons installed/)
    }
  })

  it('run without root, status and doctor say the root-only record needs sudo, never that it is damaged', async function () {
    if (process.getuid?.() !== 0) skipBecause(this, 'needs-root')
    const {execa} = await import('execa')
    const {REPO_ROOT} = await import('../support/real-artifacts.js')
    const {chmod} = await import('node:fs/promises')
    await chmod(root, 0o755) // mkdtemp's 0700 would hide everything; the records stay root-only inside
    const asNobody = (argv: string[]) => execa(process.execPath, [join(REPO_ROOT, 'bin', 'run.js'), ...argv], {reject: false, uid: 65534, gid: 65534})
    const status = await asNobody(['status', '--root', root])
    assert.match(status.stdout, /receipt\.json is readable only by root .*run the command with sudo/)
    assert.doesNotMatch(status.stdout, /damaged|unreadable/)
    const doctor = await asNobody(['doctor', NAME, '--root', root])
    assert.match(doctor.stdout, /\[warn\] record\.needs-root: .*readable only by root/)
    assert.ok(doctor.stdout.includes(`fix: Run \`sudo esdctl doctor --root ${root} thed\``), doctor.stdout)
    assert.doesNotMatch(doctor.stdout, /record\.unreadable/)
  })
})
