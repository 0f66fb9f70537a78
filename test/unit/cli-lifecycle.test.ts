import {strict as assert} from 'node:assert'
import {rmSync} from 'node:fs'
import {join} from 'node:path'
import {execa} from 'execa'
import {parsePropertyListDict} from '../../src/formats/property-list.js'
import {buildPayload, makeRoot, snapshotTree, testIdentity} from '../support/lifecycle-fixture.js'
import {REPO_ROOT} from '../support/real-artifacts.js'
import {cliRun, expectFinding} from '../support/expect-finding.js'

const RUN = join(REPO_ROOT, 'bin', 'run.js')

function esdctl(args: string[], opts: {uid?: number} = {}) {
  return execa(process.execPath, [RUN, ...args], {reject: false, env: {NODE_OPTIONS: '', NODE_PATH: ''}, ...opts})
}

/**
 * The lifecycle commands as processes. The production context talks to /bin/launchctl, so these
 * tests cover what happens before launchd is asked: refusals, verification with Apple's trust
 * store, rendering and exit codes. The transactions themselves are tested through the library
 * with the fake launchd.
 */
describe('esdctl install/upgrade/uninstall/plist (the commands, as processes)', function () {
  this.timeout(60_000)
  let root: string
  let payload: string
  before(async () => {
    root = makeRoot()
    const {identity} = await testIdentity()
    payload = await buildPayload({dir: join(root, '..', `${root.split('/').pop()}-payload`), name: 'esdd', label: 'com.example.esdd', version: '1.0.0', identity, etc: {'esdd.conf': 'x=1\n'}})
  })
  after(() => {
    rmSync(root, {recursive: true, force: true})
    rmSync(payload, {recursive: true, force: true})
  })

  it('install refuses a bundle Apple would not trust: exit 3, the findings, nothing written', async () => {
    const before = snapshotTree(root)
    const r = await esdctl(['install', '--root', root, '--json', payload])
    assert.equal(r.exitCode, 3, r.stdout + r.stderr)
    const out = JSON.parse(r.stdout)
    assert.equal(out.failed, true)
    assert.equal(out.rc, 3)
    assert.equal(out.changed, false)
    expectFinding(cliRun(r), {id: 'cms.untrusted', severity: 'error', exitCode: 3})
    assert.deepEqual(snapshotTree(root), before)
  })

  it("install names a manifest teamId the signature does not carry, in --json: install.team-mismatch, exit 3", async () => {
    const {identity} = await testIdentity()
    const other = await buildPayload({dir: `${root}-payload-team`, name: 'esdd', label: 'com.example.esdd', version: '1.0.0', identity, manifest: {teamId: 'OTHERTEAM1'}})
    try {
      const before = snapshotTree(root)
      const r = await esdctl(['install', '--root', root, '--json', other])
      const f = expectFinding(cliRun(r), {id: 'install.team-mismatch', severity: 'error', exitCode: 3})
      assert.match(f.message, /the manifest says teamId OTHERTEAM1/)
      assert.deepEqual(snapshotTree(root), before)
    } finally {
      rmSync(other, {recursive: true, force: true})
    }
  })

  it('prints the findings and their fixes for people', async () => {
    const r = await esdctl(['install', '--root', root, payload])
    assert.equal(r.exitCode, 3)
    assert.match(r.stdout, /\[cms\.untrusted\]/)
    assert.match(r.stdout, /fix: /)
    assert.match(r.stdout, /^✖ /m)
  })

  it('refuses to run without root: exit 8, nothing written', async () => {
    const before = snapshotTree(root)
    const r = await esdctl(['install', '--root', root, payload], {uid: 65534})
    assert.equal(r.exitCode, 8, r.stdout + r.stderr)
    assert.match(r.stdout + r.stderr, /root/)
    assert.deepEqual(snapshotTree(root), before)
  })

  it('a payload without a manifest is bad input: exit 4, naming the file', async () => {
    const r = await esdctl(['install', '--root', root, '--json', join(root, 'nowhere')])
    assert.equal(r.exitCode, 4, r.stdout + r.stderr)
    assert.match(JSON.parse(r.stdout).msg, /nowhere/)
  })

  it('upgrade of a daemon that is not installed is bad input; uninstall of one is a no-op (exit 0, changed false) for re-runs', async () => {
    const up = await esdctl(['upgrade', '--root', root, '--json', payload])
    assert.equal(up.exitCode, 4, up.stdout)
    assert.match(JSON.parse(up.stdout).msg, /use esdctl install/)
    const un = await esdctl(['uninstall', '--root', root, '--json', 'esdd'])
    assert.equal(un.exitCode, 0, un.stdout)
    const json = JSON.parse(un.stdout) as {changed: boolean; msg: string}
    assert.equal(json.changed, false)
    assert.match(json.msg, /esdd is not installed by esdctl .*nothing to do/)
  })

  it('plist prints what install would write: Program inside the bundle, root:wheel 0644', async () => {
    const r = await esdctl(['plist', payload])
    assert.equal(r.exitCode, 0, r.stderr)
    assert.match(r.stderr, /\/Library\/LaunchDaemons\/com\.example\.esdd\.plist \(root:wheel 0644\)/)
    assert.ok(r.stdout.startsWith('<?xml'), 'stdout is the plist alone, so a redirect writes a valid file')
    const dict = parsePropertyListDict(Buffer.from(r.stdout), 'plist')
    assert.equal(dict.Program, '/opt/esdd/esdd.app/Contents/MacOS/esdd')
    assert.equal(dict.Label, 'com.example.esdd')
  })
})
