import assert from 'node:assert/strict'
import {existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {ExitCode} from '../../src/exit-codes.js'
import {ToolPaths} from '../../src/layout/prefix-layout.js'
import * as lifecycle from '../../src/lifecycle/index.js'
import {lifecycleWorlds, snapshotTree, type LifecycleWorld} from '../support/lifecycle-fixture.js'
import {holdLockElsewhere} from '../support/lock-holder.js'

const NAME = 'thed'

/**
 * A first install that is still running has written no record yet: a verb that answered "not
 * installed" from the records without the lock would report a state that is about to change
 * (uninstall saying "nothing to do" while the daemon is being installed). Every mutating verb
 * settles "not installed" under the one lock; another run holding it is exit 7 naming its pid.
 * A dry run meets it the same way (exit 7), without waiting for it, keeping it or creating it.
 */
describe('lifecycle: every mutating verb meets another run\'s lock before answering from the records', function () {
  const env = lifecycleWorlds(NAME, {labelPrefix: 'com.example.thed.lockverbs', defaultEtc: (version) => ({'thed.conf': `version=${version}\n`})})

  async function whileLocked(w: LifecycleWorld, fn: (pid: number) => Promise<void>): Promise<void> {
    const tool = new ToolPaths(w.root)
    mkdirSync(tool.dir, {recursive: true})
    const holder = await holdLockElsewhere(tool.lock)
    try {
      await fn(holder.pid)
    } finally {
      await holder.stop()
    }
  }

  const locked = (pid: number) => (e: unknown): boolean => lifecycle.isLifecycleError(e) && e.exitCode === ExitCode.locked && e.message.includes(`pid ${pid}`)

  it('uninstall, rollback, start, stop and restart of a daemon with no record yet: exit 7 naming the holder, nothing changed', async () => {
    const w = env.world()
    await whileLocked(w, async (pid) => {
      const before = snapshotTree(w.root)
      await assert.rejects(lifecycle.uninstall(w.ctx, NAME), locked(pid))
      await assert.rejects(lifecycle.uninstall(w.ctx, NAME, {purge: true}), locked(pid))
      await assert.rejects(lifecycle.rollback(w.ctx, NAME), locked(pid))
      await assert.rejects(lifecycle.start(w.ctx, NAME), locked(pid))
      await assert.rejects(lifecycle.stop(w.ctx, NAME), locked(pid))
      await assert.rejects(lifecycle.restart(w.ctx, NAME), locked(pid))
      // A dry run meets the lock too (without waiting for or taking it): "not installed" is no more settled for it.
      await assert.rejects(lifecycle.uninstall(w.ctx, NAME, {dryRun: true}), locked(pid))
      await assert.rejects(lifecycle.uninstall(w.ctx, NAME, {dryRun: true, purge: true}), locked(pid))
      await assert.rejects(lifecycle.rollback(w.ctx, NAME, {dryRun: true}), locked(pid))
      await assert.rejects(lifecycle.start(w.ctx, NAME, {dryRun: true}), locked(pid))
      await assert.rejects(lifecycle.stop(w.ctx, NAME, {dryRun: true}), locked(pid))
      await assert.rejects(lifecycle.restart(w.ctx, NAME, {dryRun: true}), locked(pid))
      assert.deepEqual(snapshotTree(w.root), before)
    })
    // Once the other run is done, the same uninstall is the no-op it was, and leaves no lock directory behind.
    const before = snapshotTree(w.root)
    const free = await lifecycle.uninstall(w.ctx, NAME)
    assert.equal(free.exitCode, ExitCode.ok, free.message)
    assert.match(free.message, /not installed by esdctl .*nothing to do/)
    assert.deepEqual(snapshotTree(w.root), before)
    await assert.rejects(lifecycle.rollback(w.ctx, NAME), (e: unknown) => lifecycle.isLifecycleError(e) && e.exitCode === ExitCode.badInput && /not installed/.test(e.message))
    // Nobody holds it now: the dry run answers from the records.
    const dry = await lifecycle.uninstall(w.ctx, NAME, {dryRun: true})
    assert.equal(dry.exitCode, ExitCode.ok, dry.message)
    assert.equal(dry.changed, false)
    assert.match(dry.message, /not installed by esdctl/)
  })

  it('a dry run on a machine esdctl never ran on creates nothing: no lock file, no lock directory', async () => {
    const w = env.world()
    const tool = new ToolPaths(w.root)
    assert.equal(existsSync(tool.dir), false)
    const before = snapshotTree(w.root)
    const dry = await lifecycle.uninstall(w.ctx, NAME, {dryRun: true})
    assert.equal(dry.exitCode, ExitCode.ok, dry.message)
    await assert.rejects(lifecycle.rollback(w.ctx, NAME, {dryRun: true}), (e: unknown) => lifecycle.isLifecycleError(e) && e.exitCode === ExitCode.badInput)
    const install = await lifecycle.install(w.ctx, await w.payload('1.0.0'), {dryRun: true})
    assert.equal(install.exitCode, ExitCode.ok, install.message)
    assert.equal(install.changed, true)
    assert.deepEqual(snapshotTree(w.root), before)
  })

  it('a dry run meets a link at the lock path as a real run does: unsafe environment (9), never followed', async () => {
    const w = env.world()
    const tool = new ToolPaths(w.root)
    mkdirSync(tool.dir, {recursive: true})
    const elsewhere = join(w.root, 'elsewhere')
    writeFileSync(elsewhere, 'keep\n')
    symlinkSync(elsewhere, tool.lock)
    const unsafe = (e: unknown): boolean => lifecycle.isLifecycleError(e) && e.exitCode === ExitCode.unsafeEnvironment && e.message.includes(tool.lock)
    await assert.rejects(lifecycle.uninstall(w.ctx, NAME, {dryRun: true}), unsafe)
    await assert.rejects(lifecycle.uninstall(w.ctx, NAME), unsafe)
    assert.equal(readFileSync(elsewhere, 'utf8'), 'keep\n')
  })

  it('an installed daemon: uninstall and rollback while another run holds the lock are exit 7 too, and it stays installed', async () => {
    const w = env.world()
    assert.equal((await lifecycle.install(w.ctx, await w.payload('1.0.0'))).exitCode, ExitCode.ok)
    const next = await w.payload('1.1.0')
    await whileLocked(w, async (pid) => {
      await assert.rejects(lifecycle.uninstall(w.ctx, NAME), locked(pid))
      await assert.rejects(lifecycle.rollback(w.ctx, NAME), locked(pid))
      // The records may be half written by the holder: a dry run says who holds the lock, not what it would do.
      await assert.rejects(lifecycle.uninstall(w.ctx, NAME, {dryRun: true}), locked(pid))
      await assert.rejects(lifecycle.rollback(w.ctx, NAME, {dryRun: true}), locked(pid))
      await assert.rejects(lifecycle.upgrade(w.ctx, next, {dryRun: true}), locked(pid))
    })
    const dry = await lifecycle.upgrade(w.ctx, next, {dryRun: true})
    assert.equal(dry.exitCode, ExitCode.ok, dry.message)
    assert.equal(dry.changed, true)
    assert.equal((await lifecycle.readInstallRecord(w.layout))?.version, '1.0.0')
  })
})
