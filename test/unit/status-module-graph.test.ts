import {strict as assert} from 'node:assert'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {execa} from 'execa'
import {REPO_ROOT} from '../support/real-artifacts.js'

/**
 * Loads a module in a fresh Node and lists every module URL it resolved (ESM imports and CommonJS
 * requires alike, through Node's synchronous module hooks).
 */
async function moduleGraph(entry: string): Promise<string[]> {
  const script = `
    import {registerHooks} from 'node:module'
    const seen = new Set()
    registerHooks({resolve(specifier, context, next) { const r = next(specifier, context); seen.add(r.url); return r }})
    await import(${JSON.stringify(pathToFileURL(entry).href)})
    process.stdout.write(JSON.stringify([...seen]))
  `
  const {stdout} = await execa(process.execPath, ['--input-type=module', '-e', script], {cwd: REPO_ROOT})
  return JSON.parse(stdout) as string[]
}

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

  it('would notice a heavy module (the verify command loads the verifier)', async () => {
    const graph = await moduleGraph(join(REPO_ROOT, 'dist/src/commands/verify.js'))
    assert.ok(graph.some((url) => FORBIDDEN[0]![1].test(url)))
    assert.ok(graph.some((url) => FORBIDDEN[2]![1].test(url)))
  })
})
