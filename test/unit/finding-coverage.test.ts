import {strict as assert} from 'node:assert'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {execa} from 'execa'
import Mocha from 'mocha'
import {expectFinding} from '../support/expect-finding.js'
import {findingCoverage, testFilesUnder} from '../support/finding-coverage.js'
import {REPO_ROOT} from '../support/real-artifacts.js'
import type {VerifyReport} from '../../src/verify/report.js'

const MOCHA = join(REPO_ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js')

/** A finished run: one suite per file, each test in the state given. */
function run(files: Record<string, Array<'passed' | 'failed' | 'pending' | 'unrun'>>): Mocha.Suite {
  const root = new Mocha.Suite('')
  for (const [file, states] of Object.entries(files)) {
    const suite = Mocha.Suite.create(root, file)
    suite.file = file
    states.forEach((state, i) => {
      const test = new Mocha.Test(`t${i}`, () => undefined)
      test.file = file
      if (state === 'pending') test.pending = true
      else if (state !== 'unrun') test.state = state
      suite.addTest(test)
    })
  }
  return root
}

const FAKE_CATALOGUE = ['seal.added', 'seal.missing', 'profile.expired']
const FILES = ['/t/a.test.js', '/t/b.test.js']

describe('the suite-level check: every finding id is produced by a test', () => {
  it('fails a whole-suite run naming each catalogue id no test asserted', () => {
    const v = findingCoverage(run({'/t/a.test.js': ['passed'], '/t/b.test.js': ['passed']}), {catalogue: FAKE_CATALOGUE, asserted: new Set(['seal.added']), testFiles: FILES, ci: false})
    assert.equal(v.kind, 'fail')
    assert.deepEqual(v.kind === 'fail' && v.missing, ['profile.expired', 'seal.missing'])
    assert.match(v.line, /these 2 finding ids: profile\.expired, seal\.missing/)
  })

  it('passes when every id was asserted', () => {
    const v = findingCoverage(run({'/t/a.test.js': ['passed'], '/t/b.test.js': ['failed']}), {catalogue: FAKE_CATALOGUE, asserted: new Set(FAKE_CATALOGUE), testFiles: FILES, ci: true})
    assert.equal(v.kind, 'pass')
  })

  it('stands aside, saying so, when one file ran alone or tests were filtered out', () => {
    const one = findingCoverage(run({'/t/a.test.js': ['passed']}), {catalogue: FAKE_CATALOGUE, asserted: new Set(), testFiles: FILES, ci: true})
    assert.equal(one.kind, 'partial')
    assert.match(one.line, /1 of 2 test files were not loaded/)
    const grepped = findingCoverage(run({'/t/a.test.js': ['passed', 'unrun'], '/t/b.test.js': ['passed']}), {catalogue: FAKE_CATALOGUE, asserted: new Set(), testFiles: FILES, ci: true})
    assert.equal(grepped.kind, 'partial')
  })

  it('outside CI, a run with skipped tests reports missing ids without failing; in CI it fails', () => {
    const tree = () => run({'/t/a.test.js': ['passed', 'pending'], '/t/b.test.js': ['passed']})
    assert.equal(findingCoverage(tree(), {catalogue: FAKE_CATALOGUE, asserted: new Set(), testFiles: FILES, ci: false}).kind, 'notice')
    assert.equal(findingCoverage(tree(), {catalogue: FAKE_CATALOGUE, asserted: new Set(), testFiles: FILES, ci: true}).kind, 'fail')
  })

  it('is wired in: .mocharc.json loads the hook, and npm test loads every compiled test file', () => {
    const rc = JSON.parse(readFileSync(join(REPO_ROOT, '.mocharc.json'), 'utf8')) as {require?: string[]}
    assert.ok(rc.require?.includes('dist/test/support/finding-coverage-hook.js'), '.mocharc.json must require the finding-coverage hook')
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {scripts: Record<string, string>}
    assert.match(pkg.scripts['test']!, /mocha 'dist\/test\/\*\*\/\*\.test\.js'/)
    assert.ok(testFilesUnder(join(REPO_ROOT, 'dist', 'test')).some(f => f.endsWith('finding-coverage.test.js')))
  })

  it('a run of one file with the real hook passes and says the ids were not checked', async () => {
    const r = await execa(process.execPath, [MOCHA, join(REPO_ROOT, 'dist', 'test', 'unit', 'finding-catalogue.test.js')], {cwd: REPO_ROOT, reject: false, env: {CI: 'true'}})
    assert.equal(r.exitCode, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /^finding ids: not checked, \d+ of \d+ test files were not loaded/m)
  })

  it('expectFinding insists on the catalogue severity and the exit code', () => {
    const report: VerifyReport = {ok: false, path: 'x', kind: 'bundle', slices: [], findings: [{id: 'seal.added', severity: 'error', path: 'x', message: 'm'}]}
    assert.throws(() => expectFinding(report, {id: 'seal.added', severity: 'warning', exitCode: 3}), /catalogue gives seal\.added severity error/)
    assert.throws(() => expectFinding(report, {id: 'seal.added', severity: 'error', exitCode: 0}), /expected exit code 0/)
    assert.throws(() => expectFinding(report, {id: 'seal.missing', severity: 'error', exitCode: 3}), /expected finding seal\.missing; the run produced seal\.added/)
    const forged = {...report, findings: [{...report.findings[0]!, severity: 'warning' as const}]}
    assert.throws(() => expectFinding(forged, {id: 'seal.added', severity: 'error', exitCode: 3}), /came with severity warning/)
  })
})
