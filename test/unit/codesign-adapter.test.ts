import {strict as assert} from 'node:assert'
import {mkdir, mkdtemp, rm, writeFile, copyFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {execa} from 'execa'
import {CodesignAdapter, CodesignError} from '../../src/adapters/codesign.js'
import {parseCodesignArgs, UsageError} from '../doubles/codesign/codesign-args.js'
import {createCodesignDouble, type CodesignDouble} from '../doubles/codesign/codesign-double.js'
import {ARTIFACTS, realArtifact} from '../support/real-artifacts.js'
import {skipBecause} from '../support/skip.js'

const IDENTITY = 'Developer ID Application: Example Inc (ABCDE12345)'
const INFO = (exe: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>CFBundleExecutable</key><string>${exe}</string></dict></plist>`

describe('CodesignAdapter and the codesign double', () => {
  let dir: string
  let double: CodesignDouble
  let codesign: CodesignAdapter
  let machO: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'esdctl-codesign-'))
    double = createCodesignDouble({identities: [IDENTITY]})
    codesign = new CodesignAdapter({executable: double.codesignPath})
    machO = await realArtifact(ARTIFACTS.esbuild)
  })
  afterEach(async () => {
    double.cleanup()
    await rm(dir, {recursive: true, force: true})
  })

  async function makeApp(withHelper: boolean): Promise<{app: string; helper: string}> {
    const app = join(dir, 'thed.app')
    await mkdir(join(app, 'Contents', 'MacOS'), {recursive: true})
    await mkdir(join(app, 'Contents', 'Resources'), {recursive: true})
    await writeFile(join(app, 'Contents', 'Info.plist'), INFO('thed'))
    await copyFile(machO, join(app, 'Contents', 'MacOS', 'thed'))
    const helper = join(app, 'Contents', 'Resources', 'helper')
    if (withHelper) await copyFile(machO, helper)
    return {app, helper}
  }

  it('builds the argv codesign expects, options before the one path', () => {
    assert.deepEqual(
      CodesignAdapter.signArguments('/x/thed.app', {identity: IDENTITY, force: true, runtime: true, timestamp: true, identifier: 'com.example.thed', entitlements: '/x/thed.entitlements'}),
      ['--sign', IDENTITY, '--force', '--options', 'runtime', '--timestamp', '--identifier', 'com.example.thed', '--entitlements', '/x/thed.entitlements', '/x/thed.app'],
    )
    assert.deepEqual(CodesignAdapter.verifyArguments('/x/thed.app'), ['--verify', '--strict', '--deep', '-vvvv', '/x/thed.app'])
  })

  it('refuses relative paths and unusable identities without running codesign', async () => {
    await assert.rejects(codesign.sign('thed.app', {identity: IDENTITY}), (e: unknown) => e instanceof CodesignError && /must be absolute/.test(e.message))
    await assert.rejects(codesign.sign('/x/thed.app', {identity: 'a\nb'}), /not a usable identity/)
    await assert.rejects(codesign.verify('-v'), /must be absolute/)
    assert.equal(double.calls().length, 0)
  })

  it('verify: unsigned code is "not signed at all"; signed code is valid until a sealed file changes', async () => {
    const {app} = await makeApp(false)
    const unsigned = await codesign.verify(app)
    assert.equal(unsigned.ok, false)
    assert.match(unsigned.output, /code object is not signed at all/)
    await codesign.sign(app, {identity: IDENTITY, runtime: true, timestamp: true})
    const good = await codesign.verify(app)
    assert.equal(good.ok, true, good.output)
    assert.match(good.output, /valid on disk/)
    await writeFile(join(app, 'Contents', 'Resources', 'late.conf'), 'x')
    const modified = await codesign.verify(app)
    assert.equal(modified.ok, false)
    assert.match(modified.output, /a sealed resource is missing or invalid/)
    assert.match(modified.output, /file added: Contents\/Resources\/late.conf/)
  })

  it('signing a bundle before its nested code fails as codesign does; nested first succeeds', async () => {
    const {app, helper} = await makeApp(true)
    await assert.rejects(codesign.sign(app, {identity: IDENTITY}), (e: unknown) => {
      assert.ok(e instanceof CodesignError)
      assert.equal(e.code, 1)
      assert.match(e.stderr, /code object is not signed at all\nIn subcomponent: .*Resources\/helper/)
      return true
    })
    await codesign.sign(helper, {identity: IDENTITY, runtime: true})
    await codesign.sign(app, {identity: IDENTITY, runtime: true})
    assert.equal((await codesign.verify(app)).ok, true)
    const calls = double.calls()
    assert.deepEqual(calls.map(c => [c.seq, c.exitCode, c.argv.at(-1)]), [[1, 1, app], [2, 0, helper], [3, 0, app], [4, 0, app]])
    assert.equal(calls[0]!.cwd, process.cwd())
  })

  it('an unknown identity is "no identity found"; re-signing needs --force', async () => {
    const {app} = await makeApp(false)
    await assert.rejects(codesign.sign(app, {identity: 'Developer ID Application: Someone Else'}), /Someone Else: no identity found/)
    await codesign.sign(app, {identity: IDENTITY})
    await assert.rejects(codesign.sign(app, {identity: IDENTITY}), /is already signed/)
    await codesign.sign(app, {identity: IDENTITY, force: true})
    await assert.rejects(codesign.sign(app, {identity: IDENTITY, force: true, entitlements: join(dir, 'missing.plist')}), /failed to parse entitlements/)
  })

  it('the double parses argv as getopt_long does and exits 2 on a usage error', async () => {
    assert.deepEqual(parseCodesignArgs(['-fs', IDENTITY, '-o', 'runtime,library', '--timestamp', '/a']), {
      operation: 'sign', identity: IDENTITY, force: true, deep: false, strict: false, verbosity: 0, options: ['runtime', 'library'], timestamp: true, paths: ['/a'],
    })
    const verify = parseCodesignArgs(['-vvvv', '--strict', '--deep', '/a'])
    assert.equal(verify.operation, 'verify')
    assert.equal(verify.verbosity, 3)
    assert.equal(parseCodesignArgs(['--sign=X', '--entitlements=/e', '-v', '/a']).verbosity, 1)
    assert.throws(() => parseCodesignArgs(['--frobnicate', '/a']), UsageError)
    assert.throws(() => parseCodesignArgs(['--sign', 'X']), UsageError)
    assert.throws(() => parseCodesignArgs(['/a']), UsageError)
    const r = await execa(double.codesignPath, ['--bogus', '/a'], {reject: false})
    assert.equal(r.exitCode, 2)
    assert.match(r.stderr, /Usage: codesign/)
  })

  it('available() is false off macOS', function () {
    if (process.platform === 'darwin') skipBecause(this, 'not-on-macos')
    assert.equal(CodesignAdapter.available(), false)
  })
})
