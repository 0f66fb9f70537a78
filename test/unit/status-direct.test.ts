import {strict as assert} from 'node:assert'
import {mkdirSync, writeFileSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {Config} from '@oclif/core'
import {execa} from 'execa'
import {LaunchctlAdapter} from '../../src/adapters/launchctl.js'
import Status from '../../src/commands/status.js'
import {ToolPaths} from '../../src/layout/prefix-layout.js'
import {parseStatusArgv, statusWithoutOclif} from '../../src/status/direct-status.js'
import {writeInstalledFixture} from '../support/installed-fixture.js'
import {startFakeLaunchd, type FakeLaunchd} from '../doubles/fake-launchd/fake-launchd.js'
import {writeSampleDaemonPlist} from '../doubles/fake-launchd/daemon-plist.js'
import {REPO_ROOT} from '../support/real-artifacts.js'

interface Outcome {
  stdout: string
  stderr: string
  exitCode: number
}

/** Runs `fn` with stdout, stderr and process.exitCode captured; `fn` may also return the exit code. */
async function captured(fn: () => Promise<number | void>): Promise<Outcome & {returned: number | void}> {
  const out: string[] = []
  const err: string[] = []
  const {write: stdoutWrite} = process.stdout
  const {write: stderrWrite} = process.stderr
  const savedExitCode = process.exitCode
  process.exitCode = undefined
  process.stdout.write = ((chunk: string | Uint8Array) => out.push(String(chunk)) > 0) as typeof process.stdout.write
  process.stderr.write = ((chunk: string | Uint8Array) => err.push(String(chunk)) > 0) as typeof process.stderr.write
  let returned: number | void
  try {
    returned = await fn()
  } finally {
    process.stdout.write = stdoutWrite
    process.stderr.write = stderrWrite
  }
  const exitCode = Number(process.exitCode ?? 0)
  process.exitCode = savedExitCode
  return {stdout: out.join(''), stderr: err.join(''), exitCode, returned}
}

const THED = 'com.example.thed'

describe('esdctl status without oclif (the bin/run.js fast path)', function () {
  this.timeout(60_000)

  describe('which command lines it takes', () => {
    it('reads the plain ones with the flag table: defaults, --json, NAME anywhere, --flag=value', () => {
      assert.deepEqual(parseStatusArgv([]), {format: 'table', root: '/'})
      assert.deepEqual(parseStatusArgv(['thed', '--json']), {format: 'json', root: '/', name: 'thed'})
      assert.deepEqual(parseStatusArgv(['--json', '--format', 'jamf']), {format: 'json', root: '/'}, '--json wins, as in the command')
      assert.deepEqual(parseStatusArgv(['--format=jamf', '--root', '/r', 'thed']), {format: 'jamf', root: '/r', name: 'thed'})
      assert.deepEqual(parseStatusArgv(['thed', '--format', 'munki', '--expect-version=-1']), {format: 'munki', root: '/', name: 'thed', expectVersion: '-1'})
    })

    const leftToOclif: Array<[string, string[]]> = [
      ['--help', ['--help']],
      ['-h', ['-h']],
      ['an unknown flag', ['--bogus']],
      ['an unknown short flag', ['-x']],
      ['a second argument', ['a', 'b']],
      ['a format that is not an option', ['--format', 'xml']],
      ['a missing value', ['--root']],
      ['a value that looks like a flag', ['--root', '--json']],
      ['a value given to a boolean', ['--json=true']],
      ['a negated boolean', ['--no-json']],
      ['a repeated flag', ['--root', '/a', '--root', '/b']],
      ['a repeated boolean', ['--json', '--json']],
      ['an empty value', ['--root=']],
      ['an empty NAME', ['']],
      ['the end-of-flags marker', ['--', 'thed']],
      ['--version', ['--version']],
    ]
    for (const [what, argv] of leftToOclif) {
      it(`leaves ${what} to oclif, writing nothing`, async () => {
        assert.equal(parseStatusArgv(argv), undefined)
        const launchctl = new LaunchctlAdapter({executable: '/nonexistent/launchctl'})
        const r = await captured(() => statusWithoutOclif(argv, () => launchctl))
        assert.deepEqual(r, {stdout: '', stderr: '', exitCode: 0, returned: undefined})
      })
    }
  })

  describe('same output and exit code as the oclif command, against the fake launchd', () => {
    let launchd: FakeLaunchd
    let config: Config
    let root: string
    let damagedRoot: string

    before(async () => {
      launchd = await startFakeLaunchd()
      config = await Config.load({root: REPO_ROOT, userPlugins: false, devPlugins: false, jitPlugins: false})
      root = await mkdtemp(join(tmpdir(), 'esdctl-status-direct-'))
      // thed: installed, with its executable, and running; alpha: installed, never loaded.
      const thed = await writeInstalledFixture({root, name: 'thed', label: THED, record: {version: '1.2.3'}})
      mkdirSync(dirname(thed.executable), {recursive: true})
      writeFileSync(thed.executable, 'binary', {mode: 0o755})
      await writeInstalledFixture({root, name: 'alpha', label: 'com.example.alpha', record: {version: '2.0', build: '7'}})
      await new LaunchctlAdapter({executable: launchd.launchctlPath}).bootstrap(writeSampleDaemonPlist(launchd.stateDir, {label: THED, keepAlive: true}))
      damagedRoot = await mkdtemp(join(tmpdir(), 'esdctl-status-direct-damaged-'))
      const registry = new ToolPaths(damagedRoot).registry
      mkdirSync(dirname(registry), {recursive: true})
      writeFileSync(registry, '{"schemaVersion": 1, "daemons": "</result>"}')
    })
    after(async () => {
      await new LaunchctlAdapter({executable: launchd.launchctlPath}).bootout(THED, {waitMs: 5000})
      await launchd.stop()
      await rm(root, {recursive: true, force: true})
      await rm(damagedRoot, {recursive: true, force: true})
    })

    const adapter = () => new LaunchctlAdapter({executable: launchd.launchctlPath})
    async function viaOclif(argv: string[]): Promise<Outcome> {
      class StatusWithDouble extends Status {
        protected override launchctl(): LaunchctlAdapter {
          return adapter()
        }
      }
      const {stdout, stderr, exitCode} = await captured(async () => {
        await StatusWithDouble.run(argv, config)
      })
      return {stdout, stderr, exitCode}
    }
    /** As bin/run.js does it: the returned code becomes the exit code. */
    async function direct(argv: string[]): Promise<Outcome> {
      const {stdout, stderr, returned} = await captured(() => statusWithoutOclif(argv, () => adapter()))
      assert.equal(typeof returned, 'number', `the direct path should take ${JSON.stringify(argv)}`)
      return {stdout, stderr, exitCode: returned as number}
    }

    const cases: Array<[string, string[], Partial<Outcome>]> = [
      ['table, every daemon', [], {exitCode: 0}],
      ['table, one NAME', ['thed'], {exitCode: 0}],
      ['table, a NAME not installed', ['nosuch'], {exitCode: 0}],
      ['json, every daemon', ['--format', 'json'], {exitCode: 0}],
      ['--json, one NAME', ['alpha', '--json'], {exitCode: 0}],
      ['--json over --format table', ['--json', '--format=table', 'thed'], {exitCode: 0}],
      ['jamf, every daemon', ['--format', 'jamf'], {stdout: '<result>alpha=not loaded 2.0; thed=running 1.2.3</result>\n', exitCode: 0}],
      ['jamf, one NAME', ['thed', '--format', 'jamf'], {stdout: '<result>running 1.2.3</result>\n', exitCode: 0}],
      ['munki, an older version installed', ['thed', '--format', 'munki', '--expect-version', '1.10'], {stdout: 'thed 1.2.3 is older than 1.10; install 1.10\n', exitCode: 0}],
      ['munki, this version installed', ['--format', 'munki', 'thed', '--expect-version=1.2.3'], {exitCode: 1}],
      ['munki, not installed', ['nosuch', '--format', 'munki', '--expect-version', '1.0'], {exitCode: 0}],
      ['munki without NAME', ['--format', 'munki', '--expect-version', '1.0'], {exitCode: 1}],
      ['munki without --expect-version', ['thed', '--format', 'munki'], {exitCode: 1}],
    ]
    for (const [what, argv, expected] of cases) {
      it(what, async () => {
        const args = [...argv, '--root', root]
        const fast = await direct(args)
        const oclif = await viaOclif(args)
        assert.deepEqual(fast, oclif)
        assert.notEqual(fast.stdout, '', 'something was written (the capture works)')
        for (const [key, value] of Object.entries(expected)) assert.equal(fast[key as keyof Outcome], value, key)
      })
    }

    it('the running daemon really is reported as running, with its pid', async () => {
      const {stdout} = await direct(['thed', '--json', '--root', root])
      const doc = JSON.parse(stdout)
      assert.equal(doc.daemons[0].state, 'running')
      assert.ok(doc.daemons[0].pid > 0)
    })

    for (const argv of [[], ['--json'], ['thed', '--format', 'jamf'], ['thed', '--format', 'munki', '--expect-version', '1.0']]) {
      it(`a damaged registry: ${argv.join(' ') || 'table'}`, async () => {
        const args = [...argv, '--root', damagedRoot]
        const fast = await direct(args)
        assert.deepEqual(fast, await viaOclif(args))
        assert.notEqual(fast.stdout + fast.stderr, '')
      })
    }
  })

  describe('bin/run.js', () => {
    let root: string

    before(async () => {
      root = await mkdtemp(join(tmpdir(), 'esdctl-status-bin-'))
      await writeInstalledFixture({root, name: 'thed', label: THED})
    })
    after(async () => {
      await rm(root, {recursive: true, force: true})
    })

    /** Only what is set here: the test machine's NODE_OPTIONS cannot leak in. */
    const env = {PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/'}
    const binRun = (args: string[]) => execa(process.execPath, [join(REPO_ROOT, 'bin', 'run.js'), ...args], {env, extendEnv: false, reject: false})
    /** oclif's own execute with esdctl's options, never the fast path: what bin/run.js did before. */
    const oclifRun = (args: string[]) => {
      const loadOptions = {root: REPO_ROOT, userPlugins: false, devPlugins: false, jitPlugins: false}
      // oclif's error handler reads process.argv to show the command's help.
      const argv = JSON.stringify([join(REPO_ROOT, 'bin', 'run.js'), ...args])
      const script = `process.argv.splice(1, Infinity, ...${argv}); const {execute} = await import('@oclif/core/execute'); await execute({loadOptions: ${JSON.stringify(loadOptions)}})`
      return execa(process.execPath, ['--input-type=module', '-e', script], {cwd: REPO_ROOT, env, extendEnv: false, reject: false})
    }
    const same = async (args: string[]) => {
      const [a, b] = await Promise.all([binRun(args), oclifRun(args)])
      assert.deepEqual({stdout: a.stdout, stderr: a.stderr, exitCode: a.exitCode}, {stdout: b.stdout, stderr: b.stderr, exitCode: b.exitCode})
      return a
    }

    it('prints help through oclif', async () => {
      const r = await same(['status', '--help'])
      assert.equal(r.exitCode, 0)
      assert.match(r.stdout, /^USAGE\n {2}\$ esdctl status \[NAME\]/m)
    })

    it('rejects a bad flag through oclif', async () => {
      const r = await same(['status', '--bogus', '--root', root])
      assert.equal(r.exitCode, 2)
      assert.match(r.stderr, /Nonexistent flag: --bogus/)
      const format = await same(['status', '--format', 'xml', '--root', root])
      assert.equal(format.exitCode, 2)
      assert.match(format.stderr, /Expected --format=xml to be one of: table, json, jamf, munki/)
    })

    it('runs status with the production launchctl, writing what the oclif command writes', async () => {
      // Whatever launchctl says here (absent on Linux, "not loaded" on a Mac), both paths say it alike.
      for (const args of [['--json'], ['thed'], ['--format', 'jamf'], ['thed', '--format', 'munki', '--expect-version', '9']]) {
        const r = await same(['status', ...args, '--root', root])
        assert.notEqual(r.stdout, '')
      }
    })
  })
})
