import assert from 'node:assert/strict'
import {existsSync, rmSync} from 'node:fs'
import {ExitCode} from '../../src/exit-codes.js'
import * as lifecycle from '../../src/lifecycle/index.js'
import {PrefixLayout} from '../../src/layout/prefix-layout.js'
import {startFakeLaunchd, type FakeLaunchd} from '../doubles/fake-launchd/fake-launchd.js'
import {buildPayload, makeRoot, sampleDaemonPrograms, systemExecutable, testContext, testIdentity} from '../support/lifecycle-fixture.js'

/**
 * The health check when the kernel refuses the daemon for its code signature: launchd records
 * `last exit reason = OS_REASON_CODESIGNING`, `job state = spawn failed` and no pid (the 04
 * transcript). The install is rolled back at once, and the reason is given in words.
 */
describe('lifecycle: a daemon macOS kills for its code signature', function () {
  this.timeout(60_000)
  let launchd: FakeLaunchd
  const paths: string[] = []
  before(async () => {
    launchd = await startFakeLaunchd({programs: sampleDaemonPrograms(['signed']), codeSigningKills: [systemExecutable('signed')]})
  })
  after(async () => {
    await launchd.stop()
    for (const p of paths) rmSync(p, {recursive: true, force: true})
  })

  it('install fails its health check naming the code-signing kill and esdctl verify, well before the start timeout, and leaves nothing installed', async () => {
    const {identity, trust} = await testIdentity()
    const root = makeRoot()
    paths.push(root, `${root}-payload`)
    const payload = await buildPayload({dir: `${root}-payload`, name: 'signed', label: 'com.example.signed', version: '1.0.0', identity})
    const started = performance.now()
    const r = await lifecycle.install(testContext({root, launchctlPath: launchd.launchctlPath, trust}), payload)
    assert.equal(r.exitCode, ExitCode.launchdFailed, r.message)
    assert.equal(r.rolledBack, true)
    assert.match(r.message, /macOS killed it for its code signature \(OS_REASON_CODESIGNING\) \(job state = spawn failed\).*esdctl verify/)
    assert.ok(performance.now() - started < 9_000, 'launchd gave its verdict; the 10 s start timeout was not waited out')
    assert.equal(existsSync(new PrefixLayout({name: 'signed', label: 'com.example.signed', root}).app), false, 'rolled back')
  })
})
