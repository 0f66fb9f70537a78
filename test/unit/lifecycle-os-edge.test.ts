import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import {join, relative} from 'node:path'
import {PROBE_ENVIRONMENT, runHealthProbe} from '../../src/adapters/health-probe.js'
import {makeScratchDir} from '../../src/adapters/scratch-dir.js'
import {REPO_ROOT} from '../support/real-artifacts.js'

function sources(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []))
}

/**
 * The lifecycle reaches the OS only through adapters (DESIGN.md §2): child processes (the health
 * probe) and temporary directories (the payload's scratch directory) included.
 */
describe('lifecycle: the OS edge stays in adapters', () => {
  it('no lifecycle file starts a process or makes a temporary directory itself', () => {
    const offenders = sources(join(REPO_ROOT, 'src', 'lifecycle')).flatMap((file) => {
      const text = readFileSync(file, 'utf8')
      const found = [/from 'execa'/, /from 'node:child_process'/, /from 'node:os'/, /\bmkdtemp\b/].filter((re) => re.test(text))
      return found.length > 0 ? [`${relative(REPO_ROOT, file)}: ${found.join(' ')}`] : []
    })
    assert.deepEqual(offenders, [])
  })

  it('the health probe adapter runs with the fixed environment only, and reports a failure rather than throwing', async () => {
    const env = await runHealthProbe(['/usr/bin/env'], 10_000)
    assert.equal(env.exitCode, 0)
    assert.deepEqual(env.output.split('\n').sort(), Object.entries(PROBE_ENVIRONMENT).map(([k, v]) => `${k}=${v}`).sort())
    const failing = await runHealthProbe(['/bin/sh', '-c', 'echo broken >&2; exit 3'], 10_000)
    assert.deepEqual({exitCode: failing.exitCode, timedOut: failing.timedOut, output: failing.output}, {exitCode: 3, timedOut: false, output: 'broken'})
    const slow = await runHealthProbe(['/bin/sleep', '5'], 100)
    assert.equal(slow.timedOut, true)
  })

  it('the scratch directory adapter makes a private directory and removes it whole', async () => {
    const scratch = await makeScratchDir('esdctl-test-scratch-')
    const {lstatSync, writeFileSync, existsSync} = await import('node:fs')
    assert.equal(lstatSync(scratch.path).mode & 0o777, 0o700)
    writeFileSync(join(scratch.path, 'f'), 'x')
    await scratch.dispose()
    assert.equal(existsSync(scratch.path), false)
  })
})
