import {strict as assert} from 'node:assert'
import {chmod, mkdir, readdir, readFile, rm, stat, symlink, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {execa} from 'execa'
import * as plist from 'plist'
import {PkgbuildAdapter} from '../../src/adapters/pkgbuild.js'
import {buildAppBundle} from '../../src/bundle/build-bundle.js'
import {BuildRefusal} from '../../src/bundle/bundle-error.js'
import {ExitCode} from '../../src/exit-codes.js'
import {buildPayload, type PayloadRequest} from '../../src/payload-build/build-payload.js'
import {renderPkgScript, type PkgScriptValues} from '../../src/payload-build/pkg-scripts.js'
import {createPkgbuildDouble} from '../doubles/pkgbuild/pkgbuild-double.js'
import {BUNDLE_ID, makeFixture, signedApp, TEAM, type Fixture} from './bundle.fixtures.js'

const PAYLOAD_REL = ['Library', 'Application Support', 'esdctl', 'payloads', 'thed', '1.4.2']

describe('esdctl payload (library)', () => {
  let fx: Fixture
  let app: string
  let manifest: string
  before(async () => {
    fx = await makeFixture()
    app = await signedApp(fx, join(fx.dir, 'bundle'))
    manifest = join(fx.dir, 'esdctl.json')
    await writeFile(manifest, JSON.stringify({name: 'thed', label: 'com.example.thed', bundleId: BUNDLE_ID, teamId: TEAM, programArguments: ['--config', '{{etc}}/thed.conf']}))
    await mkdir(join(fx.dir, 'etc'))
    await writeFile(join(fx.dir, 'etc', 'thed.conf'), 'level=1\n')
    await mkdir(join(fx.dir, 'lib'))
    await writeFile(join(fx.dir, 'lib', 'libthed.1.dylib'), 'lib')
    await symlink('libthed.1.dylib', join(fx.dir, 'lib', 'libthed.dylib'))
  })
  after(() => rm(fx.dir, {recursive: true, force: true}))

  let n = 0
  const request = (over: Partial<PayloadRequest> = {}): PayloadRequest => ({app, manifest, out: join(fx.dir, `payload-${++n}`), ...over})
  const env = {pkgbuild: null}

  async function refusal(req: PayloadRequest): Promise<BuildRefusal> {
    const before = await readdir(fx.dir)
    let caught: unknown
    await buildPayload(req, {trust: fx.trust, ...env}).catch(e => (caught = e))
    assert.ok(caught instanceof BuildRefusal, `expected a refusal, got ${String(caught)}`)
    assert.deepEqual(await readdir(fx.dir), before, 'a refusal writes nothing')
    return caught
  }

  it('lays the payload out like the prefix inside the pkg root, with scripts, component plist and instructions', async () => {
    const req = request({etc: join(fx.dir, 'etc'), lib: join(fx.dir, 'lib')})
    const r = await buildPayload(req, {trust: fx.trust, ...env})
    const payload = join(req.out, 'root', ...PAYLOAD_REL)
    assert.equal(r.payload, payload)
    assert.equal(r.installedPayload, '/' + PAYLOAD_REL.join('/'))
    assert.deepEqual((await readdir(req.out)).sort(), ['PACKAGING.txt', 'component.plist', 'root', 'scripts'])
    assert.deepEqual((await readdir(payload)).sort(), ['esdctl.json', 'etc', 'lib', 'thed.app'])
    assert.deepEqual(await readFile(join(payload, 'esdctl.json')), await readFile(manifest))
    assert.deepEqual(await readFile(join(payload, 'thed.app', 'Contents', 'MacOS', 'thed')), await readFile(join(app, 'Contents', 'MacOS', 'thed')))
    assert.equal(await readFile(join(payload, 'etc', 'thed.conf'), 'utf8'), 'level=1\n')
    assert.equal((await stat(join(payload, 'lib', 'libthed.dylib'))).isFile(), true, 'an internal relative link is kept and resolves')
    assert.deepEqual(plist.parse(await readFile(r.componentPlist, 'utf8')), [{
      BundleHasStrictIdentifier: true, BundleIsRelocatable: false, BundleIsVersionChecked: false, BundleOverwriteAction: 'upgrade',
      RootRelativeBundlePath: `${PAYLOAD_REL.join('/')}/thed.app`,
    }])
    assert.deepEqual(r.commands.pkgbuild, ['pkgbuild', '--root', 'root', '--component-plist', 'component.plist', '--scripts', 'scripts', '--identifier', `${BUNDLE_ID}.pkg`, '--version', '1.4.2', '--install-location', '/', 'thed-1.4.2-component.pkg'])
    assert.deepEqual(r.commands.productbuild, ['productbuild', '--package', 'thed-1.4.2-component.pkg', '--sign', '$INSTALLER_IDENTITY', '--timestamp', 'thed-1.4.2.pkg'])
    assert.deepEqual(r.commands.notarytool, ['xcrun', 'notarytool', 'submit', 'thed-1.4.2.pkg', '--keychain-profile', '$NOTARY_PROFILE', '--wait'])
    assert.deepEqual(r.commands.stapler, ['xcrun', 'stapler', 'staple', 'thed-1.4.2.pkg'])
    const instructions = await readFile(r.instructions, 'utf8')
    for (const line of r.commandLines) assert.ok(instructions.includes(line), line)
    assert.ok(r.commandLines[1]!.includes('--sign "$INSTALLER_IDENTITY"'))
    assert.deepEqual(r.pkg, {built: false, reason: 'not asked for (--pkg)'})
    for (const script of [r.scripts.preinstall, r.scripts.postinstall]) {
      assert.equal((await stat(script)).mode & 0o777, 0o755)
      assert.equal((await execa('bash', ['-n', script], {reject: false})).exitCode, 0, script)
      const text = await readFile(script, 'utf8')
      assert.match(text, /^set -eu$/m)
      assert.match(text, /^PATH=\/usr\/bin:\/bin:\/usr\/sbin:\/sbin$/m)
      assert.match(text, /^unset NODE_OPTIONS NODE_PATH$/m)
      assert.match(text, /^ESDCTL=\/usr\/local\/bin\/esdctl$/m)
    }
    assert.match(await readFile(r.scripts.postinstall, 'utf8'), /^RECEIPT=\/opt\/thed\/\.esdctl\/receipt\.json$/m)
  })

  describe('the pkg scripts, run with a stub esdctl', () => {
    let stub: string
    let log: string
    let values: PkgScriptValues
    before(async () => {
      log = join(fx.dir, 'stub.log')
      stub = join(fx.dir, 'stub esdctl')
      await writeFile(stub, `#!/bin/bash\nprintf '%s\\n' "$@" > ${JSON.stringify(log)}\nenv >> ${JSON.stringify(log)}\nexit "$(cat ${JSON.stringify(join(fx.dir, 'stub.exit'))})"\n`)
      await chmod(stub, 0o755)
      values = {name: 'thed', version: '1.4.2', esdctl: stub, payload: '/' + PAYLOAD_REL.join('/'), receipt: join(fx.dir, 'receipt.json')}
    })

    async function runScript(name: 'preinstall' | 'postinstall', exit: number, volume = '/') {
      await writeFile(join(fx.dir, 'stub.exit'), String(exit))
      await rm(log, {force: true})
      const script = join(fx.dir, name)
      await writeFile(script, renderPkgScript(name, values), {mode: 0o755})
      return execa('bash', [script, '/tmp/thed.pkg', '/', volume, '/'], {reject: false, env: {NODE_OPTIONS: '--require /tmp/evil.js', NODE_PATH: '/tmp/evil', PATH: '/tmp/evil:/usr/bin:/bin', HOME: '/Users/someone'}, extendEnv: false})
    }

    it('postinstall installs the first time and upgrades after, with a clean environment, and returns esdctl\'s status', async () => {
      await rm(values.receipt, {force: true})
      const first = await runScript('postinstall', 0)
      assert.equal(first.exitCode, 0, first.stderr)
      const [verb, payload, ...env] = (await readFile(log, 'utf8')).trim().split('\n')
      assert.equal(verb, 'install')
      assert.equal(payload, values.payload)
      assert.ok(env.includes('PATH=/usr/bin:/bin:/usr/sbin:/sbin'), env.join('\n'))
      assert.ok(env.includes('HOME=/var/root'))
      assert.ok(!env.some(l => l.startsWith('NODE_OPTIONS=') || l.startsWith('NODE_PATH=')), 'Node variables removed')
      await writeFile(values.receipt, '{}')
      const second = await runScript('postinstall', 6)
      assert.equal(second.exitCode, 6, 'esdctl\'s exit status is the script\'s')
      assert.equal((await readFile(log, 'utf8')).split('\n')[0], 'upgrade')
    })

    it('both scripts refuse a target volume other than the running system', async () => {
      for (const name of ['preinstall', 'postinstall'] as const) {
        const r = await runScript(name, 0, '/Volumes/Other')
        assert.equal(r.exitCode, 1)
        assert.match(r.stderr, /running system only/)
      }
      await assert.rejects(stat(log), {code: 'ENOENT'}, 'esdctl was not run')
    })

    it('preinstall checks that esdctl is there, and refuses bad template values', async () => {
      assert.equal((await runScript('preinstall', 0)).exitCode, 0)
      const missing = renderPkgScript('preinstall', {...values, esdctl: join(fx.dir, 'nope')})
      await writeFile(join(fx.dir, 'pre-missing'), missing)
      const r = await execa('bash', [join(fx.dir, 'pre-missing'), 'a', '/', '/'], {reject: false})
      assert.equal(r.exitCode, 1)
      assert.match(r.stderr, /missing or not executable/)
      assert.throws(() => renderPkgScript('postinstall', {...values, esdctl: 'esdctl'}), /absolute/)
      assert.throws(() => renderPkgScript('postinstall', {...values, version: '1.0; rm -rf /'}), /plain word/)
    })
  })

  it('--pkg runs pkgbuild through the adapter with the same inputs the command lines name', async () => {
    const double = createPkgbuildDouble()
    try {
      const req = request({pkg: true})
      const r = await buildPayload(req, {trust: fx.trust, pkgbuild: new PkgbuildAdapter({executable: double.pkgbuildPath})})
      assert.deepEqual(r.pkg, {built: true, path: join(req.out, 'thed-1.4.2-component.pkg')})
      assert.equal((await readFile(r.pkg.path!)).subarray(0, 4).toString(), 'xar!')
      const [call] = double.calls()
      assert.equal(call!.exitCode, 0, call!.stderr)
      const argv = call!.argv
      const value = (flag: string): string => argv[argv.indexOf(flag) + 1]!
      assert.match(value('--root'), /\/root$/)
      assert.match(value('--scripts'), /\/scripts$/)
      assert.match(value('--component-plist'), /\/component\.plist$/)
      assert.equal(value('--identifier'), `${BUNDLE_ID}.pkg`)
      assert.equal(value('--version'), '1.4.2')
      assert.equal(value('--install-location'), '/')
      assert.match(argv.at(-1)!, /thed-1\.4\.2-component\.pkg$/)
      assert.deepEqual(argv.filter(a => a.startsWith('--')), r.commands.pkgbuild.filter(a => a.startsWith('--')))
      const before = await readdir(fx.dir)
      let caught: unknown
      await buildPayload(request({pkg: true, installerIdentity: 'Developer ID Installer: Nobody (ZZZZZ99999)'}), {trust: fx.trust, pkgbuild: new PkgbuildAdapter({executable: double.pkgbuildPath})}).catch(e => (caught = e))
      assert.ok(caught instanceof BuildRefusal)
      assert.equal(caught.code, 'payload.pkgbuild-failed')
      assert.match(caught.message, /no signing identity “Developer ID Installer: Nobody \(ZZZZZ99999\)” in the keychain/)
      assert.deepEqual(await readdir(fx.dir), before, 'a failed pkgbuild leaves no output')
      assert.deepEqual(double.calls()[1]!.argv.slice(-4), ['--sign', 'Developer ID Installer: Nobody (ZZZZZ99999)', '--timestamp', double.calls()[1]!.argv.at(-1)])
    } finally {
      double.cleanup()
    }
  })

  it('--pkg where pkgbuild does not exist says so and still writes the inputs', async () => {
    const r = await buildPayload(request({pkg: true}), {trust: fx.trust, pkgbuild: null})
    assert.equal(r.pkg.built, false)
    assert.match(r.pkg.reason!, /only on macOS/)
  })

  describe('refusals, before anything is written', () => {
    it('a manifest the schema refuses, naming the field', async () => {
      const bad = join(fx.dir, 'bad.json')
      await writeFile(bad, JSON.stringify({name: 'thed', label: 'com.example.thed', bundleId: BUNDLE_ID}))
      const e = await refusal(request({manifest: bad}))
      assert.equal(e.exitCode, ExitCode.badInput)
      assert.equal(e.file, bad)
      assert.equal(e.field, '/teamId')
      await rm(bad)
    })

    it('a manifest whose plist doctor would fail (UserName not root), naming esdctl.json and /UserName', async () => {
      const bad = join(fx.dir, 'esdctl-user.json')
      await writeFile(bad, JSON.stringify({name: 'thed', label: 'com.example.thed', bundleId: BUNDLE_ID, teamId: TEAM, UserName: '_mydaemon'}))
      const e = await refusal(request({manifest: bad}))
      assert.equal(e.exitCode, ExitCode.badInput)
      assert.equal(e.field, '/UserName')
      assert.match(e.message, /must run as root/)
      await rm(bad)
    })

    it('a manifest that disagrees with the bundle: bundle id, name, team', async () => {
      for (const [over, field] of [[{bundleId: 'com.example.other'}, '/bundleId'], [{name: 'other'}, '/name'], [{teamId: 'ZZZZZ99999'}, '/teamId']] as const) {
        const other = join(fx.dir, 'other.json')
        await writeFile(other, JSON.stringify(Object.assign({name: 'thed', label: 'com.example.thed', bundleId: BUNDLE_ID, teamId: TEAM}, over)))
        const e = await refusal(request({manifest: other}))
        assert.equal(e.code, field === '/name' ? 'payload.app-name' : 'payload.manifest-disagrees')
        assert.equal(e.field, field)
        assert.equal(e.file, other)
        await rm(other)
      }
    })

    it('a bundle not signed yet (esdctl bundle off a Mac, before sign.sh): exit 3 with the findings every install would report', async () => {
      const unsignedOut = join(fx.dir, 'unsigned')
      const unsigned = (await buildAppBundle({executable: fx.executable, profile: await fx.profile(), bundleId: BUNDLE_ID, version: '1.4.2', out: unsignedOut}, {trust: fx.trust, codesign: null})).app
      const e = await refusal(request({app: unsigned}))
      assert.equal(e.exitCode, ExitCode.verificationFailed)
      assert.equal(e.code, 'payload.verify-failed')
      assert.equal(e.file, unsigned)
      const ids = new Set(e.findings.filter(f => f.severity === 'error').map(f => f.id))
      for (const id of ['seal.absent', 'install.team-mismatch', 'install.identifier-mismatch']) assert.ok(ids.has(id), `${id} in ${[...ids].join(', ')}`)
      assert.ok(e.findings.every(f => !f.path.includes('.esdctl-') && !f.message.includes('.esdctl-')), 'findings name the bundle given, not the staging copy')
      assert.ok(e.findings.some(f => f.path.startsWith(unsigned)))
      assert.match(e.message, /every install would refuse this bundle \(exit 3\)/)
      assert.match(e.fix, /sign\.sh/)
      await rm(unsignedOut, {recursive: true})
    })

    it('a manifest whose config names a file the payload does not ship: exit 4 naming /config/0; shipped, it is accepted', async () => {
      const withConfig = join(fx.dir, 'with-config.json')
      await writeFile(withConfig, JSON.stringify({name: 'thed', label: 'com.example.thed', bundleId: BUNDLE_ID, teamId: TEAM, config: ['thed.conf']}))
      const none = await refusal(request({manifest: withConfig}))
      assert.equal(none.exitCode, ExitCode.badInput)
      assert.equal(none.code, 'payload.config-missing')
      assert.equal(none.file, withConfig)
      assert.equal(none.field, '/config/0')
      assert.match(none.message, /names "thed\.conf", but the payload would have no etc\/thed\.conf \(no --etc was given\)/)
      const emptyEtc = join(fx.dir, 'empty-etc')
      await mkdir(emptyEtc)
      const empty = await refusal(request({manifest: withConfig, etc: emptyEtc}))
      assert.equal(empty.field, '/config/0')
      assert.match(empty.message, /--etc .*empty-etc has no thed\.conf/)
      const r = await buildPayload(request({manifest: withConfig, etc: join(fx.dir, 'etc')}), {trust: fx.trust, ...env})
      assert.equal(await readFile(join(r.payload, 'etc', 'thed.conf'), 'utf8'), 'level=1\n')
      await rm(r.out, {recursive: true})
      await rm(emptyEtc, {recursive: true})
      await rm(withConfig)
    })

    it('an --out its folder will not take (EACCES, ENOENT, EROFS): exit 4 naming --out, not an internal error', async () => {
      let out: string
      let locked: string | undefined
      if (process.getuid?.() !== 0) {
        locked = join(fx.dir, 'locked')
        await mkdir(locked, {mode: 0o555})
        out = join(locked, 'payload')
      } else {
        // root writes anywhere a mode allows: take folders no one can create in.
        out = process.platform === 'linux' ? '/proc/nope' : '/System/nope'
      }
      const e = await refusal(request({out}))
      assert.equal(e.exitCode, ExitCode.badInput)
      assert.equal(e.code, 'payload.out-unwritable')
      assert.equal(e.field, '--out')
      assert.equal(e.file, out)
      assert.match(e.message, /cannot be written \((EACCES|EPERM|ENOENT|EROFS)/)
      assert.match(e.fix, /Choose an --out in a folder you can write to/)
      if (locked) await rm(locked, {recursive: true})
    })

    it('an existing --out unless --force; a link in etc/; a link leaving lib/', async () => {
      const out = join(fx.dir, 'existing')
      await mkdir(out)
      // An empty folder is what the not-ours fix asks for: it is filled without --force.
      await buildPayload(request({out}), {trust: fx.trust, ...env})
      assert.ok((await readdir(out)).includes('root'))
      const again = await refusal(request({out}))
      assert.equal(again.code, 'payload.exists')
      assert.match(again.message, /already exists and is not empty/)
      // Its own earlier output is replaced; a folder holding anything else never is (--out /tmp --force).
      await buildPayload(request({out, force: true}), {trust: fx.trust, ...env})
      await writeFile(join(out, 'thesis.txt'), 'years of work')
      const kept = await refusal(request({out, force: true}))
      assert.equal(kept.code, 'payload.not-ours')
      assert.match(kept.message, /holds thesis\.txt/)
      assert.match(kept.fix, /Choose a new or empty --out folder/)
      assert.equal(await readFile(join(out, 'thesis.txt'), 'utf8'), 'years of work')
      assert.ok((await readdir(out)).includes('root'), 'nothing of the folder was changed')
      await rm(out, {recursive: true})
      const etc = join(fx.dir, 'etc-link')
      await mkdir(etc)
      await symlink('thed.conf', join(etc, 'alias.conf'))
      assert.equal((await refusal(request({etc}))).code, 'payload.special-file')
      const lib = join(fx.dir, 'lib-escape')
      await mkdir(lib)
      await symlink('../etc/thed.conf', join(lib, 'escape'))
      const e = await refusal(request({lib}))
      assert.equal(e.code, 'payload.link-escapes')
      assert.equal(e.field, '--lib')
      await rm(etc, {recursive: true})
      await rm(lib, {recursive: true})
    })
  })
})
