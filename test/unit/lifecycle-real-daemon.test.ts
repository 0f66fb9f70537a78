import assert from 'node:assert/strict'
import {existsSync, lstatSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import * as plist from 'plist'
import {OfflineLaunchctl} from '../../src/adapters/offline-launchctl.js'
import {ExitCode} from '../../src/exit-codes.js'
import type {LifecycleContext} from '../../src/lifecycle/context.js'
import * as lifecycle from '../../src/lifecycle/index.js'
import {PrefixLayout} from '../../src/layout/prefix-layout.js'
import {makeRoot, snapshotTree, testContext} from '../support/lifecycle-fixture.js'
import {extractBundleFromPkg, KARABINER_DAEMON_IN_PAYLOAD, realPackage, bothRealPackages} from '../support/lifecycle-pkg-payload.js'
import {TrustStore} from '../../src/trust/trust-store.js'

const NAME = 'Karabiner-VirtualHIDDevice-Daemon'
const LABEL = 'org.pqrs.Karabiner-VirtualHIDDevice-Daemon'
const SYSTEM_EXECUTABLE = `/opt/${NAME}/${NAME}.app/Contents/MacOS/${NAME}`

/**
 * The real notarized daemon bundle from pqrs-org's installer packages (shared fixtures), installed
 * under its own capitalised name into an offline --root image, upgraded 6.0.0 → 6.10.0 and rolled
 * back, verified against the pinned Apple roots like any customer's bundle.
 */
describe('lifecycle: a real daemon bundle (Karabiner-VirtualHIDDevice-Daemon) in an offline image', function () {
  const paths: string[] = []
  const payloads: Partial<Record<'6.0.0' | '6.10.0', string>> = {}
  let root = ''
  let ctx: LifecycleContext

  before(async function () {
    const packages = bothRealPackages(this)
    root = makeRoot()
    paths.push(root)
    for (const [version, pkg] of packages) {
      const dir = `${root}-payload-${version}`
      paths.push(dir)
      await extractBundleFromPkg(pkg, KARABINER_DAEMON_IN_PAYLOAD, join(dir, `${NAME}.app`))
      writeFileSync(join(dir, 'esdctl.json'), JSON.stringify({name: NAME, label: LABEL, bundleId: LABEL, teamId: 'G43BCU2T37', RunAtLoad: true, KeepAlive: true}))
      payloads[version] = dir
    }
    // The pinned Apple roots, as in production: the bundle is really Apple-chained.
    ctx = {...testContext({root, launchctlPath: '/nonexistent/launchctl', trust: TrustStore.apple()}), launchctl: new OfflineLaunchctl(), offline: true}
  })
  after(() => {
    for (const p of paths) rmSync(p, {recursive: true, force: true})
  })

  const layout = (): PrefixLayout => new PrefixLayout({name: NAME, label: LABEL, root})
  const program = (): string => (plist.parse(readFileSync(layout().launchdPlist, 'utf8')) as {Program: string}).Program
  const installedVersion = (): string => (JSON.parse(readFileSync(layout().receipt, 'utf8')) as {version: string}).version

  it('installs 6.0.0 under its own name: /opt/<Name>, the executable named by CFBundleExecutable, bin link, plist', async () => {
    const r = await lifecycle.install(ctx, payloads['6.0.0']!)
    assert.equal(r.exitCode, ExitCode.ok, `${r.message} ${JSON.stringify(r.findings)}`)
    assert.equal(r.toVersion, '6.0.0')
    assert.equal(installedVersion(), '6.0.0')
    assert.equal(program(), SYSTEM_EXECUTABLE)
    assert.equal(readlinkSync(join(layout().prefix, 'bin', NAME)), `../${NAME}.app/Contents/MacOS/${NAME}`)
    assert.ok(statSync(layout().executable).isFile())
    // A new Mac has no /opt: esdctl creates it and the prefix for others to traverse; its records stay root-only.
    assert.equal(statSync(join(root, 'opt')).mode & 0o777, 0o755)
    assert.equal(statSync(layout().prefix).mode & 0o777, 0o755)
    assert.equal(statSync(layout().stateDir).mode & 0o777, 0o700)
  })

  it('upgrades to 6.10.0, keeping 6.0.0 in the rollback slot', async () => {
    const r = await lifecycle.upgrade(ctx, payloads['6.10.0']!)
    assert.equal(r.exitCode, ExitCode.ok, `${r.message} ${JSON.stringify(r.findings)}`)
    assert.equal(r.fromVersion, '6.0.0')
    assert.equal(r.toVersion, '6.10.0')
    assert.equal(installedVersion(), '6.10.0')
    assert.deepEqual(snapshotTree(layout().app)['Contents/MacOS/' + NAME]?.split(' ')[1], snapshotTree(join(payloads['6.10.0']!, `${NAME}.app`))['Contents/MacOS/' + NAME]?.split(' ')[1])
    assert.equal(program(), SYSTEM_EXECUTABLE)
  })

  it('rolls back to 6.0.0: the same bytes as the 6.0.0 package, the link and plist intact', async () => {
    const r = await lifecycle.rollback(ctx, NAME)
    assert.equal(r.exitCode, ExitCode.ok, r.message)
    assert.equal(r.toVersion, '6.0.0')
    assert.equal(installedVersion(), '6.0.0')
    const installed = snapshotTree(layout().app)
    const shipped = snapshotTree(join(payloads['6.0.0']!, `${NAME}.app`))
    for (const file of Object.keys(shipped).filter((f) => shipped[f]!.startsWith('file'))) assert.equal(installed[file]?.split(' ')[1], shipped[file]!.split(' ')[1], file)
    assert.equal(program(), SYSTEM_EXECUTABLE)
    assert.equal(readlinkSync(join(layout().prefix, 'bin', NAME)), `../${NAME}.app/Contents/MacOS/${NAME}`)
  })

  it('refuses a second daemon whose name differs only in case (one directory on APFS)', async () => {
    const dir = `${root}-payload-lower`
    paths.push(dir)
    await extractBundleFromPkg(realPackage('6.0.0')!, KARABINER_DAEMON_IN_PAYLOAD, join(dir, `${NAME}.app`))
    writeFileSync(join(dir, 'esdctl.json'), JSON.stringify({name: NAME.toLowerCase(), bundle: `${NAME}.app`, label: 'org.pqrs.other', bundleId: LABEL, teamId: 'G43BCU2T37'}))
    const before = snapshotTree(root)
    const refused = await lifecycle.install(ctx, dir).then(() => undefined, (e: unknown) => e)
    assert.ok(refused instanceof lifecycle.LifecycleError, String(refused))
    assert.equal(refused.exitCode, ExitCode.badInput)
    assert.match(refused.message, new RegExp(`${NAME.toLowerCase()} differs only in case from the installed daemon ${NAME}`))
    const after = snapshotTree(root)
    delete before['opt/' + NAME.toLowerCase()]
    assert.deepEqual(Object.keys(after).filter((k) => !k.includes('esdctl.lock')), Object.keys(before).filter((k) => !k.includes('esdctl.lock')))
  })

  it('under a short name of its own (`kd`) with no links given: bin/kd is a link to the executable CFBundleExecutable names', async () => {
    const dir = `${root}-payload-short`
    const image = makeRoot()
    paths.push(dir, image)
    await extractBundleFromPkg(realPackage('6.0.0')!, KARABINER_DAEMON_IN_PAYLOAD, join(dir, `${NAME}.app`))
    writeFileSync(join(dir, 'esdctl.json'), JSON.stringify({name: 'kd', bundle: `${NAME}.app`, label: LABEL, bundleId: LABEL, teamId: 'G43BCU2T37'}))
    const shortCtx: LifecycleContext = {...ctx, ...testContext({root: image, launchctlPath: '/nonexistent/launchctl', trust: TrustStore.apple()}), launchctl: new OfflineLaunchctl(), offline: true}
    const result = await lifecycle.install(shortCtx, dir)
    assert.equal(result.exitCode, ExitCode.ok, `${result.message} ${JSON.stringify(result.findings ?? [])}`)
    const placed = new PrefixLayout({name: 'kd', label: LABEL, root: image, bundle: `${NAME}.app`})
    assert.equal(readlinkSync(join(placed.prefix, 'bin', 'kd')), `../${NAME}.app/Contents/MacOS/${NAME}`)
    assert.equal((plist.parse(readFileSync(placed.launchdPlist, 'utf8')) as {Program: string}).Program, `/opt/kd/${NAME}.app/Contents/MacOS/${NAME}`)
  })

  it('rolls back across a move of the bundle (kd.app → lib/kd.app): the links are the restored version\'s again, the newer one\'s own link gone', async () => {
    const image = makeRoot()
    paths.push(image)
    const kdPayload = async (version: '6.0.0' | '6.10.0', manifest: object, bundle: string): Promise<string> => {
      const dir = `${root}-payload-kd-${version}`
      paths.push(dir)
      await extractBundleFromPkg(realPackage(version)!, KARABINER_DAEMON_IN_PAYLOAD, join(dir, bundle))
      writeFileSync(join(dir, 'esdctl.json'), JSON.stringify({name: 'kd', label: LABEL, bundleId: LABEL, teamId: 'G43BCU2T37', ...manifest}))
      return dir
    }
    const kdCtx: LifecycleContext = {...ctx, ...testContext({root: image, launchctlPath: '/nonexistent/launchctl', trust: TrustStore.apple()}), launchctl: new OfflineLaunchctl(), offline: true}
    const kd = new PrefixLayout({name: 'kd', label: LABEL, root: image})
    const installed = await lifecycle.install(kdCtx, await kdPayload('6.0.0', {}, 'kd.app'))
    assert.equal(installed.exitCode, ExitCode.ok, `${installed.message} ${JSON.stringify(installed.findings ?? [])}`)
    const upgraded = await lifecycle.upgrade(kdCtx, await kdPayload('6.10.0', {bundle: 'lib/kd.app', links: [{path: 'bin/kd'}, {path: '/usr/local/bin/kvd'}]}, 'lib/kd.app'))
    assert.equal(upgraded.exitCode, ExitCode.ok, `${upgraded.message} ${JSON.stringify(upgraded.findings ?? [])}`)
    assert.equal(readlinkSync(join(kd.prefix, 'bin', 'kd')), `../lib/kd.app/Contents/MacOS/${NAME}`)
    assert.equal(readlinkSync(join(image, 'usr/local/bin/kvd')), `/opt/kd/lib/kd.app/Contents/MacOS/${NAME}`)
    const back = await lifecycle.rollback(kdCtx, 'kd')
    assert.equal(back.exitCode, ExitCode.ok, back.message)
    assert.equal(back.toVersion, '6.0.0')
    assert.equal(readlinkSync(join(kd.prefix, 'bin', 'kd')), `../kd.app/Contents/MacOS/${NAME}`)
    assert.ok(statSync(join(kd.prefix, 'bin', 'kd')).isFile(), 'bin/kd resolves to the restored executable')
    assert.ok(!existsSync(join(kd.prefix, 'lib')), 'lib/ went with 6.10.0')
    assert.throws(() => lstatSync(join(image, 'usr/local/bin/kvd')), /ENOENT/, 'the link only 6.10.0 had is gone')
    // Rolling back again returns to 6.10.0 with its links, the swap being its own inverse.
    const forth = await lifecycle.rollback(kdCtx, 'kd')
    assert.equal(forth.exitCode, ExitCode.ok, forth.message)
    assert.equal(readlinkSync(join(kd.prefix, 'bin', 'kd')), `../lib/kd.app/Contents/MacOS/${NAME}`)
    assert.equal(readlinkSync(join(image, 'usr/local/bin/kvd')), `/opt/kd/lib/kd.app/Contents/MacOS/${NAME}`)
    assert.ok(statSync(join(kd.prefix, 'bin', 'kd')).isFile())
  })
})
