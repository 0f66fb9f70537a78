import {strict as assert} from 'node:assert'
import {chmodSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {execa} from 'execa'
import * as plist from 'plist'
import {startFakeLaunchd, type FakeLaunchd} from '../doubles/fake-launchd/fake-launchd.js'
import {waitUntilDaemonStarted, writeSampleDaemonPlist} from '../doubles/fake-launchd/daemon-plist.js'
import {waitFor} from '../doubles/wait-for.js'

const LABEL = 'com.example.esd'

/**
 * The fake launchctl on its own: what it prints and how it exits, since the adapter only sees
 * those. (Behaviour through the adapter is in launchctl-adapter.test.ts.)
 */
describe('fake launchd: launchctl output and exit codes', function () {
  this.timeout(20_000)
  let launchd: FakeLaunchd
  const launchctl = (...args: string[]) => execa(launchd.launchctlPath, args, {reject: false})

  beforeEach(async () => {
    launchd = await startFakeLaunchd()
  })
  afterEach(async () => {
    await launchd.stop()
  })

  it('prints a loaded service in launchctl\'s shape', async () => {
    const path = writeSampleDaemonPlist(launchd.stateDir, {label: LABEL})
    assert.equal((await launchctl('bootstrap', 'system', path)).exitCode, 0)
    const print = await launchctl('print', `system/${LABEL}`)
    assert.equal(print.exitCode, 0)
    const lines = print.stdout.split('\n')
    assert.equal(lines[0], `system/${LABEL} = {`)
    for (const field of [/^\tstate = running$/, /^\tpid = \d+$/, /^\truns = 1$/, /^\tlast exit code = \(never exited\)$/, new RegExp(`^\\tprogram = ${process.execPath}$`), new RegExp(`^\\tpath = ${path}$`)]) {
      assert.ok(lines.some((l) => field.test(l)), `no line matching ${field}`)
    }
  })

  it('answers an unknown service with 113 and launchctl\'s words', async () => {
    const print = await launchctl('print', 'system/com.example.absent')
    assert.deepEqual([print.exitCode, print.stdout, print.stderr], [113, '', 'Bad request.\nCould not find service "com.example.absent" in domain for system'])
    const bootout = await launchctl('bootout', 'system/com.example.absent')
    assert.deepEqual([bootout.exitCode, bootout.stderr], [3, 'Boot-out failed: 3: No such process'])
  })

  it('prints bootstrap failures the way launchctl does', async () => {
    const path = writeSampleDaemonPlist(launchd.stateDir, {label: LABEL})
    await launchctl('bootstrap', 'system', path)
    const again = await launchctl('bootstrap', 'system', path)
    assert.deepEqual([again.exitCode, again.stderr], [37, 'Bootstrap failed: 37: Operation already in progress'])
    const missing = await launchctl('bootstrap', 'system', join(launchd.stateDir, 'absent.plist'))
    assert.deepEqual([missing.exitCode, missing.stderr], [2, 'Bootstrap failed: 2: No such file or directory'])
    const garbage = join(launchd.stateDir, 'garbage.plist')
    writeFileSync(garbage, 'not a plist')
    chmodSync(garbage, 0o644)
    const malformed = await launchctl('bootstrap', 'system', garbage)
    assert.deepEqual([malformed.exitCode, malformed.stderr], [5, 'Bootstrap failed: 5: Input/output error'])
  })

  it('prints disabled services with the enabled/disabled words', async () => {
    await launchctl('disable', `system/${LABEL}`)
    await launchctl('enable', 'system/com.example.other')
    const out = await launchctl('print-disabled', 'system')
    assert.equal(out.exitCode, 0)
    assert.match(out.stdout, /^disabled services = \{\n\t"com\.example\.esd" => disabled\n\t"com\.example\.other" => enabled\n\}/)
  })

  it('does not model the legacy load/unload verbs, so nothing can come to depend on them', async () => {
    const load = await launchctl('load', '-w', join(launchd.stateDir, 'x.plist'))
    assert.equal(load.exitCode, 64)
    assert.match(load.stderr, /Unrecognized subcommand: load/)
  })

  it('records a program that cannot be executed as exit code 78 (EX_CONFIG)', async () => {
    const path = join(launchd.stateDir, `${LABEL}.plist`)
    writeFileSync(path, plist.build({Label: LABEL, Program: join(launchd.stateDir, 'no-such-daemon'), RunAtLoad: true}))
    chmodSync(path, 0o644)
    await launchctl('bootstrap', 'system', path)
    const print = await waitFor('the failed spawn', async () => {
      const out = await launchctl('print', `system/${LABEL}`)
      return /last exit code = 78: EX_CONFIG/.test(out.stdout) ? out.stdout : undefined
    })
    assert.match(print, /\tstate = not running\n/)
  })

  it('with KeepAlive {SuccessfulExit: false}, leaves a clean exit down', async () => {
    const path = writeSampleDaemonPlist(launchd.stateDir, {label: LABEL, daemonArgs: ['--exit-after', '20'], keepAlive: {SuccessfulExit: false}, throttleInterval: 1})
    await launchctl('bootstrap', 'system', path)
    await waitFor('the exit', async () => (launchd.events().some((e) => e.event === 'job-exited') ? true : undefined))
    assert.equal(launchd.events().filter((e) => e.event === 'job-respawn-scheduled').length, 0)
    assert.match((await launchctl('print', `system/${LABEL}`)).stdout, /\truns = 1\n[\s\S]*\tlast exit code = 0\n/)
  })

  it('logs bootout called/returned, job exit and the next bootstrap with ordered timestamps', async () => {
    const path = writeSampleDaemonPlist(launchd.stateDir, {label: LABEL, daemonArgs: ['--term-delay', '100']})
    await launchctl('bootstrap', 'system', path)
    const pid = Number(/\tpid = (\d+)/.exec((await launchctl('print', `system/${LABEL}`)).stdout)![1])
    await waitUntilDaemonStarted(launchd.stateDir, LABEL, pid)
    await launchctl('bootout', `system/${LABEL}`)
    await waitFor('removal', async () => ((await launchctl('print', `system/${LABEL}`)).exitCode === 113 ? true : undefined))
    await launchctl('bootstrap', 'system', path)
    const order = launchd.events()
      .filter((e) => ['bootout-called', 'bootout-returned', 'job-exited', 'service-removed', 'bootstrap-called'].includes(e.event))
      .slice(1)
    assert.deepEqual(order.map((e) => e.event), ['bootout-called', 'bootout-returned', 'job-exited', 'service-removed', 'bootstrap-called'])
    for (let i = 1; i < order.length; i++) assert.ok(order[i]!.t >= order[i - 1]!.t)
    assert.equal(order[2]!.pid, pid)
  })

  it('kills every daemon it started when it stops', async () => {
    const path = writeSampleDaemonPlist(launchd.stateDir, {label: LABEL, daemonArgs: ['--ignore-sigterm']})
    await launchctl('bootstrap', 'system', path)
    const pid = Number(/\tpid = (\d+)/.exec((await launchctl('print', `system/${LABEL}`)).stdout)![1])
    await launchd.stop()
    // Gone, not a zombie: the fake launchd reaps its children before it exits.
    assert.throws(() => process.kill(pid, 0), /ESRCH/)
    launchd = await startFakeLaunchd()
  })
})
