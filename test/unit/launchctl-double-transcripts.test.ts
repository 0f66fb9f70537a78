import {strict as assert} from 'node:assert'
import {execa} from 'execa'
import {LaunchctlAdapter} from '../../src/adapters/launchctl.js'
import {startFakeLaunchd, type FakeLaunchd} from '../doubles/fake-launchd/fake-launchd.js'
import {waitUntilDaemonStarted, writeSampleDaemonPlist} from '../doubles/fake-launchd/daemon-plist.js'
import {waitFor} from '../doubles/wait-for.js'
import {requireTranscript, transcriptBlocks, transcriptText} from '../support/macos-transcripts.js'
import {recordedCommands} from '../support/transcript-commands.js'

const LABEL = 'com.example.esd'
const PRINT_FILES = [
  '01-launchctl-print-gui-running-sigterm.txt',
  '02-launchctl-print-system-akd-running.txt',
  '03-launchctl-print-gui-submitted-exited.txt',
  '04-launchctl-print-fragments-exit-reasons.txt',
]
/** Every `key = value` line parseServicePrint reads. */
const ADAPTER_KEYS = ['state', 'pid', 'runs', 'program', 'last exit code', 'last terminating signal', 'last exit reason', 'job state']
/** States the transcripts name in their notes rather than in a print block (05 block E, DESIGN §12). */
const NOTED_STATES = ['SIGTERMed', 'spawn scheduled']

/**
 * The form of a value with its particulars taken out: numbers, paths and signal words vary from
 * Mac to Mac, the shape does not.
 */
function shape(key: string, value: string): string {
  if (key === 'state' || key === 'job state') return value
  return value
    .replace(/^\/\S*$/, 'PATH')
    .replace(/^[A-Z][a-z]+(?: [a-z0-9]+)*: \d+$/, 'Signal text: N')
    .replace(/^\d+: [A-Z_]+$/, 'N: NAME')
    .replace(/^\d+$/, 'N')
    .replace(/^OS_REASON_[A-Z_]+$/, 'OS_REASON_NAME')
}

/** key → the shapes seen, from top-level lines (one level of indentation, tab or the sources' 4 spaces). */
function shapesOf(texts: readonly string[]): Map<string, Set<string>> {
  const shapes = new Map<string, Set<string>>()
  for (const text of texts) {
    for (const line of text.split('\n')) {
      const m = /^(?:\t| {4})?([a-z][a-z ()]*?) = (.+)$/.exec(line)
      if (!m || !ADAPTER_KEYS.includes(m[1]!)) continue
      if (!shapes.has(m[1]!)) shapes.set(m[1]!, new Set())
      shapes.get(m[1]!)!.add(shape(m[1]!, m[2]!))
    }
  }
  return shapes
}

/**
 * The fake launchd printed next to the transcripts: whatever it says in a field the adapter reads
 * must have a form real launchctl was seen to print, with tabs as launchctl indents.
 */
describe('fake launchd against the real transcripts', function () {
  this.timeout(30_000)
  const fakes: FakeLaunchd[] = []
  const printOf = async (launchd: FakeLaunchd) => (await execa(launchd.launchctlPath, ['print', `system/${LABEL}`])).stdout + '\n'
  after(async () => {
    await Promise.all(fakes.map((f) => f.stop()))
  })

  it('prints every field the adapter reads in a form the transcripts show, in every job state it models', async function () {
    const real = requireTranscript(this, PRINT_FILES.every((f) => transcriptText(f) !== undefined) ? PRINT_FILES.map((f) => transcriptText(f)!) : undefined)
    const realShapes = shapesOf(real)
    const printed: string[] = []

    const launchd = await startFakeLaunchd()
    fakes.push(launchd)
    const launchctl = new LaunchctlAdapter({executable: launchd.launchctlPath})
    // running, then draining after bootout (SIGTERMed), then killed by a signal
    const path = writeSampleDaemonPlist(launchd.stateDir, {label: LABEL, daemonArgs: ['--term-delay', '300']})
    await launchctl.bootstrap(path)
    const pid = (await launchctl.print(LABEL))!.pid!
    await waitUntilDaemonStarted(launchd.stateDir, LABEL, pid)
    printed.push(await printOf(launchd))
    await execa(launchd.launchctlPath, ['bootout', `system/${LABEL}`])
    const draining = await printOf(launchd)
    assert.match(draining, /^\tstate = SIGTERMed$/m, 'a job draining after bootout is SIGTERMed, as on macOS')
    printed.push(draining)
    await launchctl.waitUntilGone(LABEL, 5_000)
    // exited with a status; crash-looping (spawn scheduled); killed by a signal
    await launchctl.bootstrap(writeSampleDaemonPlist(launchd.stateDir, {label: LABEL, daemonArgs: ['--exit-after', '20', '--exit-code', '3'], keepAlive: true, throttleInterval: 1}))
    await waitFor('a throttled respawn', async () => ((await launchctl.print(LABEL))?.state === 'spawn-scheduled' ? true : undefined))
    printed.push(await printOf(launchd))
    await launchctl.bootout(LABEL, {waitMs: 5_000})
    await launchctl.bootstrap(writeSampleDaemonPlist(launchd.stateDir, {label: LABEL, daemonArgs: ['--ignore-sigterm'], exitTimeOut: 1}))
    await waitUntilDaemonStarted(launchd.stateDir, LABEL, (await launchctl.print(LABEL))!.pid!)
    await launchctl.kickstart(LABEL, {kill: true})
    printed.push(await printOf(launchd))
    await launchctl.bootout(LABEL, {waitMs: 5_000})

    // the kernel refusing the program for its code signature
    const refusing = await startFakeLaunchd({codeSigningKills: [process.execPath]})
    fakes.push(refusing)
    await new LaunchctlAdapter({executable: refusing.launchctlPath}).bootstrap(writeSampleDaemonPlist(refusing.stateDir, {label: LABEL}))
    const killed = await printOf(refusing)
    assert.match(killed, /^\tlast exit reason = OS_REASON_CODESIGNING$/m)
    assert.match(killed, /^\tjob state = spawn failed$/m)
    assert.doesNotMatch(killed, /last terminating signal/, 'a code-signing kill has no signal line (04 transcript)')
    printed.push(killed)

    for (const text of printed) {
      for (const line of text.split('\n').slice(1, -2)) {
        if (line !== '' && !line.startsWith('\t')) assert.fail(`not tab-indented: ${JSON.stringify(line)}`)
      }
    }
    const fakeShapes = shapesOf(printed)
    for (const key of ADAPTER_KEYS) {
      const seen = fakeShapes.get(key)
      assert.ok(seen && seen.size > 0, `the fake never prints ${key}`)
      const allowed = new Set([...(realShapes.get(key) ?? []), ...(key === 'state' ? NOTED_STATES : [])])
      for (const s of seen) assert.ok(allowed.has(s), `${key} = ${s}: real launchctl was seen printing only ${[...allowed].join(' | ')}`)
    }
  })

  it('answers bootout, bootstrap and print errors with the transcripts\' words, streams and codes', async function () {
    const blocks = requireTranscript(this, transcriptBlocks('05-launchctl-errors.txt'))
    const launchd = await startFakeLaunchd({eioWindowMs: 400})
    fakes.push(launchd)
    const run = (...args: string[]) => execa(launchd.launchctlPath, args, {reject: false})

    const [notLoaded] = recordedCommands(blocks.get('A')!.lines)
    const bootout = await execa(launchd.launchctlPath, ['bootout', `system/${LABEL}`], {reject: false, stripFinalNewline: false})
    assert.deepEqual([bootout.exitCode, bootout.stdout, bootout.stderr], [notLoaded!.status, notLoaded!.stdout, notLoaded!.stderr])

    const [j] = recordedCommands(blocks.get('J')!.lines)
    const print = await run('print', 'system/com.example.absent')
    assert.equal(print.exitCode, j!.status)
    const systemVariant = /system domain variant.*: (Could not find service .*)$/.exec(j!.output.join('\n'))![1]!
    assert.equal(print.stderr, `${j!.output[0]}\n${systemVariant}`)

    const path = writeSampleDaemonPlist(launchd.stateDir, {label: LABEL, daemonArgs: ['--term-delay', '300']})
    assert.equal((await run('bootstrap', 'system', path)).exitCode, 0)
    const pid = Number(/pid = (\d+)/.exec((await run('print', `system/${LABEL}`)).stdout)![1])
    await waitUntilDaemonStarted(launchd.stateDir, LABEL, pid)
    assert.equal((await run('bootout', `system/${LABEL}`)).exitCode, 0)
    const [eio1, eio2] = blocks.get('E')!.lines
    const whileDraining = await run('bootstrap', 'system', path)
    assert.deepEqual([whileDraining.exitCode, whileDraining.stderr], [5, `${eio1}\n${eio2}`])
    await new LaunchctlAdapter({executable: launchd.launchctlPath}).waitUntilGone(LABEL, 5_000)
    const inWindow = await run('bootstrap', 'system', path)
    assert.equal(inWindow.exitCode, 5, 'EIO goes on for a while after print stops finding the service (block F)')
    await waitFor('the EIO window to pass', async () => ((await run('bootstrap', 'system', path)).exitCode === 0 ? true : undefined))
    const kickstartAbsent = await run('kickstart', 'system/com.example.absent')
    assert.equal(kickstartAbsent.exitCode, 113, 'block F: kickstart of a booted-out label returns 113')
  })
})
