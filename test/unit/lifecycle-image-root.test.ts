import assert from 'node:assert/strict'
import {existsSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {OfflineLaunchctl} from '../../src/adapters/offline-launchctl.js'
import {ExitCode} from '../../src/exit-codes.js'
import type {LifecycleContext} from '../../src/lifecycle/context.js'
import * as lifecycle from '../../src/lifecycle/index.js'
import {lifecycleWorlds, snapshotTree, testContext, type LifecycleWorld} from '../support/lifecycle-fixture.js'

const NAME = 'thed'

/** Staging into an image under --root: the image must exist, and a refusal says nothing was staged. */
describe('lifecycle: an image under --root', function () {
  const env = lifecycleWorlds(NAME, {labelPrefix: 'com.example.thed.image', defaultEtc: (version) => ({'thed.conf': `version=${version}\n`})})

  const imageCtx = (w: LifecycleWorld, root = w.root): LifecycleContext => ({...testContext({root, launchctlPath: '/nonexistent/launchctl', trust: env.trust}), launchctl: new OfflineLaunchctl(), offline: true})

  it('a --root that does not exist (or is a file) is refused by every mutating verb, exit 4, and is not created', async () => {
    const w = env.world()
    const missing = join(w.root, 'no-such-image')
    const ctx = imageCtx(w, missing)
    const payload = await w.payload('1.0.0')
    const refusedBadRoot = (e: unknown): boolean => lifecycle.isLifecycleError(e) && e.exitCode === ExitCode.badInput && e.message.includes(`--root ${missing} does not exist`)
    await assert.rejects(lifecycle.install(ctx, payload), refusedBadRoot)
    await assert.rejects(lifecycle.install(ctx, payload, {dryRun: true}), refusedBadRoot)
    await assert.rejects(lifecycle.upgrade(ctx, payload), refusedBadRoot)
    await assert.rejects(lifecycle.uninstall(ctx, NAME), refusedBadRoot)
    await assert.rejects(lifecycle.rollback(ctx, NAME), refusedBadRoot)
    assert.equal(existsSync(missing), false, 'the mistyped root was not created')
    const file = join(w.root, 'image-file')
    writeFileSync(file, '')
    await assert.rejects(lifecycle.install(imageCtx(w, file), payload), (e: unknown) => lifecycle.isLifecycleError(e) && e.exitCode === ExitCode.badInput && /is not a directory/.test(e.message))
  })

  it('a refused install into an image does not say it staged anything', async () => {
    const w = env.world()
    const ctx = imageCtx(w)
    assert.equal((await lifecycle.install(ctx, await w.payload('2.0.0'))).exitCode, ExitCode.ok)
    const before = snapshotTree(w.root)
    const older = await lifecycle.install(ctx, await w.payload('1.0.0'))
    assert.equal(older.exitCode, ExitCode.badInput, older.message)
    assert.deepEqual(older.notes?.filter((n) => /staged/.test(n)) ?? [], [], JSON.stringify(older.notes))
    assert.doesNotMatch(older.message, /staged/)
    assert.deepEqual(snapshotTree(w.root), before)
    const newer = await lifecycle.install(ctx, await w.payload('3.0.0'))
    assert.equal(newer.exitCode, ExitCode.ok, newer.message)
    assert.match(newer.message, /staged in the image: launchd not asked/, 'the success says what an offline run did')
  })
})
