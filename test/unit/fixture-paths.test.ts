import {strict as assert} from 'node:assert'
import {readdirSync, readFileSync} from 'node:fs'
import {join, relative} from 'node:path'
import {REPO_ROOT} from '../support/real-artifacts.js'

function sources(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap(e => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []))
}

/**
 * The shared fixtures are found relative to the checkout (`../shared/fixtures`), never at a path
 * of one machine: a test that names an absolute fixture path passes on that machine only.
 */
describe('the shared fixtures are named relative to the checkout', () => {
  it('no source names an absolute path into a shared/fixtures folder', () => {
    const offenders = ['src', 'test', 'bench', 'scripts', 'fuzz'].flatMap(d => sources(join(REPO_ROOT, d)))
      .filter(f => /['"`]\/[^'"`\n]*\/shared\/fixtures\//.test(readFileSync(f, 'utf8')))
      .map(f => relative(REPO_ROOT, f))
    assert.deepEqual(offenders, [])
  })
})
