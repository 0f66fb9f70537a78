import assert from 'node:assert/strict'
import {mkdir, mkdtemp, rm, truncate, writeFile} from 'node:fs/promises'
import {availableParallelism, tmpdir} from 'node:os'
import {join} from 'node:path'
import {PageHashPool} from '../../src/io/page-hash-pool.js'
import {PARALLEL_THRESHOLD_BYTES, warmPageHashingFor} from '../../src/io/page-hasher.js'
import {verifyPath} from '../../src/verify/verify-path.js'
import {buildSignedMachO} from '../support/macho-writer.js'
import {skipBecause} from '../support/skip.js'

describe('warming the page-hashing workers before verify', function () {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'esdctl-warm-'))
  })
  after(async () => {
    PageHashPool.releaseShared()
    await rm(dir, {recursive: true, force: true})
  })

  it('does not boot workers for everyday inputs: a small file, a small bundle, a missing path, no path', async () => {
    await writeFile(join(dir, 'small'), Buffer.alloc(4096))
    await mkdir(join(dir, 'a.app', 'Contents', 'MacOS'), {recursive: true})
    await writeFile(join(dir, 'a.app', 'Contents', 'MacOS', 'a'), Buffer.alloc(3 * 1024 * 1024))
    assert.equal(warmPageHashingFor(join(dir, 'small')), false)
    assert.equal(warmPageHashingFor(join(dir, 'a.app')), false)
    assert.equal(warmPageHashingFor(join(dir, 'absent')), false)
    assert.equal(warmPageHashingFor(undefined), false)
  })

  it('boots them for a bundle whose executables hold more than the parallel threshold', async function () {
    if (availableParallelism() < 2) skipBecause(this, 'one-core')
    await mkdir(join(dir, 'big.app', 'Contents', 'MacOS'), {recursive: true})
    const exe = join(dir, 'big.app', 'Contents', 'MacOS', 'big')
    await writeFile(exe, '')
    await truncate(exe, PARALLEL_THRESHOLD_BYTES + 1) // sparse: no real bytes written
    assert.equal(warmPageHashingFor(join(dir, 'big.app')), true)
  })

  it('verify hashes with the pool its caller gives, not the process-wide one', async () => {
    const exe = join(dir, 'given-pool')
    await writeFile(exe, await buildSignedMachO({arch: 'arm64', codeSize: 256 * 1024}, {identifier: 'com.example.pool'}))
    const pool = PageHashPool.start(1)
    let acquired = 0
    const acquire = pool.acquire.bind(pool)
    pool.acquire = () => {
      acquired++
      return acquire()
    }
    try {
      const report = await verifyPath(exe, {pageHashing: {parallel: 1, pool}})
      assert.deepEqual(report.findings.filter((f) => f.id.startsWith('signature.code')), [])
      assert.equal(acquired, 1, 'the given pool hashed the pages')
    } finally {
      await pool.close()
    }
  })
})
