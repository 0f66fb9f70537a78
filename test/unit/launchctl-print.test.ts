import {strict as assert} from 'node:assert'
import fc from 'fast-check'
import {explainLaunchctlCode, isKnownLaunchctlCode} from '../../src/adapters/launchctl-error.js'
import {parsePrintDisabled, parseServicePrint} from '../../src/adapters/launchctl-print.js'
import {daemonState} from '../../src/status/daemon-state.js'

const RUNNING = `system/com.example.esd = {
\tactive count = 1
\tpath = /Library/LaunchDaemons/com.example.esd.plist
\ttype = LaunchDaemon
\tstate = running

\tprogram = /opt/esd/esd.app/Contents/MacOS/esd
\targuments = {
\t\t/opt/esd/esd.app/Contents/MacOS/esd
\t\tstate = not a field
\t}

\tendpoints = {
\t\t"com.example.esd.xpc" = {
\t\t\tport = 0x1a03
\t\t\tstate = active
\t\t}
\t}

\truns = 3
\tpid = 812
\tlast exit code = 0
}
`

describe('launchctl print parsing', () => {
  it('reads state, pid, runs, program and last exit code from top-level lines only', () => {
    assert.deepEqual(parseServicePrint('com.example.esd', RUNNING), {
      label: 'com.example.esd', state: 'running', stateText: 'running', program: '/opt/esd/esd.app/Contents/MacOS/esd',
      runs: 3, pid: 812, lastExitCode: 0, lastExitReason: 'exited with status 0',
    })
  })

  it('maps launchd state words onto ServiceState', () => {
    const state = (word: string) => parseServicePrint('l', `system/l = {\n\tstate = ${word}\n}\n`).state
    assert.equal(state('not running'), 'exited')
    assert.equal(state('spawn scheduled'), 'spawn-scheduled')
    assert.equal(state('waiting'), 'waiting')
    assert.equal(state('SIGTERMed'), 'stopping')
    assert.equal(state('xpcproxy'), 'spawning')
    assert.equal(state('penguin'), 'unknown')
    const future = parseServicePrint('l', 'system/l = {\n\tstate = penguin walk\n}\n')
    assert.equal(future.stateText, 'penguin walk', 'an unknown word is kept verbatim')
    assert.equal(daemonState(future, false), 'penguin walk', 'and status shows it as launchd said it, never mapped to stopped')
    assert.equal(daemonState(parseServicePrint('l', 'l = {\n\tstate = SIGTERMed\n}\n'), false), 'stopping')
    assert.equal(daemonState(parseServicePrint('l', 'l = {\n\tstate = xpcproxy\n}\n'), false), 'starting')
  })

  it('reads every last exit reason: known ones in words, jetsam reasons by name, a future one verbatim', () => {
    const reason = (name: string) => parseServicePrint('l', `system/l = {\n\tlast terminating signal = Killed: 9\n\tlast exit reason = ${name}\n}\n`)
    const signing = reason('OS_REASON_CODESIGNING')
    assert.deepEqual([signing.exitReason, signing.lastSignal, signing.lastExitReason], ['OS_REASON_CODESIGNING', 'SIGKILL', 'macOS killed it for its code signature (OS_REASON_CODESIGNING)'])
    assert.match(reason('OS_REASON_TCC').lastExitReason!, /privacy \(TCC\)/)
    assert.match(reason('OS_REASON_DYLD').lastExitReason!, /dyld could not load it/)
    assert.match(reason('JETSAM_REASON_MEMORY_PERPROCESSLIMIT').lastExitReason!, /jetsam: memory perprocesslimit\) \(JETSAM_REASON_MEMORY_PERPROCESSLIMIT\)$/)
    assert.equal(reason('OS_REASON_SOMETHING_NEW').lastExitReason, 'macOS ended it, for a reason esdctl has no words for (OS_REASON_SOMETHING_NEW)')
    assert.equal(reason('WEIRD_REASON').lastExitReason, 'WEIRD_REASON', 'an unknown family is shown as launchd printed it')
    assert.equal(reason('not a name').exitReason, undefined)
  })

  it('decodes a terminating signal with Darwin numbers, not the host\'s', () => {
    const killed = parseServicePrint('l', 'system/l = {\n\tlast terminating signal = Killed: 9\n}\n')
    assert.equal(killed.lastExitReason, 'killed by SIGKILL')
    assert.equal(killed.lastExitCode, undefined)
    const usr1 = parseServicePrint('l', 'system/l = {\n\tlast terminating signal = User defined signal 1: 30\n}\n')
    assert.equal(usr1.lastExitReason, 'killed by SIGUSR1')
  })

  it('reads a named exit code and leaves a job that never exited without one', () => {
    const config = parseServicePrint('l', 'system/l = {\n\tlast exit code = 78: EX_CONFIG\n}\n')
    assert.equal(config.lastExitCode, 78)
    assert.equal(config.lastExitReason, 'exited with status 78 (EX_CONFIG)')
    const never = parseServicePrint('l', 'system/l = {\n\tlast exit code = (never exited)\n\tpid = 99999999999\n}\n')
    assert.equal(never.lastExitCode, undefined)
    assert.equal(never.pid, undefined, 'a pid beyond 32 bits is not believed')
  })

  it('returns a result, never throws, for any text', () => {
    fc.assert(fc.property(fc.string({maxLength: 400}), (text) => {
      const info = parseServicePrint('l', text)
      assert.equal(info.label, 'l')
    }))
    fc.assert(fc.property(fc.array(fc.constantFrom('{', '}', '\n', '\t', 'state = running', 'pid = 1', ' = ', 'x'), {maxLength: 60}), (parts) => {
      parseServicePrint('l', parts.join(''))
      parsePrintDisabled(parts.join(''))
    }))
  })
})

describe('launchctl print-disabled parsing', () => {
  it('reads the enabled/disabled words of macOS 13+ and the true/false of earlier releases', () => {
    const modern = parsePrintDisabled('disabled services = {\n\t"com.a" => disabled\n\t"com.b" => enabled\n}\n\nlogin item associations = {\n\t"com.c" => "true"\n}\n')
    assert.deepEqual([...modern], [['com.a', true], ['com.b', false]])
    const older = parsePrintDisabled('disabled services = {\n\t"com.a" => false\n\t"com.b" => true\n}\n')
    assert.deepEqual([...older], [['com.a', false], ['com.b', true]])
  })

  it('ignores entries outside the disabled services block', () => {
    assert.equal(parsePrintDisabled('other = {\n\t"com.a" => disabled\n}\n').size, 0)
  })
})

describe('launchctl error explanations', () => {
  it('has words for every code launchd returns for the verbs esdctl uses', () => {
    for (const code of [5, 36, 37, 113, 119, 122, 125]) {
      assert.ok(isKnownLaunchctlCode(code), `code ${code}`)
      assert.ok(explainLaunchctlCode(code).length > 30, `code ${code}`)
    }
    assert.match(explainLaunchctlCode(122), /owned by root/)
    assert.match(explainLaunchctlCode(119), /launchctl enable/)
    assert.match(explainLaunchctlCode(42), /exited with 42/)
  })
})
