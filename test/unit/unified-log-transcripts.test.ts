import {strict as assert} from 'node:assert'
import {logTimeMs, parseLogLine, type UnifiedLogEntry} from '../../src/adapters/unified-log-entry.js'
import {UnifiedLogAdapter} from '../../src/adapters/unified-log.js'
import {amfiCauseOf, refusalSubject} from '../../src/doctor/amfi-messages.js'
import {amfiPredicate} from '../../src/doctor/check-unified-log.js'
import {attributeRefusals, type DaemonIdentity} from '../../src/doctor/log-attribution.js'
import {consoleCopyEntries, createFakeLog, kernelMessageEntries, processEntry, type FakeLog, type FakeLogEntry} from '../doubles/log/fake-log.js'
import {requireTranscript, transcriptText} from '../support/macos-transcripts.js'

/** What `log show --style ndjson` would give the reader for these entries. */
function asRead(entries: FakeLogEntry[]): UnifiedLogEntry[] {
  return entries.map((e) => parseLogLine(JSON.stringify(e))!)
}

/** The app in 06, as the poster redacted it. */
const APP_06: DaemonIdentity = {executable: '/Applications/<app-bundle-id>/Contents/MacOS/<app-name>', app: '/Applications/<app-bundle-id>', name: '<app-name>', bundleId: '<app-bundle-id>'}

describe('unified-log refusal matcher on the recorded text', () => {
  it('06: every line of a refusal (taskgated-helper, amfid, kernel) is about the app: named, or tied by time and process', function () {
    const entries = asRead(consoleCopyEntries(requireTranscript(this, transcriptText('06-log-amfi-restricted-entitlements.txt'))))
    assert.deepEqual(entries.map((e) => e.process), ['taskgated-helper', 'amfid', 'amfid', 'amfid', 'kernel', 'kernel'])
    const found = attributeRefusals(entries, APP_06)
    assert.deepEqual(found.map((f) => [f.entry.process, f.cause.id, f.how]), [
      ['taskgated-helper', 'amfi.unsatisfied-entitlements', 'named'],
      ['amfid', 'amfi.requirement-failed', 'tied'],
      ['amfid', 'amfi.no-matching-profile', 'tied'],
      ['amfid', 'amfi.no-matching-profile', 'named'],
      ['kernel', 'amfi.restricted-entitlements-refused', 'tied'],
      ['kernel', 'amfi.signature-invalid', 'named'],
    ])
    // The kernel's line has no "AMFI" in it: the old predicate missed it.
    const kernelLine = entries.at(-1)!.message
    assert.ok(!kernelLine.includes('AMFI') && kernelLine.startsWith('mac_vnode_check_signature: '))
    assert.deepEqual(refusalSubject(kernelLine), {path: APP_06.executable})
    // Another program's refusal in the same second: none of it is ours, the path-less lines neither.
    assert.deepEqual(attributeRefusals(entries, {executable: '/opt/other/other.app/Contents/MacOS/other', app: '/opt/other/other.app', name: 'other', bundleId: 'com.example.other'}), [])
  })

  it('06: path-less lines far from any line naming the daemon are not tied to it', function () {
    const entries = asRead(consoleCopyEntries(requireTranscript(this, transcriptText('06-log-amfi-restricted-entitlements.txt'))))
    const [helper, requirements, bailing] = entries
    const later = {...bailing!, timestamp: '2024-01-10 14:36:09.306287-0800'}
    const found = attributeRefusals([helper!, requirements!, later, ...entries.slice(3)], APP_06)
    assert.ok(!found.some((f) => f.entry === later), 'six seconds away is another refusal')
  })

  it('07 (kernel eventMessages only, no timestamps: given one, as one refusal): the ES client refused at launch', function () {
    const text = requireTranscript(this, transcriptText('07-log-amfi-es-daemon-sonoma.txt'))
    const entries = asRead(kernelMessageEntries(text.split('\n').filter((l) => !l.startsWith('# source')).join('\n'), '2026-03-01 10:00:00.000000+0000'))
    assert.equal(entries.length, 3)
    const found = attributeRefusals(entries, {executable: '/opt/fidelisevents/fidelisevents.app/Contents/MacOS/fidelisevents', app: '/opt/fidelisevents/fidelisevents.app', name: 'fidelisevents'})
    assert.deepEqual(found.map((f) => [f.cause.id, f.how]), [
      ['amfi.signature-not-valid', 'tied'],
      ['amfi.restricted-entitlements-refused', 'tied'],
      ['amfi.signature-invalid', 'named'],
    ])
  })

  it('older releases: "<exe> signature not valid: -67050" and AppleSystemPolicy\'s "ASP: … <pid>, <path>" (forms from the issue; no transcript)', () => {
    const exe = '/opt/thed/thed.app/Contents/MacOS/thed'
    const daemon: DaemonIdentity = {executable: exe, app: '/opt/thed/thed.app', name: 'thed'}
    const entries = asRead([
      processEntry('amfid', `${exe} signature not valid: -67050`, '2019-05-01 10:00:00.100000+0000'),
      processEntry('kernel', `ASP: Security policy would not allow process: 4242, ${exe}`, '2019-05-01 10:00:00.200000+0000'),
      processEntry('kernel', 'ASP: Security policy would not allow process: 99, /Applications/Other.app/Contents/MacOS/Other', '2019-05-01 10:00:00.300000+0000'),
    ])
    assert.deepEqual(refusalSubject(entries[1]!.message), {pid: 4242, path: exe})
    assert.deepEqual(attributeRefusals(entries, daemon).map((f) => f.cause.id), ['amfi.requirement-failed', 'amfi.security-policy'])
    assert.equal(amfiCauseOf('thed signature not valid: -67061')?.id, 'amfi.signature-not-valid')
  })

  describe('the log double on the real forms', function () {
    this.timeout(30_000)
    let fake: FakeLog | undefined
    afterEach(() => fake?.remove())

    it('doctor\'s predicate brings back every 06 line, the kernel\'s mac_vnode_check_signature line included, and no other kernel line', async function () {
      const recorded = consoleCopyEntries(requireTranscript(this, transcriptText('06-log-amfi-restricted-entitlements.txt')))
      fake = createFakeLog([...recorded, processEntry('kernel', 'Sandbox: mdworker(123) deny(1) file-read-data /private/var/x')])
      const got = await new UnifiedLogAdapter({executable: fake.logPath}).show({predicate: amfiPredicate(), lastMinutes: 30})
      assert.deepEqual(got.map((e) => e.message), recorded.map((e) => e.eventMessage))
      const older = await new UnifiedLogAdapter({executable: fake.logPath}).show({predicate: '(process == "amfid" OR process == "taskgated-helper" OR (process == "kernel" AND eventMessage CONTAINS[c] "AMFI"))', lastMinutes: 30})
      assert.equal(older.length, recorded.length - 1, 'the predicate before this change lost the kernel\'s refusal line')
    })
  })
})

describe('unified-log entries as log prints them (09 transcript)', () => {
  it('A: the default-style line is not an entry; the JSON element, one record per line as --style ndjson prints it, is', function () {
    const blocks = requireTranscript(this, transcriptText('09-log-json-ndjson-records.txt'))
    const lines = blocks.split('\n')
    const defaultLine = lines.find((l) => l.startsWith('2025-07-26 18:10:17'))!
    assert.equal(parseLogLine(defaultLine), undefined)
    const start = lines.indexOf('{')
    const end = lines.indexOf('}', start)
    const element = JSON.stringify(JSON.parse(lines.slice(start, end + 1).join('\n')))
    const e = parseLogLine(element)!
    assert.deepEqual([e.process, e.pid, e.subsystem, e.type, e.message], ['launchd', 1, 'system', 'Default', 'Setting service com.apple.screensharing to enabled (initiated by smd[379])'])
    assert.equal(logTimeMs(e.timestamp), Date.parse('2025-07-26T18:10:17.745-04:00') + 0.652)
  })

  it('B: an ndjson record with a subset of keys; C: the empty line and the {"count":…,"finished":1} trailer are not entries', function () {
    const text = requireTranscript(this, transcriptText('09-log-json-ndjson-records.txt'))
    const lines = text.split('\n')
    const ndjson = lines.find((l) => l.startsWith('{"timezoneName"'))!
    const e = parseLogLine(ndjson)!
    assert.deepEqual([e.process, e.pid, e.subsystem, e.category, e.timestamp], ['coreaudiod', 342, 'com.apple.bluetooth', 'BTAudio', '2026-10-07 10:19:55.713745+0800'])
    assert.ok(lines.includes('{"count":48055,"finished":1}'))
    assert.equal(parseLogLine('{"count":48055,"finished":1}'), undefined)
    assert.equal(parseLogLine(''), undefined)
  })

  it('reads both timestamp forms (ndjson and Console) to the same instant', () => {
    assert.equal(logTimeMs('2024-01-10 14:36:03.306061 -0800'), logTimeMs('2024-01-10 14:36:03.306061-0800'))
    assert.equal(logTimeMs('yesterday'), undefined)
  })
})

