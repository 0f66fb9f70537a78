import {strict as assert} from 'node:assert'
import {join} from 'node:path'
import {execa} from 'execa'
import {REPO_ROOT} from '../support/real-artifacts.js'

const RUN = join(REPO_ROOT, 'bin', 'run.js')

function esdctl(...args: string[]) {
  return execa(process.execPath, [RUN, ...args], {reject: false, env: {NODE_OPTIONS: ''}})
}

describe('esdctl help', function () {
  this.timeout(60_000)

  it('`esdctl help` lists every command, as people type it after git and npm', async () => {
    const r = await esdctl('help')
    assert.equal(r.exitCode, 0, r.stderr)
    for (const command of ['verify', 'install', 'upgrade', 'rollback', 'uninstall', 'start', 'stop', 'restart', 'status', 'doctor', 'bundle', 'payload']) {
      assert.match(r.stdout, new RegExp(`^ {2}${command} `, 'm'), `help lists ${command}`)
    }
  })

  it('`esdctl help install` is the same text as `esdctl install --help`', async () => {
    const [viaHelp, viaFlag] = await Promise.all([esdctl('help', 'install'), esdctl('install', '--help')])
    assert.equal(viaHelp.exitCode, 0, viaHelp.stderr)
    assert.match(viaHelp.stdout, /^USAGE\n {2}\$ esdctl install PAYLOAD/m)
    assert.equal(viaHelp.stdout, viaFlag.stdout)
  })
})
