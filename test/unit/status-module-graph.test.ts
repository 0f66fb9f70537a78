import {strict as assert} from 'node:assert'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {moduleGraph} from '../support/module-graph.js'
import {REPO_ROOT} from '../support/real-artifacts.js'

/** What `status` must never pay for at start-up: verification, X.509/CMS, task lists, schemas, pretty-printers, plist parsing. */
const FORBIDDEN: ReadonlyArray<readonly [string, RegExp]> = [
  ['the verifier', /\/dist\/src\/verify\//],
  ['the trust/CMS code', /\/dist\/src\/(trust|formats\/cms|formats\/certificate)/],
  ['pkijs', /\/node_modules\/pkijs\//],
  ['asn1js', /\/node_modules\/asn1js\//],
  ['listr2', /\/node_modules\/listr2\//],
  ['ajv', /\/node_modules\/ajv\//],
  ['pino', /\/node_modules\/pino/],
  ['the plist parser', /\/node_modules\/(plist|@xmldom)\//],
  ['pretty-printers', /\/node_modules\/(cli-highlight|cli-table3|prettyjson|pino-pretty|@oclif\/table)\//],
]

describe('esdctl status start-up path', function () {
  this.timeout(60_000)

  it('loads launchctl and the records but none of the heavy modules', async () => {
    const graph = await moduleGraph(join(REPO_ROOT, 'dist/src/commands/status.js'))
    // The graph really was recorded: the pieces status needs are in it.
    for (const needed of ['/dist/src/status/status-report.js', '/dist/src/adapters/launchctl.js', '/dist/src/records/install-record.js']) {
      assert.ok(graph.some((url) => url.endsWith(needed)), `${needed} should be loaded`)
    }
    for (const [what, pattern] of FORBIDDEN) {
      const hits = graph.filter((url) => pattern.test(url))
      assert.deepEqual(hits, [], `status must not load ${what}`)
    }
  })

  describe('bin/run.js status (the path without oclif)', () => {
    let root: string
    before(async () => {
      // An empty root: status reads the registry, finds nothing, and never needs launchctl.
      root = await mkdtemp(join(tmpdir(), 'esdctl-module-graph-root-'))
    })
    after(async () => {
      await rm(root, {recursive: true, force: true})
    })

    /** Beyond the list above, the fast path must not pay for oclif or a process library either. */
    const FORBIDDEN_WITHOUT_OCLIF: ReadonlyArray<readonly [string, RegExp]> = [
      ...FORBIDDEN,
      ['oclif', /\/node_modules\/@oclif\//],
      ['execa', /\/node_modules\/execa\//],
    ]

    it('runs the status library and loads neither oclif nor any heavy module', async () => {
      const graph = await moduleGraph(join(REPO_ROOT, 'bin/run.js'), ['status', '--json', '--root', root])
      for (const needed of ['/dist/src/status/run-status.js', '/dist/src/status/status-report.js', '/dist/src/adapters/launchctl.js', '/dist/src/records/registry.js']) {
        assert.ok(graph.some((url) => url.endsWith(needed)), `${needed} should be loaded`)
      }
      for (const [what, pattern] of FORBIDDEN_WITHOUT_OCLIF) {
        const hits = graph.filter((url) => pattern.test(url))
        assert.deepEqual(hits, [], `bin/run.js status must not load ${what}`)
      }
    })

    it('would notice oclif (status --help goes through it)', async () => {
      const graph = await moduleGraph(join(REPO_ROOT, 'bin/run.js'), ['status', '--help', '--root', root])
      assert.ok(graph.some((url) => /\/node_modules\/@oclif\/core\//.test(url)))
    })
  })

  it('would notice a heavy module (the verify command loads the verifier)', async () => {
    const graph = await moduleGraph(join(REPO_ROOT, 'dist/src/commands/verify.js'))
    assert.ok(graph.some((url) => FORBIDDEN[0]![1].test(url)))
    // The verifier loads neither pkijs nor asn1js since the speed work of issue 11; the entitlements encoder still loads asn1js.
    const encoder = await moduleGraph(join(REPO_ROOT, 'dist/src/formats/der-entitlements-encode.js'))
    assert.ok(encoder.some((url) => FORBIDDEN[3]![1].test(url)))
  })
})
