import assert from 'node:assert/strict'
import {appendFileSync, cpSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {ExitCode} from '../../src/exit-codes.js'
import * as lifecycle from '../../src/lifecycle/index.js'
import {expectFinding} from '../support/expect-finding.js'
import {lifecycleWorlds, snapshotTree, type LifecycleWorld} from '../support/lifecycle-fixture.js'

const NAME = 'thed'

describe('lifecycle: review fixes (repair keeps the rollback slot, rollback judges the slot)', function () {
  const env = lifecycleWorlds(NAME, {labelPrefix: 'com.example.thed.review', defaultEtc: () => ({'thed.conf': 'x\n'})})

  async function stop(w: LifecycleWorld): Promise<void> {
    await w.ctx.launchctl.bootout(w.label, {waitMs: 10_000}).catch(() => undefined)
  }

  async function upgraded(w: LifecycleWorld): Promise<{v1: string; v2: string}> {
    const v1 = await w.payload('1.0.0')
    const v2 = await w.payload('2.0.0')
    assert.equal((await lifecycle.install(w.ctx, v1)).exitCode, ExitCode.ok)
    const up = await lifecycle.upgrade(w.ctx, v2)
    assert.equal(up.exitCode, ExitCode.ok, up.message)
    return {v1, v2}
  }

  it('a same-version repair keeps the older version in the rollback slot; rollback then returns to it', async () => {
    const w = env.world()
    const {v1, v2} = await upgraded(w)
    const slotBefore = snapshotTree(w.layout.rollbackSlot)
    appendFileSync(w.layout.executable, Buffer.from('tampered'))
    const repaired = await lifecycle.install(w.ctx, v2)
    assert.equal(repaired.exitCode, ExitCode.ok, repaired.message)
    assert.match(repaired.message, /damaged copy was discarded and the rollback slot kept/)
    assert.deepEqual(snapshotTree(w.layout.rollbackSlot), slotBefore, 'the slot still holds 1.0.0, byte for byte')
    assert.deepEqual(readFileSync(w.layout.executable), readFileSync(join(v2, `${NAME}.app`, 'Contents', 'MacOS', NAME)))
    const back = await lifecycle.rollback(w.ctx, NAME)
    assert.equal(back.exitCode, ExitCode.ok, back.message)
    assert.equal(back.toVersion, '1.0.0')
    assert.deepEqual(readFileSync(w.layout.executable), readFileSync(join(v1, `${NAME}.app`, 'Contents', 'MacOS', NAME)))
    await stop(w)
  })

  it('rollback refuses (exit 3, the findings, nothing changed) a slot bundle whose code was changed', async () => {
    const w = env.world()
    await upgraded(w)
    const slotExe = join(w.layout.rollbackSlot, `${NAME}.app`, 'Contents', 'MacOS', NAME)
    const bytes = readFileSync(slotExe)
    const at = 0x2000 // inside the 16 KiB of code the fixture signs: its page hash no longer matches
    bytes[at] = bytes[at]! ^ 0xff
    writeFileSync(slotExe, bytes)
    const before = snapshotTree(w.root)
    const dry = await lifecycle.rollback(w.ctx, NAME, {dryRun: true})
    assert.equal(dry.exitCode, ExitCode.verificationFailed, dry.message)
    const back = await lifecycle.rollback(w.ctx, NAME)
    assert.equal(back.exitCode, ExitCode.verificationFailed, back.message)
    assert.match(back.message, /rollback slot's thed\.app \(version 1\.0\.0\) failed verification; nothing was changed/)
    assert.ok((back.findings ?? []).some((f) => f.severity === 'error'), JSON.stringify(back.findings))
    assert.deepEqual(snapshotTree(w.root), before)
    await stop(w)
  })

  it('rollback refuses a validly signed slot bundle that is not the build its receipt recorded', async () => {
    const w = env.world()
    await upgraded(w)
    const other = await w.payload('1.0.0', {})
    const slotApp = join(w.layout.rollbackSlot, `${NAME}.app`)
    const mode = statSync(slotApp).mode
    rmSync(slotApp, {recursive: true})
    cpSync(join(other, `${NAME}.app`), slotApp, {recursive: true})
    assert.equal(statSync(slotApp).mode, mode)
    const before = snapshotTree(w.root)
    const back = await lifecycle.rollback(w.ctx, NAME)
    expectFinding(back, {id: 'rollback.slot-not-recorded', severity: 'error', exitCode: ExitCode.verificationFailed})
    assert.deepEqual(snapshotTree(w.root), before)
    await stop(w)
  })
})
