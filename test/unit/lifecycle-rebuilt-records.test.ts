import assert from 'node:assert/strict'
import {existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {OfflineLaunchctl} from '../../src/adapters/offline-launchctl.js'
import {ExitCode} from '../../src/exit-codes.js'
import type {LifecycleContext} from '../../src/lifecycle/context.js'
import * as lifecycle from '../../src/lifecycle/index.js'
import {PrefixLayout} from '../../src/layout/prefix-layout.js'
import {TrustStore} from '../../src/trust/trust-store.js'
import {makeRoot, testContext} from '../support/lifecycle-fixture.js'
import {extractBundleFromPkg, KARABINER_DAEMON_IN_PAYLOAD, bothRealPackages} from '../support/lifecycle-pkg-payload.js'

const NAME = 'Karabiner-VirtualHIDDevice-Daemon'
const LABEL = 'org.pqrs.karabiner.vhiddaemon'
const BUNDLE_ID = 'org.pqrs.Karabiner-VirtualHIDDevice-Daemon'
const CONF = 'kvhid.conf'
const LEVEL: Record<'6.0.0' | '6.10.0', string> = {'6.0.0': 'level=1\n', '6.10.0': 'level=2\n'}

/**
 * The reviewer's set-up: pqrs-org's real notarized daemon bundles (shared fixtures), each payload
 * shipping etc/kvhid.conf, installed into an offline --root image. A receipt rebuilt after damage
 * must still know which config files the version shipped, or a rollback takes the newer version's
 * untouched default for the admin's own file and leaves it in place.
 */
describe('lifecycle: a rebuilt receipt keeps what the version shipped in etc/ (real Karabiner daemon, offline image)', function () {
  const paths: string[] = []
  const payloads: Partial<Record<'6.0.0' | '6.10.0', string>> = {}

  before(async function () {
    const packages = bothRealPackages(this)
    const base = makeRoot()
    paths.push(base)
    for (const [version, pkg] of packages) {
      const dir = join(base, `payload-${version}`)
      await extractBundleFromPkg(pkg, KARABINER_DAEMON_IN_PAYLOAD, join(dir, `${NAME}.app`))
      mkdirSync(join(dir, 'etc'))
      writeFileSync(join(dir, 'etc', CONF), LEVEL[version])
      writeFileSync(join(dir, 'esdctl.json'), JSON.stringify({name: NAME, label: LABEL, bundleId: BUNDLE_ID, teamId: 'G43BCU2T37', RunAtLoad: true, KeepAlive: true}))
      payloads[version] = dir
    }
  })
  after(() => {
    for (const p of paths) rmSync(p, {recursive: true, force: true})
  })

  /** A fresh image with 6.0.0 installed and upgraded to 6.10.0 (6.0.0 in the rollback slot). */
  async function upgradedImage(): Promise<{ctx: LifecycleContext; layout: PrefixLayout}> {
    const root = makeRoot()
    paths.push(root)
    const ctx: LifecycleContext = {...testContext({root, launchctlPath: '/nonexistent/launchctl', trust: TrustStore.apple()}), launchctl: new OfflineLaunchctl(), offline: true}
    for (const [verb, version] of [['install', '6.0.0'], ['upgrade', '6.10.0']] as const) {
      const r = await lifecycle[verb](ctx, payloads[version]!)
      assert.equal(r.exitCode, ExitCode.ok, `${r.message} ${JSON.stringify(r.findings ?? [])}`)
    }
    const layout = new PrefixLayout({name: NAME, label: LABEL, root})
    assert.equal(readFileSync(join(layout.etc, CONF), 'utf8'), LEVEL['6.10.0'])
    return {ctx, layout}
  }

  async function rollbackRestoresOldDefault(ctx: LifecycleContext, layout: PrefixLayout): Promise<void> {
    const r = await lifecycle.rollback(ctx, NAME)
    assert.equal(r.exitCode, ExitCode.ok, `${r.message} ${JSON.stringify(r.findings ?? [])}`)
    assert.equal(r.toVersion, '6.0.0')
    assert.equal(readFileSync(join(layout.etc, CONF), 'utf8'), LEVEL['6.0.0'], 'the untouched config is 6.0.0\'s default again')
    assert.equal(existsSync(join(layout.etc, `${CONF}.default`)), false, 'no .default: the admin never edited the file')
  }

  it('without damage (the control), rollback makes the untouched config 6.0.0\'s default again', async () => {
    const {ctx, layout} = await upgradedImage()
    await rollbackRestoresOldDefault(ctx, layout)
  })

  it('after the installed receipt was cut short and rebuilt by install of the same version, rollback does the same', async () => {
    const {ctx, layout} = await upgradedImage()
    writeFileSync(layout.receipt, '{"schemaVersion": 1, "na')
    const again = await lifecycle.install(ctx, payloads['6.10.0']!)
    assert.equal(again.exitCode, ExitCode.ok, again.message)
    assert.match(again.recovered ?? '', /rebuilt/)
    const rebuilt = JSON.parse(readFileSync(layout.receipt, 'utf8')) as {rebuiltAt?: string; configHashes: Record<string, string>}
    assert.ok(rebuilt.rebuiltAt !== undefined, 'the receipt was rebuilt, not rewritten by an install')
    assert.deepEqual(Object.keys(rebuilt.configHashes), [CONF])
    await rollbackRestoresOldDefault(ctx, layout)
  })

  it('after the rollback slot\'s receipt was cut short and rebuilt, rollback does the same', async () => {
    const {ctx, layout} = await upgradedImage()
    writeFileSync(layout.slotReceipt, 'not json')
    const again = await lifecycle.install(ctx, payloads['6.10.0']!)
    assert.equal(again.exitCode, ExitCode.ok, again.message)
    assert.match(again.recovered ?? '', /rebuilt/)
    const rebuilt = JSON.parse(readFileSync(layout.slotReceipt, 'utf8')) as {configHashes: Record<string, string>}
    assert.deepEqual(Object.keys(rebuilt.configHashes), [CONF])
    await rollbackRestoresOldDefault(ctx, layout)
  })
})
