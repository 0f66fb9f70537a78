import {strict as assert} from 'node:assert'
import {mkdtemp, readFile, rm, unlink, writeFile} from 'node:fs/promises'
import {mkdirSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {Config} from '@oclif/core'
import {LaunchctlAdapter} from '../../src/adapters/launchctl.js'
import Status from '../../src/commands/status.js'
import {PrefixLayout, ToolPaths} from '../../src/layout/prefix-layout.js'
import {isMunkiVersion} from '../../src/status/munki-installcheck.js'
import {renderJamf, renderTable} from '../../src/status/render-status.js'
import {writeInstalledFixture} from '../support/installed-fixture.js'
import {startFakeLaunchd, type FakeLaunchd} from '../doubles/fake-launchd/fake-launchd.js'
import {writeSampleDaemonPlist} from '../doubles/fake-launchd/daemon-plist.js'
import {REPO_ROOT} from '../support/real-artifacts.js'

const LABEL = 'com.example.thed'

/** The ways a reviewer damaged receipt.json: cut short, not JSON, a required field removed. */
const DAMAGES: ReadonlyArray<readonly [string, (receipt: string) => Promise<void>]> = [
  ['truncated', async (receipt) => writeFile(receipt, (await readFile(receipt)).subarray(0, 40))],
  ['not JSON', (receipt) => writeFile(receipt, 'not json')],
  ['missing its version', async (receipt) => {
    const {version: _version, ...rest} = JSON.parse(await readFile(receipt, 'utf8')) as Record<string, unknown>
    await writeFile(receipt, JSON.stringify(rest))
  }],
]

/** The text a Jamf extension attribute stores. */
function jamfValue(stdout: string): string {
  return /^<result>(.*)<\/result>\n$/.exec(stdout)![1]!
}

/** Runs the real oclif command class with the launchctl double; returns stdout and the exit code. */
async function runStatus(argv: string[], launchctlPath: string): Promise<{stdout: string; exitCode: number}> {
  class StatusWithDouble extends Status {
    protected override launchctl(): LaunchctlAdapter {
      return new LaunchctlAdapter({executable: launchctlPath})
    }
  }
  const config = await Config.load({root: REPO_ROOT, userPlugins: false, devPlugins: false})
  const chunks: string[] = []
  const write = process.stdout.write
  const savedExitCode = process.exitCode
  process.exitCode = undefined
  process.stdout.write = ((chunk: string | Uint8Array) => {
    chunks.push(String(chunk))
    return true
  }) as typeof process.stdout.write
  try {
    await StatusWithDouble.run(argv, config)
  } finally {
    process.stdout.write = write
  }
  const exitCode = Number(process.exitCode ?? 0)
  process.exitCode = savedExitCode
  return {stdout: chunks.join(''), exitCode}
}

describe('esdctl status formats (jamf, munki, json, table)', function () {
  this.timeout(30_000)
  let launchd: FakeLaunchd
  let root: string
  const status = (...argv: string[]) => runStatus([...argv, '--root', root], launchd.launchctlPath)

  before(async () => {
    launchd = await startFakeLaunchd()
  })
  after(async () => {
    await launchd.stop()
  })
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'esdctl-status-formats-'))
  })
  afterEach(async () => {
    await new LaunchctlAdapter({executable: launchd.launchctlPath}).bootout(LABEL, {waitMs: 5000})
    await rm(root, {recursive: true, force: true})
  })

  /** Installs the fixture and the executable file Munki's check looks for. */
  async function install(version = '1.2.3'): Promise<PrefixLayout> {
    const layout = await writeInstalledFixture({root, name: 'thed', label: LABEL, record: {version}})
    mkdirSync(dirname(layout.executable), {recursive: true})
    writeFileSync(layout.executable, 'binary', {mode: 0o755})
    return layout
  }

  describe('jamf: exactly one <result> line', () => {
    it('for one running daemon', async () => {
      await install()
      await new LaunchctlAdapter({executable: launchd.launchctlPath}).bootstrap(writeSampleDaemonPlist(launchd.stateDir, {label: LABEL, keepAlive: true}))
      assert.deepEqual(await status('thed', '--format', 'jamf'), {stdout: '<result>running 1.2.3</result>\n', exitCode: 0})
    })

    it('for a daemon not loaded, one not installed, and several', async () => {
      assert.deepEqual(await status('thed', '--format', 'jamf'), {stdout: '<result>not installed</result>\n', exitCode: 0})
      assert.deepEqual(await status('--format', 'jamf'), {stdout: '<result>not installed</result>\n', exitCode: 0})
      await install()
      assert.deepEqual(await status('thed', '--format', 'jamf'), {stdout: '<result>not loaded 1.2.3</result>\n', exitCode: 0})
      await writeInstalledFixture({root, name: 'alpha', label: 'com.example.alpha', record: {version: '2.0'}})
      assert.deepEqual(await status('--format', 'jamf'), {stdout: '<result>alpha=not loaded 2.0; thed=not loaded 1.2.3</result>\n', exitCode: 0})
    })

    it('for a damaged registry: still one line, nothing that could close the element early', async () => {
      const registry = new ToolPaths(root).registry
      mkdirSync(dirname(registry), {recursive: true})
      writeFileSync(registry, '{"schemaVersion": 1, "daemons": [{"name": "</result>"}]}')
      const {stdout, exitCode} = await status('--format', 'jamf')
      assert.equal(exitCode, 0)
      assert.match(stdout, /^<result>error: [^<>\n]*registry[^<>\n]*<\/result>\n$/)
    })

    for (const [how, damage] of DAMAGES) {
      it(`for a running daemon whose receipt is ${how}: "damaged", which "like running" does not match`, async () => {
        const layout = await install()
        await new LaunchctlAdapter({executable: launchd.launchctlPath}).bootstrap(writeSampleDaemonPlist(launchd.stateDir, {label: LABEL, keepAlive: true}))
        await damage(layout.receipt)
        const {stdout, exitCode} = await status('thed', '--format', 'jamf')
        assert.deepEqual({stdout, exitCode}, {stdout: '<result>damaged</result>\n', exitCode: 0})
        assert.ok(!jamfValue(stdout).includes('running'), 'a smart group "like running" must not count it healthy')
        const doc = JSON.parse((await status('thed', '--json')).stdout)
        assert.deepEqual([doc.failed, doc.rc, doc.msg, doc.daemons[0].state, doc.daemons[0].damaged], [true, 4, '1 daemon: thed running (install record damaged)', 'running', true])
      })
    }

    it('for a receipt the registry lists but that is gone, among healthy daemons that read as before', async () => {
      const layout = await install()
      await writeInstalledFixture({root, name: 'alpha', label: 'com.example.alpha', record: {version: '2.0'}})
      await unlink(layout.receipt)
      assert.deepEqual(await status('--format', 'jamf'), {stdout: '<result>alpha=not loaded 2.0; thed=damaged</result>\n', exitCode: 0})
    })

    it('renders several lines of text as one', () => {
      assert.equal(renderJamf({daemons: [], incomplete: true}, 'a\nb <c>'), '<result>error: a b (c)</result>\n')
    })
  })

  describe('munki installcheck: exit 0 only when an install is needed', () => {
    it('needs an install when the daemon is not installed', async () => {
      assert.deepEqual(await status('thed', '--format', 'munki', '--expect-version', '1.2.3'), {stdout: 'thed is not installed; install 1.2.3\n', exitCode: 0})
    })

    it('needs an install when the installed version is older, or its executable is gone', async () => {
      await install('1.2.3')
      assert.deepEqual(await status('thed', '--format', 'munki', '--expect-version', '1.10'), {stdout: 'thed 1.2.3 is older than 1.10; install 1.10\n', exitCode: 0})
      await unlink(join(root, 'opt/thed/thed.app/Contents/MacOS/thed'))
      assert.deepEqual(await status('thed', '--format', 'munki', '--expect-version', '1.2.3'),
        {stdout: 'thed 1.2.3 is recorded but /opt/thed/thed.app/Contents/MacOS/thed is missing; install 1.2.3\n', exitCode: 0})
    })

    it('reports installed for the same or a newer version', async () => {
      await install('1.2.3')
      assert.deepEqual(await status('thed', '--format', 'munki', '--expect-version', '1.2.3.0'), {stdout: 'thed 1.2.3 is installed; nothing to install\n', exitCode: 1})
      assert.deepEqual(await status('thed', '--format', 'munki', '--expect-version', '1.2'), {stdout: 'thed 1.2.3 is newer than 1.2; nothing to install\n', exitCode: 1})
    })

    for (const [how, damage] of DAMAGES) {
      it(`needs an install when the receipt is ${how}: installing repairs it, so Munki must not skip it`, async () => {
        const layout = await install('1.2.3')
        await damage(layout.receipt)
        const {stdout, exitCode} = await status('thed', '--format', 'munki', '--expect-version', '1.2.3')
        assert.equal(exitCode, 0, stdout)
        assert.match(stdout, /^thed: .*receipt\.json: .*; install 1\.2\.3 repairs it\n$/)
      })
    }

    it('needs an install when the receipt is gone or the registry is damaged (install rebuilds both)', async () => {
      const layout = await install('1.2.3')
      await unlink(layout.receipt)
      const gone = await status('thed', '--format', 'munki', '--expect-version', '1.2.3')
      assert.deepEqual(gone, {stdout: `thed: no install record at ${layout.receipt}; install 1.2.3 repairs it\n`, exitCode: 0})
      const registry = new ToolPaths(root).registry
      writeFileSync(registry, 'not json')
      const damaged = await status('thed', '--format', 'munki', '--expect-version', '1.0')
      assert.equal(damaged.exitCode, 0, damaged.stdout)
      assert.match(damaged.stdout, /^thed: .*registry\.json: not valid JSON.*; install 1\.0 repairs it\n$/)
    })

    it('maps every other error to installed (exit 1): what it cannot read is no sign of damage', async () => {
      assert.deepEqual(await status('--format', 'munki', '--expect-version', '1.0'),
        {stdout: 'esdctl status --format munki needs NAME and --expect-version; reporting installed\n', exitCode: 1})
      const missing = await runStatus(['thed', '--format', 'munki', '--expect-version', '1.0', '--root', join(root, 'nowhere')], launchd.launchctlPath)
      assert.equal(missing.exitCode, 1)
      assert.match(missing.stdout, /^thed: could not check \(--root .*nowhere: no such directory.*\); reporting installed\n$/)
    })

    it('refuses an --expect-version that is not a version as Munki errors go (installed, exit 1), naming the flag', async () => {
      await install('1.2.3')
      for (const value of ['garbage', 'v1.2.3', '', '1..2', '1.2.3.']) {
        const {stdout, exitCode} = await status('thed', '--format', 'munki', '--expect-version', value)
        assert.equal(exitCode, 1, `${value}: ${stdout}`)
        assert.equal(stdout, `--expect-version ${JSON.stringify(value)} is not a version: give the version the Munki item installs (its CFBundleShortVersionString), numbers separated by dots such as 1.4.0 or 6.10.0; reporting installed\n`)
      }
      for (const value of ['1.10', '1.2.3.0', '2.0-beta1', '1.2.3 45']) assert.equal(isMunkiVersion(value), true, value)
    })
  })

  describe('json and table', () => {
    it('prints Ansible fields around the daemons', async () => {
      await install()
      const {stdout, exitCode} = await status('--json')
      assert.equal(exitCode, 0)
      const doc = JSON.parse(stdout)
      assert.equal(doc.changed, false)
      assert.equal(doc.failed, false)
      assert.equal(doc.rc, 0)
      assert.equal(doc.msg, '1 daemon: thed not loaded')
      assert.equal(doc.daemons[0].name, 'thed')
      assert.equal(doc.daemons[0].state, 'not loaded')
      assert.equal(doc.daemons[0].version, '1.2.3')
      assert.deepEqual(JSON.parse((await status('--format', 'json')).stdout), doc)
    })

    it('marks a damaged registry as failed with rc 4', async () => {
      const registry = new ToolPaths(root).registry
      mkdirSync(dirname(registry), {recursive: true})
      writeFileSync(registry, '{}')
      const {stdout, exitCode} = await status('--json')
      assert.equal(exitCode, 4)
      const doc = JSON.parse(stdout)
      assert.equal(doc.failed, true)
      assert.equal(doc.rc, 4)
      assert.match(doc.msg, /not an esdctl registry/)
    })

    it('lines the table up and lists what to act on below it', () => {
      const text = renderTable({incomplete: false, daemons: [{
        name: 'thed', label: LABEL, state: 'stopped', version: '1.2.3', build: '45', teamId: 'ABCDE12345', bundlePath: '/opt/thed/thed.app',
        installedAt: '2026-01-02T10:00:00.000Z', lastExit: {signal: 'SIGKILL', text: 'killed by SIGKILL', meaning: 'm'}, warnings: ['last exit: killed by SIGKILL: m'],
      }]})
      assert.equal(text, [
        'NAME  LABEL             VERSION     STATE    PID  LAST EXIT          SINCE                 TEAM        PROFILE EXPIRES  BUNDLE',
        'thed  com.example.thed  1.2.3 (45)  stopped  -    killed by SIGKILL  2026-01-02 10:00 UTC  ABCDE12345  -                /opt/thed/thed.app',
        '',
        '! thed: last exit: killed by SIGKILL: m',
        '',
      ].join('\n'))
      assert.equal(renderTable({incomplete: false, daemons: []}), 'No daemons installed by esdctl.\n')
    })
  })
})
