import assert from 'node:assert/strict'
import {appendFileSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {ExitCode} from '../../src/exit-codes.js'
import * as lifecycle from '../../src/lifecycle/index.js'
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
})
