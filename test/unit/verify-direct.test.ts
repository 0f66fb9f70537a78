import {strict as assert} from 'node:assert'
import {join} from 'node:path'
import {execa} from 'execa'
import {parseVerifyArgv} from '../../src/cli/direct-verify.js'
import {moduleGraph} from '../support/module-graph.js'
import {realProfile, REPO_ROOT} from '../support/real-artifacts.js'
import {operaBundle, realPackage} from '../support/real-shipped.js'
import {skipBecause} from '../support/skip.js'

const RUN_JS = join(REPO_ROOT, 'bin', 'run.js')
const BASE_ENV = {PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/'}

function run(args: string[]) {
  return execa(process.execPath, [RUN_JS, ...args], {env: BASE_ENV, extendEnv: false, reject: false})
}

function profile(ctx: Mocha.Context, name: Parameters<typeof realProfile>[0]): string {
  return realProfile(name) ?? skipBecause(ctx, 'fixtures-absent')
}

describe('esdctl verify without oclif (the bin/run.js fast path)', function () {
  this.timeout(120_000)

  describe('which command lines it takes', () => {
    it('takes PATH alone or with --warnings-as-errors on either side', () => {
      assert.deepEqual(parseVerifyArgv(['a.app']), {path: 'a.app', warningsAsErrors: false})
      assert.deepEqual(parseVerifyArgv(['--warnings-as-errors', 'a.app']), {path: 'a.app', warningsAsErrors: true})
      assert.deepEqual(parseVerifyArgv(['a.app', '--warnings-as-errors']), {path: 'a.app', warningsAsErrors: true})
    })

    const leftToOclif: Array<[string, string[]]> = [
      ['no path', []],
      ['--json (oclif prints the JSON)', ['--json', 'a.app']],
      ['--help', ['--help']],
      ['-h', ['a.app', '-h']],
      ['an unknown flag', ['--bogus', 'a.app']],
      ['a second path', ['a.app', 'b.app']],
      ['an empty path', ['']],
      ['the end-of-flags marker', ['--', 'a.app']],
      ['a repeated flag', ['--warnings-as-errors', '--warnings-as-errors', 'a.app']],
      ['a value given to the boolean', ['--warnings-as-errors=true', 'a.app']],
      ['a negated boolean', ['--no-warnings-as-errors', 'a.app']],
    ]
    for (const [what, argv] of leftToOclif) {
      it(`leaves ${what} to oclif`, () => assert.equal(parseVerifyArgv(argv), undefined))
    }
  })

  describe('prints and exits exactly as the oclif command (`verify -- PATH` goes through oclif)', () => {
    const cases: Array<[string, (ctx: Mocha.Context) => string[]]> = [
      ['the real Opera bundle (exit 0)', ctx => [operaBundle(ctx)]],
      ['an expired real development profile (exit 3)', ctx => [profile(ctx, 'credctl-development-expired')]],
      ['a real profile under --warnings-as-errors', ctx => ['--warnings-as-errors', profile(ctx, 'karabiner-daemon-devid')]],
      ['a path that does not exist (exit 4)', () => [join(REPO_ROOT, 'no-such-input.app')]],
    ]
    for (const [what, argv] of cases) {
      it(what, async function () {
        const args = argv(this)
        const direct = await run(['verify', ...args])
        const path = args.pop()!
        const viaOclif = await run(['verify', ...args, '--', path])
        assert.ok(direct.stdout.includes(path), 'the report names the input')
        assert.deepEqual({stdout: direct.stdout, stderr: direct.stderr, exitCode: direct.exitCode}, {stdout: viaOclif.stdout, stderr: viaOclif.stderr, exitCode: viaOclif.exitCode})
      })
    }
  })

  it('leaves ESDCTL_CONTENT_TYPE=json to oclif, which then prints the JSON report', async function () {
    const path = profile(this, 'karabiner-daemon-devid')
    const r = await execa(process.execPath, [RUN_JS, 'verify', path], {env: {...BASE_ENV, ESDCTL_CONTENT_TYPE: 'json'}, extendEnv: false, reject: false})
    const json = await run(['verify', '--json', path])
    assert.equal(r.exitCode, json.exitCode)
    assert.deepEqual(JSON.parse(r.stdout), JSON.parse(json.stdout))
    assert.equal((JSON.parse(r.stdout) as {kind: string}).kind, 'profile')
  })

  it('does not load oclif for a plain command line, and does for --json (the control)', async function () {
    const path = profile(this, 'karabiner-daemon-devid')
    const oclif = /\/node_modules\/@oclif\/core\//
    const plain = await moduleGraph(RUN_JS, ['verify', path])
    assert.ok(plain.some(url => url.endsWith('/dist/src/verify/verify-path.js')), 'the verifier ran')
    assert.deepEqual(plain.filter(url => oclif.test(url)), [])
    const json = await moduleGraph(RUN_JS, ['verify', '--json', path])
    assert.ok(json.some(url => oclif.test(url)))
  })

  describe('loads neither asn1js (DER is read with the bounded BER reader) nor the plist writers (xmlbuilder)', () => {
    const asn1js = /\/node_modules\/(asn1js|@peculiar\/utils|pvtsutils|pvutils)\//
    const xmlbuilder = /\/node_modules\/xmlbuilder\//
    const cases: Array<[string, (ctx: Mocha.Context) => string]> = [
      ['the real Karabiner package (profiles, DER entitlements, a stapled ticket inside)', ctx => realPackage(ctx, 'Karabiner-DriverKit-VirtualHIDDevice-6.10.0.pkg')],
      ['the real Opera bundle', ctx => operaBundle(ctx)],
    ]
    for (const [what, input] of cases) {
      it(what, async function () {
        const graph = await moduleGraph(RUN_JS, ['verify', input(this)])
        for (const needed of ['/dist/src/verify/verify-path.js', '/dist/src/formats/der-tree.js', '/dist/src/formats/property-list.js', '/node_modules/plist/dist/parse.js']) {
          assert.ok(graph.some(url => url.endsWith(needed)), `${needed} should be loaded`)
        }
        assert.deepEqual(graph.filter(url => asn1js.test(url) || xmlbuilder.test(url)), [])
      })
    }

    it('would notice asn1js and xmlbuilder (the DER entitlements encoder and the launchd plist writer load them)', async () => {
      assert.ok((await moduleGraph(join(REPO_ROOT, 'dist', 'src', 'formats', 'der-entitlements-encode.js'))).some(url => asn1js.test(url)))
      assert.ok((await moduleGraph(join(REPO_ROOT, 'dist', 'src', 'launchd', 'render-plist.js'))).some(url => xmlbuilder.test(url)))
    })
  })
})
