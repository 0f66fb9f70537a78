import {getEventListeners} from 'node:events'
import {strict as assert} from 'node:assert'
import {appendFile, mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import * as plist from 'plist'
import {UnifiedLogAdapter} from '../../src/adapters/unified-log.js'
import type {PrefixLayout} from '../../src/layout/prefix-layout.js'
import {daemonLogs, followLogs} from '../../src/status/daemon-logs.js'
import {writeInstalledFixture} from '../support/installed-fixture.js'
import {createFakeLog, type FakeLog} from '../doubles/log/fake-log.js'
import {waitFor} from '../doubles/wait-for.js'

describe('esdctl logs', function () {
  this.timeout(30_000)
  let root: string
  let layout: PrefixLayout
  let fake: FakeLog

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'esdctl-logs-'))
    layout = await writeInstalledFixture({root, name: 'thed', label: 'com.example.thed'})
    await mkdir(layout.launchDaemonsDir, {recursive: true})
    await writeFile(layout.launchdPlist, plist.build({Label: 'com.example.thed', Program: '/opt/thed/thed.app/Contents/MacOS/thed', StandardOutPath: '/var/log/thed.log', StandardErrorPath: '/var/log/thed.err'}))
    await mkdir(join(root, 'var/log'), {recursive: true})
    await writeFile(join(root, 'var/log/thed.log'), 'one\ntwo\nthree\n')
    fake = createFakeLog([{timestamp: '2026-03-01 10:00:00.000000+0000', processImagePath: '/opt/thed/thed.app/Contents/MacOS/thed', processID: 77, eventMessage: 'es client up'}])
  })
  afterEach(async () => {
    fake.remove()
    await rm(root, {recursive: true, force: true})
  })

  it('shows the last lines of StandardOutPath and StandardErrorPath from the installed plist, and the unified log on macOS', async () => {
    const sections = await daemonLogs({layout, log: new UnifiedLogAdapter({executable: fake.logPath}), lines: 2, platform: 'darwin', minutes: 15})
    assert.deepEqual(sections, [
      {title: '/var/log/thed.log (StandardOutPath)', lines: ['two', 'three']},
      {title: '/var/log/thed.err (StandardErrorPath)', lines: [], note: 'cannot be read (not written yet, or no permission)'},
      {title: 'unified log: process == "thed"', lines: ['2026-03-01 10:00:00.000000+0000 thed[77]: es client up']},
    ])
    assert.deepEqual(fake.calls(), [['show', '--style', 'ndjson', '--last', '15m', '--predicate', 'process == "thed"']])
  })

  it('says the unified log was skipped off macOS, and when the plist sends output nowhere', async () => {
    let sections = await daemonLogs({layout, log: new UnifiedLogAdapter({executable: fake.logPath}), lines: 10, platform: 'linux'})
    assert.deepEqual(sections.at(-1), {title: 'unified log: process == "thed"', lines: [], note: 'skipped: not macOS'})
    assert.equal(fake.calls().length, 0)
    await writeFile(layout.launchdPlist, plist.build({Label: 'com.example.thed', Program: '/x'}))
    sections = await daemonLogs({layout, log: new UnifiedLogAdapter({executable: fake.logPath}), lines: 10, platform: 'linux'})
    assert.match(sections[0]!.note!, /neither StandardOutPath nor StandardErrorPath/)
  })

  it('without an install record, reads the layout the launchd plist gives and says so on stderr (the command)', async () => {
    await rm(layout.receipt)
    const {execa} = await import('execa')
    const {REPO_ROOT} = await import('../support/real-artifacts.js')
    const run = await execa(process.execPath, [join(REPO_ROOT, 'bin', 'run.js'), 'logs', 'thed', '--root', root, '-n', '1'], {reject: false})
    assert.equal(run.exitCode, 0, run.stderr)
    assert.match(run.stderr, /^esdctl logs: warning: no install record, so the paths checked are the ones the launchd plist \/Library\/LaunchDaemons\/com\.example\.thed\.plist and the links on disk give \(\/opt\/thed\/thed\.app, executable thed\)/)
    assert.match(run.stdout, /==> \/var\/log\/thed\.log \(StandardOutPath\) <==\nthree\n/)
  })

  it('follows appended lines and the log stream until aborted', async () => {
    const abort = new AbortController()
    const seen: string[] = []
    const following = followLogs({layout, log: new UnifiedLogAdapter({executable: fake.logPath}), lines: 10, platform: 'darwin', signal: abort.signal, onLine: (l) => seen.push(l)})
    await new Promise((r) => setTimeout(r, 100))
    await appendFile(join(root, 'var/log/thed.log'), 'four\n')
    await writeFile(join(root, 'var/log/thed.err'), 'oops\n')
    await waitFor('the new lines', async () => (seen.length >= 3 ? true : undefined))
    // Several polls later, the signal holds no listener per poll (there were 11 after ~3 s of -f).
    await new Promise((r) => setTimeout(r, 1200))
    assert.ok(getEventListeners(abort.signal, 'abort').length <= 4, `${getEventListeners(abort.signal, 'abort').length} abort listeners`)
    abort.abort()
    await following
    assert.deepEqual(seen.sort(), ['[err] oops', '[log] 2026-03-01 10:00:00.000000+0000 thed[77]: es client up', '[out] four'])
  })
})
