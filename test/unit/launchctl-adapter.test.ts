import {strict as assert} from 'node:assert'
import {chmodSync, chownSync} from 'node:fs'
import {execa} from 'execa'
import {LaunchctlAdapter, LaunchctlError, type LaunchctlClock} from '../../src/adapters/launchctl.js'
import {startFakeLaunchd, type ErrorStyle, type FakeLaunchd, type LaunchdEvent} from '../doubles/fake-launchd/fake-launchd.js'
import {waitUntilDaemonStarted, writeSampleDaemonPlist, type SampleDaemonJob} from '../doubles/fake-launchd/daemon-plist.js'
import {waitFor} from '../doubles/wait-for.js'
import {skipBecause} from '../support/skip.js'

const LABEL = 'com.example.esd'

/** A real clock that also remembers each backoff the adapter asked for. */
function recordingClock(): LaunchctlClock & {sleeps: number[]} {
  const sleeps: number[] = []
  return {
    sleeps,
    now: () => performance.now(),
    sleep: (ms) => {
      sleeps.push(ms)
      return new Promise((resolve) => setTimeout(resolve, ms))
    },
  }
}

function expectLaunchctlError(code: number, explanation: RegExp): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof LaunchctlError, `expected a LaunchctlError, got ${String(e)}`)
    assert.equal(e.code, code, e.message)
    assert.match(e.explanation, explanation)
    return true
  }
}

function named(events: LaunchdEvent[], name: string): LaunchdEvent[] {
  return events.filter((e) => e.event === name)
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

for (const errorStyle of ['modern', 'legacy'] as ErrorStyle[]) {
  describe(`launchctl adapter against the fake launchd (${errorStyle} error codes)`, function () {
    this.timeout(20_000)
    let launchd: FakeLaunchd
    let launchctl: LaunchctlAdapter
    const specific = (code: number) => (errorStyle === 'modern' ? code : 5)
    const plist = (job: Partial<SampleDaemonJob> = {}) => writeSampleDaemonPlist(launchd.stateDir, {label: LABEL, ...job})
    /** The pid of the running daemon, once it is far enough along to handle SIGTERM. */
    const startedPid = async () => {
      const pid = (await launchctl.print(LABEL))!.pid!
      await waitUntilDaemonStarted(launchd.stateDir, LABEL, pid)
      return pid
    }

    beforeEach(async () => {
      launchd = await startFakeLaunchd({errorStyle})
      launchctl = new LaunchctlAdapter({executable: launchd.launchctlPath})
    })
    afterEach(async () => {
      await launchd.stop()
    })

    it('refuses a plist not owned by root (122 is final; the catch-all 5 is worth a retry)', async function () {
      // Handing the plist to another uid takes root; the suite normally runs as root.
      if (process.getuid?.() !== 0) skipBecause(this, 'needs-root')
      const path = plist()
      chownSync(path, 4321, 0)
      await assert.rejects(launchctl.bootstrap(path, {retries: 1}), expectLaunchctlError(specific(122), errorStyle === 'modern' ? /owned by root/ : /catch-all/))
      assert.equal(named(launchd.events(), 'bootstrap-called').length, errorStyle === 'modern' ? 1 : 2, '5 is retried, 122 is not')
      assert.equal(await launchctl.print(LABEL), undefined)
    })

    it('refuses a group-writable plist', async () => {
      const path = plist()
      chmodSync(path, 0o664)
      await assert.rejects(launchctl.bootstrap(path, {retries: 0}), expectLaunchctlError(specific(122), /./))
    })

    it('refuses to bootstrap a disabled service, and the disable survives bootout', async () => {
      const path = plist()
      await launchctl.bootstrap(path)
      await launchctl.disable(LABEL)
      assert.equal(await launchctl.isDisabled(LABEL), true)
      await launchctl.bootout(LABEL, {waitMs: 5_000})
      await assert.rejects(launchctl.bootstrap(path, {retries: 0}), expectLaunchctlError(specific(119), errorStyle === 'modern' ? /launchctl enable/ : /disabled/))
      await launchctl.enable(LABEL)
      assert.equal(await launchctl.isDisabled(LABEL), false)
      await launchctl.bootstrap(path)
      assert.equal((await launchctl.print(LABEL))?.state, 'running')
    })

    it('gives up on an already loaded label after the allowed retries, saying why', async () => {
      const path = plist()
      await launchctl.bootstrap(path)
      const clock = recordingClock()
      const retrying = new LaunchctlAdapter({executable: launchd.launchctlPath, clock})
      await assert.rejects(retrying.bootstrap(path, {retries: 2}), expectLaunchctlError(specific(37), /gave up after 3 attempts/))
      assert.deepEqual(clock.sleeps, [100, 200], 'exponential backoff between the attempts')
      const refused = named(launchd.events(), 'bootstrap-returned').slice(1)
      assert.deepEqual(refused.map((e) => e.exitCode), [specific(37), specific(37), specific(37)])
    })

    it('retries a bootstrap issued while the old job is still exiting after a bare bootout', async () => {
      const path = plist({daemonArgs: ['--term-delay', '400']})
      await launchctl.bootstrap(path)
      const oldPid = await startedPid()
      // The mistake the adapter guards against: bootout without waiting, then bootstrap at once.
      const bare = await execa(launchd.launchctlPath, ['bootout', `system/${LABEL}`])
      assert.equal(bare.exitCode, 0)
      assert.ok(isAlive(oldPid), 'bootout returned while the daemon was still running')
      await launchctl.bootstrap(path, {retries: 6})
      const events = launchd.events()
      const results = named(events, 'bootstrap-returned').slice(1).map((e) => e.exitCode)
      assert.equal(results.at(-1), 0)
      // While the old job drains (state = SIGTERMed) launchd answers EIO, whatever the release.
      assert.ok(results.length >= 2 && results.slice(0, -1).every((c) => c === 5), `results ${results.join(',')}`)
      const exited = named(events, 'job-exited')[0]!
      const spawned = named(events, 'job-spawned')
      assert.equal(exited.pid, oldPid)
      assert.ok(spawned[1]!.t > exited.t, 'the new job started only after the old one was gone')
    })
  })
}

describe('launchctl adapter against the fake launchd: process supervision', function () {
  this.timeout(20_000)
  let launchd: FakeLaunchd
  let launchctl: LaunchctlAdapter
  const plist = (job: Partial<SampleDaemonJob> = {}) => writeSampleDaemonPlist(launchd.stateDir, {label: LABEL, ...job})
  /** The pid of the running daemon, once it is far enough along to handle SIGTERM. */
  const startedPid = async () => {
    const pid = (await launchctl.print(LABEL))!.pid!
    await waitUntilDaemonStarted(launchd.stateDir, LABEL, pid)
    return pid
  }

  beforeEach(async () => {
    launchd = await startFakeLaunchd()
    launchctl = new LaunchctlAdapter({executable: launchd.launchctlPath})
  })
  afterEach(async () => {
    await launchd.stop()
  })

  it('bootout waits until print no longer finds the service', async () => {
    await launchctl.bootstrap(plist({daemonArgs: ['--term-delay', '300']}))
    const pid = await startedPid()
    await launchctl.bootout(LABEL, {waitMs: 5_000})
    assert.equal(await launchctl.print(LABEL), undefined)
    assert.equal(isAlive(pid), false)
    const events = launchd.events()
    const returned = named(events, 'bootout-returned')[0]!
    const exited = named(events, 'job-exited')[0]!
    assert.ok(returned.t < exited.t, 'launchctl bootout returned before the job exited')
    assert.equal(exited.code, 0)
  })

  it('treats a bootout of a service that is not loaded as done', async () => {
    await launchctl.bootout(LABEL, {waitMs: 1_000})
    assert.equal(await launchctl.print(LABEL), undefined)
  })

  it('a daemon ignoring SIGTERM is killed after ExitTimeOut; a shorter wait fails with an explanation', async () => {
    await launchctl.bootstrap(plist({daemonArgs: ['--ignore-sigterm'], exitTimeOut: 1}))
    await startedPid()
    await assert.rejects(launchctl.bootout(LABEL, {waitMs: 300}), expectLaunchctlError(36, /still loaded \(state = SIGTERMed with pid \d+\).*not exiting on SIGTERM/))
    await launchctl.bootout(LABEL, {waitMs: 5_000})
    const events = launchd.events()
    assert.deepEqual(named(events, 'job-signalled').map((e) => e.signal), ['SIGTERM', 'SIGKILL'])
    assert.equal(named(events, 'job-exited')[0]!.signal, 'SIGKILL')
  })

  it('reports a crash-looping daemon: last exit code, runs climbing, respawn throttled', async () => {
    await launchctl.bootstrap(plist({daemonArgs: ['--exit-after', '50', '--exit-code', '3'], keepAlive: true, throttleInterval: 1}))
    const info = await waitFor('a third run', async () => {
      const now = await launchctl.print(LABEL)
      return now && now.runs! >= 3 ? now : undefined
    })
    assert.equal(info.lastExitCode, 3)
    assert.equal(info.lastExitReason, 'exited with status 3')
    const starts = named(launchd.events(), 'job-spawned').map((e) => e.spawnStartedAt as number)
    for (let i = 1; i < starts.length; i++) {
      // 1 ms of slack: node may fire a timer up to a millisecond early.
      assert.ok(starts[i]! - starts[i - 1]! >= 999, `respawn ${i} came ${starts[i]! - starts[i - 1]!} ms after the previous spawn, within ThrottleInterval`)
    }
    assert.ok(named(launchd.events(), 'job-respawn-scheduled').length >= 2)
  })

  it('shows a throttled respawn as spawn-scheduled', async () => {
    await launchctl.bootstrap(plist({daemonArgs: ['--exit-after', '20', '--exit-code', '1'], keepAlive: true, throttleInterval: 1}))
    const info = await waitFor('the throttled state', async () => {
      const now = await launchctl.print(LABEL)
      return now?.state === 'spawn-scheduled' ? now : undefined
    })
    assert.equal(info.pid, undefined)
    assert.equal(info.lastExitCode, 1)
  })

  it('kickstart -k restarts without re-reading the plist, and print shows how the old one died', async () => {
    const path = plist({daemonArgs: ['--ignore-sigterm'], exitTimeOut: 1})
    await launchctl.bootstrap(path)
    const beforePid = await startedPid()
    writeSampleDaemonPlist(launchd.stateDir, {label: LABEL, daemonArgs: ['--exit-after', '10', '--exit-code', '9']})
    await launchctl.kickstart(LABEL, {kill: true})
    const after = (await launchctl.print(LABEL))!
    assert.equal(after.state, 'running')
    assert.notEqual(after.pid, beforePid)
    assert.equal(after.runs, 2)
    assert.equal(after.lastExitReason, 'killed by SIGKILL')
    await new Promise((resolve) => setTimeout(resolve, 200))
    assert.equal((await launchctl.print(LABEL))!.pid, after.pid, 'still the old definition: it does not exit after 10 ms')
  })

  it('kickstart starts a loaded job that is not running, and leaves a running one alone', async () => {
    await launchctl.bootstrap(plist({runAtLoad: false}))
    const idle = (await launchctl.print(LABEL))!
    assert.deepEqual([idle.state, idle.runs, idle.pid, idle.lastExitCode], ['exited', 0, undefined, undefined])
    await launchctl.kickstart(LABEL)
    const started = (await launchctl.print(LABEL))!
    assert.equal(started.state, 'running')
    await launchctl.kickstart(LABEL)
    assert.equal((await launchctl.print(LABEL))!.pid, started.pid)
  })

  it('a daemon that exits without KeepAlive stays down with its exit status', async () => {
    await launchctl.bootstrap(plist({daemonArgs: ['--exit-after', '30', '--exit-code', '2']}))
    const info = await waitFor('the exit', async () => {
      const now = await launchctl.print(LABEL)
      return now?.state === 'exited' ? now : undefined
    })
    assert.deepEqual([info.runs, info.lastExitCode, info.pid], [1, 2, undefined])
  })

  it('explains an unknown service for kickstart, and print finds nothing', async () => {
    await assert.rejects(launchctl.kickstart('com.example.absent'), expectLaunchctlError(113, /no service with this label/))
    assert.equal(await launchctl.print('com.example.absent'), undefined)
    assert.equal(await launchctl.isDisabled('com.example.absent'), false)
  })
})

describe('launchctl adapter refusals', () => {
  it('does not run launchctl for a label that could change the target', async () => {
    const launchctl = new LaunchctlAdapter({executable: '/nonexistent/launchctl'})
    for (const label of ['', 'a/b', '../x', 'com.example esd', '-k']) {
      await assert.rejects(launchctl.print(label), expectLaunchctlError(-1, /not a valid launchd label/))
    }
    await assert.rejects(launchctl.bootstrap('relative.plist'), expectLaunchctlError(-1, /must be absolute/))
  })

  it('says so when launchctl itself cannot be run', async () => {
    const launchctl = new LaunchctlAdapter({executable: '/nonexistent/launchctl'})
    await assert.rejects(launchctl.print(LABEL), expectLaunchctlError(-1, /could not run \/nonexistent\/launchctl/))
  })
})
