import {strict as assert} from 'node:assert'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import fc from 'fast-check'
import {parseFileLayout} from '../../src/formats/macho.js'
import {verifyPath} from '../../src/verify/verify-path.js'
import {ARTIFACTS, realArtifact} from '../support/real-artifacts.js'

/**
 * Whatever the bytes, the verifier answers with findings: it never throws, never hangs. The
 * mutations aim at the structures a parser trusts (headers, load commands, the signature), where a
 * missing bound would bite, and truncate anywhere.
 */
describe('verify: random damage to real signed files never crashes or hangs it', function () {
  this.timeout(300_000)
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'esdctl-fuzz-'))
  })
  after(() => rm(dir, {recursive: true, force: true}))

  async function regions(path: string): Promise<{bytes: Buffer; hot: Array<[number, number]>}> {
    const bytes = await readFile(path)
    const hot: Array<[number, number]> = [[0, 8192]]
    for (const s of parseFileLayout(bytes.subarray(0, 4096), bytes.length).slices) {
      hot.push([s.offset, s.offset + 8192])
      // The signature sits at the end of each slice.
      hot.push([s.offset + s.size - 200_000, s.offset + s.size])
    }
    return {bytes, hot: hot.map(([a, b]) => [Math.max(0, a), Math.min(bytes.length, b)] as [number, number])}
  }

  for (const [name, artifact] of [['sentry-cli (universal, Developer ID)', ARTIFACTS.sentryCli], ['esbuild (linker-signed)', ARTIFACTS.esbuild]] as const) {
    it(`${name}: byte flips and overwritten words in headers and signature`, async () => {
      const {bytes, hot} = await regions(await realArtifact(artifact))
      const out = join(dir, 'm')
      let n = 0
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.record({region: fc.nat(hot.length - 1), at: fc.nat(), value: fc.oneof(fc.integer({min: 0, max: 255}), fc.constantFrom(0xffffffff, 0x7fffffff, 0x80000000, 0, 1))}), {minLength: 1, maxLength: 4}),
          async edits => {
            const copy = Buffer.from(bytes)
            for (const e of edits) {
              const [a, b] = hot[e.region]!
              const pos = a + (e.at % Math.max(1, b - a - 4))
              if (e.value > 255) copy.writeUInt32BE(e.value >>> 0, pos)
              else copy[pos] = e.value
            }
            await writeFile(out, copy)
            const r = await verifyPath(out)
            assert.equal(typeof r.ok, 'boolean')
            n++
          },
        ),
        {numRuns: 40},
      )
      assert.equal(n, 40)
    })
  }

  it('truncations anywhere give findings, not exceptions', async () => {
    const bytes = await readFile(await realArtifact(ARTIFACTS.sentryCli))
    const out = join(dir, 't')
    await fc.assert(
      fc.asyncProperty(fc.nat(bytes.length - 1), async len => {
        await writeFile(out, bytes.subarray(0, len))
        const r = await verifyPath(out)
        assert.equal(r.ok, len === bytes.length)
        assert.ok(r.findings.length > 0)
      }),
      {numRuns: 25},
    )
  })
})
