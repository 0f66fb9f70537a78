import {strict as assert} from 'node:assert'
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {execa} from 'execa'
import {REPO_ROOT} from '../support/real-artifacts.js'
import {skipBecause} from '../support/skip.js'

const RUN_JS = join(REPO_ROOT, 'bin', 'run.js')
const isRoot = process.geteuid?.() === 0
/**
 * Anything not set here is dropped, so the test machine's own NODE_OPTIONS cannot leak in. Under
 * `npm run mutate` the mutant being tested travels to the child in __STRYKER_ACTIVE_MUTANT__.
 */
const BASE_ENV: Record<string, string> = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: process.env.HOME ?? '/',
  ...(process.env.__STRYKER_ACTIVE_MUTANT__ === undefined ? {} : {__STRYKER_ACTIVE_MUTANT__: process.env.__STRYKER_ACTIVE_MUTANT__}),
}

function run(args: string[], env: Record<string, string>, opts: {uid?: number} = {}) {
  return execa(process.execPath, [RUN_JS, ...args], {env: {...BASE_ENV, ...env}, extendEnv: false, reject: false, ...opts})
}

describe('bin/run.js', function () {
  this.timeout(60_000)

  it('prints the version', async () => {
    const r = await run(['--version'], {})
    assert.equal(r.exitCode, 0)
    assert.match(r.stdout, /^esdctl\/\d+\.\d+\.\d+ /)
  })

  for (const variable of ['NODE_OPTIONS', 'NODE_PATH']) {
    it(`refuses ${variable} as root with exit 9 and says why`, async function () {
      if (!isRoot) skipBecause(this, 'needs-root')
      const r = await run(['--version'], {[variable]: variable === 'NODE_OPTIONS' ? '--no-warnings' : '/tmp'})
      assert.equal(r.exitCode, 9)
      assert.equal(r.stdout, '')
      assert.match(r.stderr, new RegExp(`refusing to run as root with ${variable} set: it lets whoever set the environment load code into a root process`))
      assert.match(r.stderr, new RegExp(`^Unset ${variable} \\(for example`, 'm'))
      assert.match(r.stderr, new RegExp(`env -u NODE_OPTIONS -u NODE_PATH`))
    })
  }

  it('names both variables when both are set, and ignores empty ones', async function () {
    if (!isRoot) skipBecause(this, 'needs-root')
    const both = await run(['--version'], {NODE_OPTIONS: '--no-warnings', NODE_PATH: '/tmp'})
    assert.equal(both.exitCode, 9)
    assert.match(both.stderr, /NODE_OPTIONS and NODE_PATH set: they let whoever set the environment/)
    assert.match(both.stderr, /^Unset NODE_OPTIONS and NODE_PATH \(for example/m)
    const empty = await run(['--version'], {NODE_OPTIONS: ' ', NODE_PATH: ''})
    assert.equal(empty.exitCode, 0, empty.stderr)
  })

  it('lets an unprivileged user keep NODE_OPTIONS', async function () {
    if (!isRoot) skipBecause(this, 'needs-root')
    const r = await run(['--version'], {NODE_OPTIONS: '--no-warnings'}, {uid: 65534})
    if (r.exitCode !== 0 && /EACCES|permission denied/i.test(r.stderr + (r.shortMessage ?? ''))) skipBecause(this, 'uid-switch-refused')
    assert.equal(r.exitCode, 0, r.stderr)
    assert.match(r.stdout, /^esdctl\//)
  })

  it('starts where the platform has no process.geteuid (Windows), treating the user as not root', async () => {
    // A flag, not NODE_OPTIONS: the preload only removes geteuid before bin/run.js runs.
    const r = await execa(process.execPath, ['--import', 'data:text/javascript,delete process.geteuid', RUN_JS, '--version'], {env: BASE_ENV, extendEnv: false, reject: false})
    assert.equal(r.exitCode, 0, r.stderr)
    assert.match(r.stdout, /^esdctl\//)
  })

  describe('user and linked oclif plugins', () => {
    let dir: string
    let dataDir: string

    before(async () => {
      // A linked plugin in the invoking user's oclif data dir, with a command that announces itself.
      dir = await mkdtemp(join(tmpdir(), 'esdctl-plugins-'))
      dataDir = join(dir, 'data')
      const plugin = join(dir, 'planted')
      await mkdir(join(plugin, 'commands'), {recursive: true})
      await mkdir(dataDir)
      await writeFile(join(plugin, 'package.json'), JSON.stringify({name: 'esdctl-plugin-planted', version: '1.0.0', type: 'module', oclif: {commands: './commands'}}))
      await writeFile(join(plugin, 'commands', 'planted.js'), "export default class Planted { static async run() { process.stdout.write('PLANTED PLUGIN RAN\\n') } }\n")
      await writeFile(join(dataDir, 'package.json'), JSON.stringify({private: true, oclif: {schema: 1, plugins: [
        {type: 'link', name: 'esdctl-plugin-planted', root: plugin},
        {type: 'user', name: 'esdctl-plugin-planted', tag: 'latest'},
      ]}}))
    })
    after(async () => {
      await rm(dir, {recursive: true, force: true})
    })

    it('are loaded by oclif by default (the control)', async () => {
      const script = `import {execute} from '@oclif/core'; await execute({dir: ${JSON.stringify(RUN_JS)}, args: ['planted']})`
      const r = await execa(process.execPath, ['--input-type=module', '-e', script], {cwd: REPO_ROOT, env: {...BASE_ENV, ESDCTL_DATA_DIR: dataDir}, extendEnv: false, reject: false})
      assert.match(r.stdout, /PLANTED PLUGIN RAN/)
    })

    it('are never loaded by esdctl', async () => {
      const r = await run(['planted'], {ESDCTL_DATA_DIR: dataDir})
      assert.doesNotMatch(r.stdout, /PLANTED/)
      assert.notEqual(r.exitCode, 0)
      assert.match(r.stderr, /command planted not found/)
    })
  })
})
