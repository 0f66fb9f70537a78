import {strict as assert} from 'node:assert'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {execa} from 'execa'
import {REPO_ROOT} from '../support/real-artifacts.js'

const REPORTER = join(REPO_ROOT, 'dist', 'test', 'support', 'counting-reporter.js')
const SKIP = pathToFileURL(join(REPO_ROOT, 'dist', 'test', 'support', 'skip.js')).href
const MOCHA = join(REPO_ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js')

/** Runs mocha with the project's reporter on one spec written to a temp dir. */
async function runSpec(dir: string, body: string, ci: boolean) {
  const spec = join(dir, `s${Math.random().toString(36).slice(2)}.test.mjs`)
  await writeFile(spec, `import {skipBecause} from '${SKIP}'\n${body}\n`)
  const env = {...process.env, CI: ci ? 'true' : ''}
  return execa(process.execPath, [MOCHA, '--no-config', '--reporter', REPORTER, spec], {env, reject: false, cwd: dir})
}

describe('the closing summary counts skips by reason, and CI fails on a skip it does not expect', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'esdctl-reporter-'))
  })
  after(() => rm(dir, {recursive: true, force: true}))

  const platformSkip = process.platform === 'darwin' ? 'not-on-macos' : 'needs-macos'

  it('an expected platform skip passes in CI and is explained', async () => {
    const r = await runSpec(dir, `it('a', () => {}); it('b', function () { skipBecause(this, '${platformSkip}') })`, true)
    assert.equal(r.exitCode, 0, r.stdout)
    assert.match(r.stdout, new RegExp(`^skipped 1: ${platformSkip} — `, 'm'))
    assert.match(r.stdout, /^1 passed, 0 failed, 1 skipped$/m)
  })

  it('a root-only skip in CI is counted as a failure, and the run exits non-zero', async () => {
    const r = await runSpec(dir, `it('a', () => {}); it('b', function () { skipBecause(this, 'needs-root') })`, true)
    assert.notEqual(r.exitCode, 0)
    assert.match(r.stdout, /unexpected skip in CI \(counted as failed\): b \[needs-root\]/)
    assert.match(r.stdout, /^1 passed, 1 failed, 1 skipped$/m)
  })

  it('a skip with no reason fails in CI; outside CI it is only reported', async () => {
    const body = `it('a', () => {}); it('b', function () { this.skip() })`
    const ci = await runSpec(dir, body, true)
    assert.notEqual(ci.exitCode, 0)
    assert.match(ci.stdout, /^skipped 1: \(no reason given\)/m)
    const local = await runSpec(dir, body, false)
    assert.equal(local.exitCode, 0)
    assert.match(local.stdout, /^1 passed, 0 failed, 1 skipped$/m)
  })

  it('a skip from a before hook gives its reason to every test of the suite', async () => {
    const body = `describe('s', function () { before(function () { skipBecause(this, '${platformSkip}') }); it('a', () => {}); it('b', () => {}) })`
    const r = await runSpec(dir, body, true)
    assert.equal(r.exitCode, 0, r.stdout)
    assert.match(r.stdout, new RegExp(`^skipped 2: ${platformSkip} — `, 'm'))
  })
})
