import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {processAlive, tryLock} from '../../src/adapters/lock.js'

describe('the one lock: O_EXCL file with the holder pid, stale locks taken over', () => {
  let dir: string
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'esdctl-lock-'))))
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  it('a second attempt while the holder lives is refused and names the holder', async () => {
    const path = join(dir, 'lock')
    const first = await tryLock(path, process.pid)
    assert.equal(first.acquired, true)
    assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`)
    const second = await tryLock(path, 4242, () => true)
    assert.deepEqual(second, {acquired: false, holderPid: process.pid})
    if (first.acquired) await first.lock.release()
    assert.equal(existsSync(path), false)
  })

  it('a lock whose holder is dead is taken over and says from whom', async () => {
    const path = join(dir, 'lock')
    writeFileSync(path, '999999\n')
    const attempt = await tryLock(path, process.pid, (pid) => pid !== 999999)
    assert.equal(attempt.acquired, true)
    assert.equal(attempt.acquired && attempt.tookOverFrom, 999999)
    assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`)
  })

  it('a lock file without a pid is treated as held, never stolen', async () => {
    const path = join(dir, 'lock')
    writeFileSync(path, 'garbage')
    assert.deepEqual(await tryLock(path, process.pid, () => false), {acquired: false, holderPid: undefined})
  })

  it('processAlive tells a live pid from a dead one', () => {
    assert.equal(processAlive(process.pid), true)
    assert.equal(processAlive(2 ** 22 + 12345), false)
  })
})
