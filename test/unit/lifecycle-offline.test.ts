import assert from 'node:assert/strict'
import {existsSync, readlinkSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {OfflineLaunchctl} from '../../src/adapters/offline-launchctl.js'
import {ExitCode} from '../../src/exit-codes.js'
import {productionContext, silentProgress} from '../../src/lifecycle/context.js'
import * as lifecycle from '../../src/lifecycle/index.js'
import {PrefixLayout} from '../../src/layout/prefix-layout.js'
import {buildPayload, makeRoot, testContext, testIdentity} from '../support/lifecycle-fixture.js'

/**
 * --root other than / stages into a system image: files are laid down exactly as on a live
 * system, but no launchd is asked (the image's own loads the plist at its first boot).
 */
describe('lifecycle: staging into an image under --root (offline launchd)', () => {
  const roots: string[] = []
  after(() => {
    for (const r of roots) rmSync(r, {recursive: true, force: true})
  })

  it('the production context goes offline for any root but /', () => {
    assert.equal(productionContext({root: '/', progress: silentProgress}).offline, false)
    const staged = productionContext({root: '/tmp/image', progress: silentProgress})
    assert.equal(staged.offline, true)
    assert.ok(staged.launchctl instanceof OfflineLaunchctl)
    assert.equal(productionContext({root: '/tmp/..', progress: silentProgress}).offline, false)
  })

  it('install lays the daemon down without launchd, says so, and start is refused', async () => {
    const {identity, trust} = await testIdentity()
    const root = makeRoot()
    roots.push(root)
    const payload = await buildPayload({dir: `${root}-payload`, name: 'imaged', label: 'com.example.imaged', version: '2.0.0', identity})
    roots.push(payload)
    const ctx = {...testContext({root, launchctlPath: '/nonexistent/launchctl', trust}), launchctl: new OfflineLaunchctl(), offline: true}
    const r = await lifecycle.install(ctx, payload)
    assert.equal(r.exitCode, ExitCode.ok, r.message)
    assert.equal(r.changed, true)
    assert.ok(r.notes?.some((n) => /launchd was not asked/.test(n)), JSON.stringify(r.notes))
    const layout = new PrefixLayout({name: 'imaged', label: 'com.example.imaged', root})
    assert.ok(existsSync(layout.executable))
    assert.ok(existsSync(layout.launchdPlist))
    assert.equal(readlinkSync(layout.binLink), layout.binLinkTarget)
    assert.ok(existsSync(join(layout.stateDir, 'receipt.json')))
    assert.doesNotMatch(r.message, /it is running/, 'launchd was never asked: nothing is known to run (the --json msg is this message)')
    assert.match(r.message, /imaged 2\.0\.0 installed; staged in the image: launchd not asked/)
    const up = await lifecycle.upgrade(ctx, await buildPayload({dir: `${root}-payload-3`, name: 'imaged', label: 'com.example.imaged', version: '3.0.0', identity}))
    roots.push(`${root}-payload-3`)
    assert.equal(up.exitCode, ExitCode.ok, up.message)
    assert.match(up.message, /upgraded from 2\.0\.0 to 3\.0\.0; staged in the image: launchd not asked/)
    const back = await lifecycle.rollback(ctx, 'imaged')
    assert.equal(back.exitCode, ExitCode.ok, back.message)
    assert.match(back.message, /rolled back from 3\.0\.0 to 2\.0\.0; staged in the image: launchd not asked/)
    assert.doesNotMatch(`${up.message} ${back.message}`, /it is running/)
    const started = lifecycle.start(ctx, 'imaged')
    await assert.rejects(started, (e: unknown) => e instanceof lifecycle.LifecycleError && e.exitCode === ExitCode.badInput && /no.* launchd|none to ask/.test(e.message))
  })
})
