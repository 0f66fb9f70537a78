import {strict as assert} from 'node:assert'
import {BOOTSTRAP_WINDOW_MS, LaunchctlAdapter, LaunchctlError, type LaunchctlClock} from '../../src/adapters/launchctl.js'
import {daemonState, lastExitOf} from '../../src/status/daemon-state.js'
import {requireTranscript, transcriptBlocks, transcriptBody, type TranscriptBlock} from '../support/macos-transcripts.js'
import {replayTool, type RecordedAnswer, type ReplayTool} from '../support/replay-tool.js'
import {answerOf, recordedCommands} from '../support/transcript-commands.js'

const LABEL = 'com.example.esd'
const PLIST = `/Library/LaunchDaemons/${LABEL}.plist`

/** Virtual time: sleeping advances it at once, so a 15 s window costs no real seconds. */
function virtualClock(): LaunchctlClock & {slept: number[]} {
  let t = 0
  const slept: number[] = []
  return {
    slept,
    now: () => t,
    sleep: async (ms) => {
      slept.push(ms)
      t += ms
    },
  }
}

function expectCode(code: number, explanation?: RegExp): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof LaunchctlError, String(e))
    assert.equal(e.code, code, e.message)
    if (explanation) assert.match(e.message, explanation)
    return true
  }
}

/** `launchctl print` succeeds with 0; the posters show only the text, so the status is launchctl's documented success. */
const printed = (stdout: string): RecordedAnswer => ({status: 0, stdout})

describe('launchctl adapter on real launchctl output (macos-transcripts)', () => {
  const tools: ReplayTool[] = []
  const adapter = (answers: Record<string, RecordedAnswer[]>, clock: LaunchctlClock = virtualClock()) => {
    const tool = replayTool(answers)
    tools.push(tool)
    return {launchctl: new LaunchctlAdapter({executable: tool.path, clock}), tool}
  }
  after(() => {
    for (const t of tools) t.remove()
  })

  describe('print', () => {
    it('01: a running gui job, full block with tabs: state, pid, runs, program, last terminating signal; nested state lines ignored', async function () {
      const body = requireTranscript(this, transcriptBody('01-launchctl-print-gui-running-sigterm.txt'))
      const {launchctl} = adapter({print: [printed(body)]})
      const info = (await launchctl.print(LABEL))!
      assert.equal(info.state, 'running', 'the coalition blocks\' `state = active` must not win')
      assert.equal(info.stateText, 'running')
      assert.equal(info.pid, 16090)
      assert.equal(info.runs, 2)
      assert.equal(info.program, '/Users/dev/.local/bin/weekly-cache-cleanup.sh')
      assert.equal(info.lastSignal, 'SIGTERM')
      assert.equal(info.lastExitReason, 'killed by SIGTERM')
      assert.equal(info.jobState, undefined, 'this release printed no job state')
      assert.equal(daemonState(info, false), 'running')
    })

    it('02: a running system daemon with endpoints and event channels (4-space indentation as quoted in the source)', async function () {
      const body = requireTranscript(this, transcriptBody('02-launchctl-print-system-akd-running.txt'))
      const {launchctl} = adapter({print: [printed(body)]})
      const info = (await launchctl.print(LABEL))!
      assert.deepEqual(
        [info.state, info.pid, info.runs, info.jobState, info.lastExitCode, info.program],
        ['running', 928, 1, 'running', undefined, '/System/Library/PrivateFrameworks/AuthKit.framework/Versions/A/Support/akd'],
      )
      assert.equal(lastExitOf(info), undefined, '(never exited) is no exit')
    })

    it('03: a submitted job that exited: not running, job state exited, last exit code 0, no program line', async function () {
      const body = requireTranscript(this, transcriptBody('03-launchctl-print-gui-submitted-exited.txt'))
      const {launchctl} = adapter({print: [printed(body)]})
      const info = (await launchctl.print(LABEL))!
      assert.deepEqual([info.state, info.stateText, info.jobState, info.lastExitCode, info.runs, info.pid, info.program], ['exited', 'not running', 'exited', 0, 1, undefined, undefined])
      assert.equal(daemonState(info, false), 'stopped')
      assert.equal(lastExitOf(info)?.meaning, 'it exited normally')
    })

    describe('04: fragments (trimmed by their authors, not whole print blocks)', () => {
      let blocks: Map<string, TranscriptBlock>
      before(function () {
        blocks = requireTranscript(this, transcriptBlocks('04-launchctl-print-fragments-exit-reasons.txt'))
      })
      const infoOf = async (id: string) => {
        const {launchctl} = adapter({print: [printed(blocks.get(id)!.lines.join('\n') + '\n')]})
        return (await launchctl.print(LABEL))!
      }

      it('A (fragment): running again after code-signing kills; the reason is named in words', async () => {
        const info = await infoOf('A')
        assert.deepEqual([info.state, info.pid, info.runs, info.exitReason], ['running', 77880, 24991, 'OS_REASON_CODESIGNING'])
        const exit = lastExitOf(info)!
        assert.equal(exit.codeSigning, true)
        assert.match(exit.text, /macOS killed it for its code signature \(OS_REASON_CODESIGNING\)/)
        assert.match(exit.meaning, /esdctl verify.*esdctl doctor/)
      })

      it('B1 (fragment, no braces): spawn failed for its code signature, not running', async () => {
        const info = await infoOf('B1')
        assert.deepEqual([info.state, info.runs, info.exitReason, info.jobState, info.lastSignal], ['exited', 1, 'OS_REASON_CODESIGNING', 'spawn failed', undefined])
        assert.equal(daemonState(info, false), 'stopped')
        assert.match(lastExitOf(info)!.meaning, /code signature.*spawn failed.*esdctl verify/)
      })

      it('B2 (fragment, no braces): EX_CONFIG with job state spawn failed', async () => {
        const info = await infoOf('B2')
        assert.deepEqual([info.state, info.runs, info.lastExitCode, info.jobState, info.exitReason], ['exited', 6, 78, 'spawn failed', undefined])
        assert.equal(info.lastExitReason, 'exited with status 78 (EX_CONFIG)')
        assert.match(lastExitOf(info)!.meaning, /could not start the program/)
      })
    })
  })

  describe('05: errors, each block replayed with its recorded stream and exit status', () => {
    let blocks: Map<string, TranscriptBlock>
    before(function () {
      blocks = requireTranscript(this, transcriptBlocks('05-launchctl-errors.txt'))
    })
    const commands = (id: string) => recordedCommands(blocks.get(id)!.lines)
    /** J: `print` of an absent label, exit 113 (stream not recorded: replayed on stderr). */
    const absent = (): RecordedAnswer => answerOf(commands('J')[0]!)
    /** Lines of a block without `$` commands, up to the first parenthesised note. */
    const rawLines = (id: string) => blocks.get(id)!.lines.filter((l) => !l.startsWith('('))

    it('A: bootout of a service that is not loaded exits 3 (stderr); that is "already stopped", and nothing is polled', async () => {
      const [notLoaded, byPath] = commands('A')
      assert.deepEqual([notLoaded!.status, notLoaded!.stderr], [3, 'Boot-out failed: 3: No such process\n'])
      const {launchctl, tool} = adapter({bootout: [answerOf(notLoaded!)]})
      await launchctl.bootout(LABEL, {waitMs: 5_000})
      assert.deepEqual(tool.calls(), [['bootout', `system/${LABEL}`]])
      // The path form's 5 is not "already stopped": it is a failure, with launchctl's words kept.
      const failing = adapter({bootout: [answerOf(byPath!)]}).launchctl
      await assert.rejects(failing.bootout(LABEL, {waitMs: 5_000}), expectCode(5, /Input\/output error/))
    })

    it('B: a user-domain bootout answers 3 too (exit status not recorded here; block A records 3); esdctl never passes --wait', async () => {
      const [bootout, withWait] = commands('B')
      assert.deepEqual(bootout!.output, ['Boot-out failed: 3: No such process'])
      const {launchctl, tool} = adapter({bootout: [{status: 3, stderr: bootout!.output.join('\n') + '\n'}]})
      await launchctl.bootout(LABEL, {waitMs: 1_000})
      assert.match(withWait!.output[0]!, /Unrecognized target specifier/)
      assert.ok(tool.calls().every((argv) => !argv.includes('--wait')))
    })

    it('C: bootout --wait is a usage error (64); plain bootout exits 0, then print reports the service gone', async () => {
      const [withWait, plain] = commands('C')
      assert.equal(withWait!.status, 64)
      const usage = adapter({bootout: [answerOf(withWait!)]}).launchctl
      await assert.rejects(usage.bootout(LABEL, {waitMs: 1_000}), expectCode(64, /no explanation/))
      assert.equal(plain!.status, 0)
      const {launchctl, tool} = adapter({bootout: [answerOf(plain!)], print: [absent()]})
      await launchctl.bootout(LABEL, {waitMs: 1_000})
      assert.deepEqual(tool.calls().map((c) => c[0]), ['bootout', 'print'])
    })

    it('D: bootout 36 (in progress) waits until print no longer finds the service (exit status not shown; 36 is in the text)', async () => {
      const [d] = commands('D')
      assert.deepEqual(d!.output, ['Boot-out failed: 36: Operation now in progress'])
      const draining = printed(transcriptBody('01-launchctl-print-gui-running-sigterm.txt')!.replace('state = running', 'state = SIGTERMed'))
      const clock = virtualClock()
      const {launchctl, tool} = adapter({bootout: [{status: 36, stderr: d!.output[0] + '\n'}], print: [draining, draining, absent()]}, clock)
      await launchctl.bootout(LABEL, {waitMs: 5_000})
      assert.deepEqual(tool.calls().map((c) => c[0]), ['bootout', 'print', 'print', 'print'])
    })

    it('E: bootstrap 5 with its two-line stderr while the old job drains (SIGTERMed): waits it out, then loads', async () => {
      const [first, second] = rawLines('E')
      assert.deepEqual([first, second], ['Bootstrap failed: 5: Input/output error', 'Try re-running the command as root for richer errors.'])
      const eio: RecordedAnswer = {status: 5, stderr: `${first}\n${second}\n`}
      const draining = printed(transcriptBody('01-launchctl-print-gui-running-sigterm.txt')!.replace('state = running', 'state = SIGTERMed'))
      const {launchctl, tool} = adapter({bootstrap: [eio, {status: 0}], print: [draining, absent()]})
      await launchctl.bootstrap(PLIST, {label: LABEL})
      assert.deepEqual(tool.calls().map((c) => c[0]), ['bootstrap', 'print', 'print', 'bootstrap'])
    })

    it('E: the same 5 when the service is already loaded and running fails at once, saying so', async () => {
      const [first, second] = rawLines('E')
      const running = printed(transcriptBody('01-launchctl-print-gui-running-sigterm.txt')!)
      const {launchctl, tool} = adapter({bootstrap: [{status: 5, stderr: `${first}\n${second}\n`}], print: [running]})
      await assert.rejects(launchctl.bootstrap(PLIST, {label: LABEL}), (e: unknown) => {
        assert.ok(e instanceof LaunchctlError)
        assert.equal(e.code, 5)
        assert.match(e.message, /is loaded \(state = running, pid 16090\) and not leaving.*bootout it first/)
        assert.equal(e.stderr, `${first}\n${second}`, 'launchctl\'s words are kept verbatim')
        return true
      })
      assert.equal(tool.calls().filter((c) => c[0] === 'bootstrap').length, 1)
    })

    it('F: ten EIO answers over ~5 s after a bootout, the eleventh loads: the window covers it with margin', async () => {
      const lines = blocks.get('F')!.lines
      const failures = /attempt 1\.\.(\d+): rc=5\s+(.*)$/.exec(lines[0]!)!
      assert.equal(failures[2], 'Bootstrap failed: 5: Input/output error')
      const eio: RecordedAnswer = {status: 5, stderr: failures[2] + '\n'}
      const answers = [...Array.from({length: Number(failures[1])}, () => eio), {status: 0}]
      const clock = virtualClock()
      const {launchctl, tool} = adapter({bootstrap: answers, print: [absent()]}, clock)
      await launchctl.bootstrap(PLIST, {label: LABEL})
      assert.equal(tool.calls().filter((c) => c[0] === 'bootstrap').length, 11)
      const waited = clock.slept.reduce((a, b) => a + b, 0)
      assert.ok(waited >= 5_000, `the retries spanned ${waited} ms, less than the ~5 s observed`)
      assert.ok(BOOTSTRAP_WINDOW_MS >= 2 * 5_000, 'margin over the observed window')
    })

    it('F: past the window it gives up with the code, the attempts and the time', async () => {
      const clock = virtualClock()
      const {launchctl} = adapter({bootstrap: [{status: 5, stderr: 'Bootstrap failed: 5: Input/output error\n'}], print: [absent()]}, clock)
      await assert.rejects(launchctl.bootstrap(PLIST, {label: LABEL}), expectCode(5, /gave up after \d+ attempts over 15\d{3} ms\) \(plist \/Library\/LaunchDaemons\/com\.example\.esd\.plist\)/))
      assert.ok(clock.now() >= BOOTSTRAP_WINDOW_MS && clock.now() < BOOTSTRAP_WINDOW_MS + 1_000)
    })

    it('F: kickstart of a booted-out label returns 113 (block J\'s text), a LaunchctlError naming it', async () => {
      assert.match(blocks.get('F')!.lines.join('\n'), /kickstart of a booted-out label returns 113/)
      const {launchctl} = adapter({kickstart: [absent()]})
      await assert.rejects(launchctl.kickstart(LABEL), expectCode(113, /no service with this label/))
    })

    it('G: launchd schedules its cleanup 5 s after SIGTERM; the bootstrap window is longer, and the EIO is retried', async () => {
      const lines = blocks.get('G')!.lines
      const cleanup = Number(/scheduling cleanup in (\d+) sec/.exec(lines.join('\n'))![1]) * 1000
      assert.ok(BOOTSTRAP_WINDOW_MS > cleanup)
      const {launchctl} = adapter({bootstrap: [{status: 5, stderr: `${lines[0]}\n${lines[1]}\n`}, {status: 0}], print: [absent()]})
      await launchctl.bootstrap(PLIST, {label: LABEL})
    })

    it('H: bootstrap 37 (already in progress) is retried once print reports the label gone', async () => {
      const [line] = rawLines('H')
      assert.equal(line, 'Bootstrap failed: 37: Operation already in progress')
      const {launchctl, tool} = adapter({bootstrap: [{status: 37, stderr: line + '\n'}, {status: 0}], print: [absent()]})
      await launchctl.bootstrap(PLIST, {label: LABEL})
      assert.deepEqual(tool.calls().map((c) => c[0]), ['bootstrap', 'print', 'bootstrap'])
    })

    it('I: the legacy load/unload answer 5 in words only; the adapter never uses them', async () => {
      const lines = rawLines('I')
      assert.ok(lines.includes('Unload failed: 5: Input/output error') && lines.includes('Load failed: 5: Input/output error'))
      const legacy: RecordedAnswer = {status: 0, stderr: lines.join('\n') + '\n'}
      const {launchctl, tool} = adapter({
        load: [legacy], unload: [legacy], bootstrap: [{status: 0}], bootout: [{status: 0}], print: [absent()],
        enable: [{status: 0}], disable: [{status: 0}], kickstart: [{status: 0}], 'print-disabled': [{status: 0, stdout: 'disabled services = {\n}\n'}],
      })
      await launchctl.enable(LABEL)
      await launchctl.bootstrap(PLIST, {label: LABEL})
      await launchctl.kickstart(LABEL, {kill: true})
      await launchctl.print(LABEL)
      await launchctl.isDisabled(LABEL)
      await launchctl.bootout(LABEL, {waitMs: 1_000})
      await launchctl.disable(LABEL)
      const verbs = new Set(tool.calls().map((c) => c[0]))
      assert.ok(!verbs.has('load') && !verbs.has('unload'), [...verbs].join(','))
    })

    it('J: print of an absent label exits 113 on either stream: the service is not loaded', async () => {
      const [j] = commands('J')
      assert.equal(j!.status, 113)
      assert.deepEqual(j!.output.slice(0, 2), ['Bad request.', 'Could not find service "com.example.absent" in domain for user gui: 501'])
      for (const stream of ['stdout', 'stderr'] as const) {
        const {launchctl} = adapter({print: [answerOf(j!, stream)]})
        assert.equal(await launchctl.print(LABEL), undefined)
      }
    })

    it('K: print-disabled in all three formats (macOS 11/12 block; 13+ and 26 as filtered fragments)', async () => {
      const k = commands('K')
      assert.equal(k.length, 3)
      const read = async (i: number) => {
        const {launchctl} = adapter({'print-disabled': [printed(k[i]!.output.join('\n') + '\n')]})
        return launchctl.disabledServices()
      }
      const older = await read(0)
      assert.deepEqual([older.get('com.docker.helper'), older.get('com.apple.Siri.agent')], [false, true])
      assert.equal(older.has('version.com.docker.helper'), false, 'login item associations are not services')
      assert.equal((await read(1)).get('com.openssh.sshd'), true)
      const now = await read(2)
      assert.deepEqual([now.get('com.apple.ManagedClientAgent.enrollagent'), now.get('com.docker.helper')], [true, false])
    })
  })
})
