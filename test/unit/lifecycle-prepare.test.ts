import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {ExitCode} from '../../src/exit-codes.js'
import * as lifecycle from '../../src/lifecycle/index.js'
import {refusal} from '../support/lifecycle-assertions.js'
import {lifecycleWorlds, snapshotTree, type LifecycleWorld} from '../support/lifecycle-fixture.js'
import {createTestPki} from '../support/test-pki.js'

const NAME = 'thed'

/**
 * Judging, staging and deciding happen before the journal opens, so a payload the run cannot use is
 * bad input (4) or a failed verification (3) with nothing changed, on a first install and on an
 * upgrade alike, never "rolled back" (6) or "launchd failed" (5); and dry run decides the same way.
 */
describe('lifecycle prepare phase: a bad payload is refused before anything changes', function () {
  const env = lifecycleWorlds(NAME, {labelPrefix: 'com.example.thed.prep', defaultEtc: () => ({'thed.conf': 'x\n'})})

  async function installed(): Promise<LifecycleWorld> {
    const w = env.world()
    assert.equal((await lifecycle.install(w.ctx, await w.payload('1.0.0'))).exitCode, ExitCode.ok)
    return w
  }

  async function runningPid(w: LifecycleWorld): Promise<number | undefined> {
    const info = await w.ctx.launchctl.print(w.label)
    return info?.state === 'running' ? info.pid : undefined
  }

  async function stop(w: LifecycleWorld): Promise<void> {
    await w.ctx.launchctl.bootout(w.label, {waitMs: 10_000}).catch(() => undefined)
  }

  async function withFifo(w: LifecycleWorld, version: string): Promise<string> {
    const payload = await w.payload(version)
    mkdirSync(join(payload, 'lib'), {recursive: true})
    execFileSync('mkfifo', [join(payload, 'lib', 'pipe')])
    return payload
  }

  it('a FIFO under lib/: install is bad input (4) naming the entry; nothing on disk changes', async () => {
    const w = env.world()
    const payload = await withFifo(w, '1.0.0')
    const before = snapshotTree(w.root)
    for (const dryRun of [false, true]) {
      const e = await refusal(() => lifecycle.install(w.ctx, payload, {dryRun}))
      assert.equal(e.exitCode, ExitCode.badInput, e.message)
      assert.match(e.message, /"lib\/pipe" is neither a file, a directory nor a symbolic link/)
    }
    assert.deepEqual(snapshotTree(w.root), before)
    assert.equal(await w.ctx.launchctl.print(w.label), undefined)
  })

  it('a FIFO under lib/: upgrade is bad input (4), the installed version keeps running untouched', async () => {
    const w = await installed()
    const pid = await runningPid(w)
    const payload = await withFifo(w, '2.0.0')
    const before = snapshotTree(w.root)
    const e = await refusal(() => lifecycle.upgrade(w.ctx, payload))
    assert.equal(e.exitCode, ExitCode.badInput, e.message)
    assert.deepEqual(snapshotTree(w.root), before)
    assert.equal(await runningPid(w), pid)
    await stop(w)
  })

  it('failed verification on upgrade: 3 with findings, no journal ever opened, the old version keeps running', async () => {
    const w = await installed()
    const pid = await runningPid(w)
    const otherTeam = await (await createTestPki()).developerId('ZZZZZ99999')
    const payload = await w.payload('2.0.0', {identity: otherTeam})
    const before = snapshotTree(w.root)
    const points: string[] = []
    const result = await lifecycle.upgrade({...w.ctx, faultHook: (p) => void points.push(p)}, payload)
    assert.equal(result.exitCode, ExitCode.verificationFailed, result.message)
    assert.equal(result.rolledBack, undefined)
    assert.ok(result.findings!.some((f) => f.severity === 'error'))
    assert.deepEqual(points, [], 'the journal never opened')
    assert.deepEqual(snapshotTree(w.root), before)
    assert.equal(await runningPid(w), pid)
    await stop(w)
  })

  it('a bad manifest on upgrade: 4 naming esdctl.json and the field; nothing changes', async () => {
    const w = await installed()
    const payload = await w.payload('2.0.0', {manifest: {ThrottleInterval: -3}})
    const before = snapshotTree(w.root)
    const e = await refusal(() => lifecycle.upgrade(w.ctx, payload))
    assert.equal(e.exitCode, ExitCode.badInput)
    assert.match(e.message, /esdctl\.json/)
    assert.match(e.message, /ThrottleInterval/)
    assert.deepEqual(snapshotTree(w.root), before)
    await stop(w)
  })

  it('a downgrade: the dry run and the real run give the same refusal (4); nothing changes', async () => {
    const w = env.world()
    assert.equal((await lifecycle.install(w.ctx, await w.payload('2.0.0'))).exitCode, ExitCode.ok)
    const older = await w.payload('1.9.9')
    const before = snapshotTree(w.root)
    const dry = await lifecycle.upgrade(w.ctx, older, {dryRun: true})
    const real = await lifecycle.upgrade(w.ctx, older)
    for (const r of [dry, real]) {
      assert.equal(r.exitCode, ExitCode.badInput, r.message)
      assert.match(r.message, /refusing to downgrade thed from 2\.0\.0 to 1\.9\.9/)
    }
    assert.equal(dry.message, real.message)
    assert.deepEqual(snapshotTree(w.root), before)
    await stop(w)
  })

  it('a staging directory left by a run that died while preparing is removed by the next run', async () => {
    const w = await installed()
    const leftover = join(w.layout.staging, '20261130T000000000Z-deadbeef')
    mkdirSync(join(leftover, 'payload'), {recursive: true})
    writeFileSync(join(leftover, 'payload', 'esdctl.json'), '{}')
    const result = await lifecycle.upgrade(w.ctx, await w.payload('2.0.0'))
    assert.equal(result.exitCode, ExitCode.ok, result.message)
    assert.match(result.recovered ?? '', /removed 1 staging directory/)
    assert.ok(!existsSync(leftover))
    assert.deepEqual(readdirSync(w.layout.staging), [])
    await stop(w)
  })
})
