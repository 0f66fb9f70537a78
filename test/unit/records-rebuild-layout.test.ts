import assert from 'node:assert/strict'
import {cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {execa} from 'execa'
import {OfflineLaunchctl} from '../../src/adapters/offline-launchctl.js'
import {RootFs} from '../../src/adapters/root-fs.js'
import {UnifiedLogAdapter} from '../../src/adapters/unified-log.js'
import {doctorReport} from '../../src/doctor/doctor-report.js'
import {ExitCode} from '../../src/exit-codes.js'
import {PrefixLayout, ToolPaths} from '../../src/layout/prefix-layout.js'
import type {LifecycleContext} from '../../src/lifecycle/context.js'
import * as lifecycle from '../../src/lifecycle/index.js'
import {buildPayload as assemblePayload} from '../../src/payload-build/build-payload.js'
import {parseInstallRecord} from '../../src/records/install-record.js'
import {layoutOfProgram} from '../../src/records/layout-from-disk.js'
import {rebuildInstallRecord} from '../../src/records/rebuild-receipt.js'
import {installedDaemons} from '../../src/status/installed-daemons.js'
import {statusReport} from '../../src/status/status-report.js'
import {TrustStore} from '../../src/trust/trust-store.js'
import {makeRoot, testContext} from '../support/lifecycle-fixture.js'
import {extractBundleFromPkg, KARABINER_DAEMON_IN_PAYLOAD, bothRealPackages} from '../support/lifecycle-pkg-payload.js'
import {REPO_ROOT} from '../support/real-artifacts.js'
import {skipBecause} from '../support/skip.js'

const EXECUTABLE = 'Karabiner-VirtualHIDDevice-Daemon'
const NAME = 'kd'
const LABEL = 'org.pqrs.karabiner.vhiddaemon'
const SYSTEM_APP = `/opt/${NAME}/lib/${NAME}.app`
const SYSTEM_EXECUTABLE = `${SYSTEM_APP}/Contents/MacOS/${EXECUTABLE}`
const LINKS = [{path: `bin/${NAME}`, target: `Contents/MacOS/${EXECUTABLE}`}, {path: '/usr/local/bin/kdctl', target: `Contents/MacOS/${EXECUTABLE}`}]

/**
 * The real notarized Karabiner daemon installed with an osquery-like manifest (bundle in lib/, an
 * executable named unlike the daemon, a link in /usr/local/bin): when esdctl's records are damaged
 * or lost, the mutating commands rebuild them from what is on disk and the read-only ones find the
 * install where it is, never at the default `<name>.app`.
 */
describe('damaged records of a non-default layout are rebuilt from disk; readers find the install without them', function () {
  this.timeout(180_000)
  const paths: string[] = []
  const payloads = new Map<string, string>()
  let root = ''
  let ctx: LifecycleContext
  let layout: PrefixLayout

  const run = (...args: string[]) => execa(process.execPath, [join(REPO_ROOT, 'bin', 'run.js'), ...args], {reject: false})
  const receipt = () => layout.receipt
  const receiptJson = () => parseInstallRecord(readFileSync(receipt()), receipt())
  const asideFiles = (dir: string) => readdirSync(dir).filter((f) => f.includes('.damaged-'))

  before(async function () {
    const packages = bothRealPackages(this)
    root = makeRoot()
    paths.push(root)
    ctx = {...testContext({root, launchctlPath: '/nonexistent/launchctl', trust: TrustStore.apple()}), launchctl: new OfflineLaunchctl(), offline: true}
    layout = new PrefixLayout({name: NAME, label: LABEL, root})
    for (const [version, pkg] of packages) {
      const base = `${root}-${version}`
      paths.push(`${base}-app`, `${base}-out`)
      const app = join(`${base}-app`, `${NAME}.app`)
      await extractBundleFromPkg(pkg, KARABINER_DAEMON_IN_PAYLOAD, app)
      mkdirSync(join(`${base}-app`, 'etc'))
      writeFileSync(join(`${base}-app`, 'etc', 'daemon.conf'), `version=${version}\n`)
      const manifest = `${base}-app/esdctl.json`
      writeFileSync(manifest, JSON.stringify({name: NAME, bundle: `lib/${NAME}.app`, label: LABEL, bundleId: 'org.pqrs.Karabiner-VirtualHIDDevice-Daemon', teamId: 'G43BCU2T37', config: ['daemon.conf'], links: [{path: `bin/${NAME}`}, {path: '/usr/local/bin/kdctl'}], StandardOutPath: '{var}/log/out.log'}))
      const {payload} = await assemblePayload({app, manifest, etc: join(`${base}-app`, 'etc'), out: `${base}-out`}, {trust: TrustStore.apple(), pkgbuild: null})
      payloads.set(version, payload)
    }
    const r = await lifecycle.install(ctx, payloads.get('6.0.0')!)
    assert.equal(r.exitCode, ExitCode.ok, `${r.message} ${JSON.stringify(r.findings ?? [])}`)
  })
  after(() => {
    for (const p of paths) rmSync(p, {recursive: true, force: true})
  })

  it('layoutOfProgram takes the bundle and executable from Program, with the manifest rules for `bundle`', () => {
    const of = layoutOfProgram(NAME, LABEL, '/', SYSTEM_EXECUTABLE)
    assert.ok('layout' in of)
    assert.equal(of.layout.bundle, `lib/${NAME}.app`)
    assert.equal(of.layout.executableName, EXECUTABLE)
    assert.match((layoutOfProgram(NAME, LABEL, '/', `/opt/other/lib/${NAME}.app/Contents/MacOS/x`) as {why: string}).why, /does not lie inside \/opt\/kd/)
    assert.match((layoutOfProgram(NAME, LABEL, '/', `/opt/${NAME}/etc/x.app/Contents/MacOS/x`) as {why: string}).why, /bundle location esdctl would refuse/)
    assert.match((layoutOfProgram(NAME, LABEL, '/', `/opt/${NAME}/bin/${NAME}`) as {why: string}).why, /not a bundle's main executable/)
    assert.match((layoutOfProgram(NAME, LABEL, '/', `/opt/${NAME}/lib/../x.app/Contents/MacOS/x`) as {why: string}).why, /does not lie inside/)
  })

  it('receipt damaged: installedDaemons lays the daemon out from the launchd plist and links, and says it is a guess', async () => {
    const held = readFileSync(receipt())
    writeFileSync(receipt(), '{')
    try {
      const {daemons} = await installedDaemons(root, NAME)
      const d = daemons[0]!
      assert.equal(d.recordDamaged, true)
      assert.equal(d.layout.system.app, SYSTEM_APP)
      assert.equal(d.layout.system.executable, SYSTEM_EXECUTABLE)
      assert.deepEqual(d.layout.linkSpecs, LINKS)
      assert.match(d.layoutGuess ?? '', /the install record is damaged, so the paths checked are the ones the launchd plist/)
    } finally {
      writeFileSync(receipt(), held)
    }
  })

  it('receipt damaged: doctor raises no false bundle, Program or link errors, and never offers an ln from the guess', async () => {
    const held = readFileSync(receipt())
    writeFileSync(receipt(), '{')
    const binLink = join(layout.prefix, 'bin', NAME)
    const linkText = readlinkSync(binLink)
    try {
      const report = await doctorReport({launchctl: ctx.launchctl, log: new UnifiedLogAdapter(), root, offline: true, name: NAME})
      const failed = report.daemons[0]!.checks.filter((c) => c.outcome === 'failed')
      assert.deepEqual(failed.map((c) => c.id), ['record.unreadable'], JSON.stringify(failed))
      rmSync(binLink)
      const again = await doctorReport({launchctl: ctx.launchctl, log: new UnifiedLogAdapter(), root, offline: true, name: NAME})
      const link = again.daemons[0]!.checks.find((c) => c.id === 'bin-link.missing')
      assert.ok(link, JSON.stringify(again.daemons[0]!.checks))
      assert.doesNotMatch(link.fix ?? '', /ln -s/)
      assert.match(link.fix ?? '', /install record is damaged: run `sudo esdctl install .*PAYLOAD` to repair it/)
    } finally {
      if (!existsSync(binLink)) symlinkSync(linkText, binLink)
      writeFileSync(receipt(), held)
    }
  })

  it('receipt damaged: pppc writes the profile for the bundle the plist runs', async () => {
    const held = readFileSync(receipt())
    writeFileSync(receipt(), '{')
    try {
      const r = await run('pppc', NAME, '--root', root)
      assert.equal(r.exitCode, 0, r.stderr)
      assert.match(r.stdout, /G43BCU2T37/)
    } finally {
      writeFileSync(receipt(), held)
    }
  })

  it('run without root on an intact install: doctor and pppc find lib/kd.app from the world-readable plist', async function () {
    if (process.getuid?.() !== 0) skipBecause(this, 'needs-root')
    const asNobody = (...argv: string[]) => execa(process.execPath, [join(REPO_ROOT, 'bin', 'run.js'), ...argv], {reject: false, uid: 65534, gid: 65534})
    const doctor = await asNobody('doctor', NAME, '--root', root)
    assert.match(doctor.stdout, /record\.needs-root/)
    assert.doesNotMatch(doctor.stdout, /input\.unreadable|plist\.program|bin-link\.(missing|target|not-a-link)|ln -sfn/)
    assert.ok(doctor.stdout.includes(`Program ${SYSTEM_EXECUTABLE}`) && doctor.stdout.includes("bin-link.ok: /usr/local/bin/kdctl"), doctor.stdout)
    const pppc = await asNobody('pppc', NAME, '--root', root)
    assert.equal(pppc.exitCode, 0, pppc.stderr)
    assert.match(pppc.stdout, /G43BCU2T37/)
  })

  it('receipt damaged: install rebuilds it from disk (lib/kd.app, its executable, both links) and goes on; no loop', async () => {
    writeFileSync(receipt(), '{')
    const r = await lifecycle.install(ctx, payloads.get('6.0.0')!)
    assert.equal(r.exitCode, ExitCode.ok, r.message)
    const record = receiptJson()
    assert.equal(record.bundle, `lib/${NAME}.app`)
    assert.equal(record.executable, SYSTEM_EXECUTABLE)
    assert.deepEqual(record.links, LINKS)
    assert.equal(asideFiles(layout.stateDir).length, 1)
    const status = await statusReport({launchctl: undefined, root, name: NAME})
    assert.deepEqual(status.daemons[0]!.warnings, [])
  })

  it('rebuildInstallRecord: the same with the bundle at the default place but an executable named unlike the daemon', async () => {
    const other = makeRoot()
    paths.push(other)
    const name = 'kd2'
    const app = join(other, 'opt', name, `${name}.app`)
    cpSync(join(root, SYSTEM_APP), app, {recursive: true, verbatimSymlinks: true})
    const otherLayout = new PrefixLayout({name, label: 'com.example.kd2', root: other})
    const program = `/opt/${name}/${name}.app/Contents/MacOS/${EXECUTABLE}`
    writeFileSync(otherLayout.launchdPlist, `<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict><key>Label</key><string>com.example.kd2</string><key>Program</key><string>${program}</string></dict></plist>\n`)
    mkdirSync(join(other, 'opt', name, 'bin'))
    symlinkSync(`../${name}.app/Contents/MacOS/${EXECUTABLE}`, join(other, 'opt', name, 'bin', name))
    const rebuilt = await rebuildInstallRecord(new RootFs(), otherLayout, 'current', Date.now())
    assert.ok('record' in rebuilt, JSON.stringify(rebuilt))
    assert.equal(rebuilt.record.executable, program)
    assert.deepEqual(rebuilt.record.links, [{path: `bin/${name}`, target: `Contents/MacOS/${EXECUTABLE}`}])
  })

  it('receipt damaged and not rebuildable while the label plist is there: install refuses before moving anything', async () => {
    const held = readFileSync(layout.launchdPlist)
    const before = asideFiles(layout.stateDir).length
    writeFileSync(receipt(), '{')
    writeFileSync(layout.launchdPlist, held.toString().replace(SYSTEM_EXECUTABLE, '/usr/bin/true'))
    try {
      await assert.rejects(lifecycle.install(ctx, payloads.get('6.0.0')!), (e: Error & {exitCode?: number}) => {
        assert.equal(e.exitCode, ExitCode.badInput)
        assert.match(e.message, /receipt\.json is damaged .* cannot be rebuilt from disk: .*does not lie inside \/opt\/kd\. It was left in place and nothing was changed; .*esdctl uninstall .*kd/)
        return true
      })
      assert.equal(readFileSync(receipt(), 'utf8'), '{')
      assert.equal(asideFiles(layout.stateDir).length, before)
    } finally {
      writeFileSync(layout.launchdPlist, held)
    }
    const r = await lifecycle.install(ctx, payloads.get('6.0.0')!)
    assert.equal(r.exitCode, ExitCode.ok, r.message)
  })

  it('rollback slot receipt damaged: rollback rebuilds it from previous/lib/kd.app and rolls back', async () => {
    const up = await lifecycle.upgrade(ctx, payloads.get('6.10.0')!)
    assert.equal(up.exitCode, ExitCode.ok, up.message)
    writeFileSync(layout.slotReceipt, '[]')
    const r = await lifecycle.rollback(ctx, NAME)
    assert.equal(r.exitCode, ExitCode.ok, r.message)
    const record = receiptJson()
    assert.equal(record.version, '6.0.0')
    assert.equal(record.executable, SYSTEM_EXECUTABLE)
  })

  it('registry lost, receipts intact: status, doctor and uninstall --dry-run all see kd installed', async () => {
    const registry = new ToolPaths(root).registry
    const held = readFileSync(registry)
    rmSync(registry)
    try {
      const {daemons, notInstalled} = await installedDaemons(root, NAME)
      assert.deepEqual(notInstalled, [])
      assert.equal(daemons[0]!.entry.label, LABEL)
      assert.equal(daemons[0]!.layoutGuess, undefined)
      const jamf = await run('status', '--root', root, '--format', 'jamf')
      assert.doesNotMatch(jamf.stdout, /not installed/)
      assert.match(jamf.stdout, /6\.0\.0/)
      const doctor = await doctorReport({launchctl: ctx.launchctl, log: new UnifiedLogAdapter(), root, offline: true, name: NAME})
      assert.deepEqual(doctor.notInstalled, [])
      const dry = await lifecycle.uninstall(ctx, NAME, {dryRun: true})
      assert.equal(dry.exitCode, ExitCode.ok, dry.message)
    } finally {
      writeFileSync(registry, held)
    }
  })

  it('receipt damaged: uninstall rebuilds it first and removes /usr/local/bin/kdctl too', async () => {
    const kdctl = join(root, 'usr', 'local', 'bin', 'kdctl')
    assert.equal(lstatSync(kdctl).isSymbolicLink(), true)
    writeFileSync(receipt(), '{')
    const r = await lifecycle.uninstall(ctx, NAME)
    assert.equal(r.exitCode, ExitCode.ok, r.message)
    assert.equal(lstatSync(kdctl, {throwIfNoEntry: false}), undefined)
  })
})
