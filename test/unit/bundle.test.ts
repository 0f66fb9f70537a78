import {strict as assert} from 'node:assert'
import {copyFile, mkdir, readdir, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {execa} from 'execa'
import * as plist from 'plist'
import {CodesignAdapter} from '../../src/adapters/codesign.js'
import {buildAppBundle, type BundleRequest} from '../../src/bundle/build-bundle.js'
import {BuildRefusal} from '../../src/bundle/bundle-error.js'
import {ExitCode} from '../../src/exit-codes.js'
import {parseFileLayout} from '../../src/formats/macho.js'
import {createCodesignDouble} from '../doubles/codesign/codesign-double.js'
import {ARTIFACTS, realArtifact} from '../support/real-artifacts.js'
import {BUNDLE_ID, ES, makeFixture, TEAM, type Fixture} from './bundle.fixtures.js'

const DAY = 86_400_000

describe('esdctl bundle (library)', () => {
  let fx: Fixture
  let profile: string
  before(async () => {
    fx = await makeFixture()
    profile = await fx.profile()
  })
  after(() => rm(fx.dir, {recursive: true, force: true}))

  let n = 0
  const outDir = (): string => join(fx.dir, `out-${++n}`)
  const request = (over: Partial<BundleRequest> = {}): BundleRequest => ({executable: fx.executable, profile, bundleId: BUNDLE_ID, version: '1.4.2', out: outDir(), ...over})
  const unsigned = {codesign: null}

  async function refusal(req: BundleRequest, env: Parameters<typeof buildAppBundle>[1]): Promise<BuildRefusal> {
    const before = await readdir(fx.dir)
    let caught: unknown
    await buildAppBundle(req, {trust: fx.trust, ...env}).catch(e => (caught = e))
    assert.ok(caught instanceof BuildRefusal, `expected a refusal, got ${String(caught)}`)
    assert.deepEqual(await readdir(fx.dir), before, 'a refusal writes nothing (no out, no staging left over)')
    return caught
  }

  it('keeps the executable\'s name and case as CFBundleExecutable; --name names the bundle (osquery.app runs osqueryd)', async () => {
    const real = join(fx.dir, 'Karabiner-VirtualHIDDevice-Daemon')
    await copyFile(fx.executable, real)
    const own = request({executable: real})
    await buildAppBundle(own, {trust: fx.trust, ...unsigned})
    const karabiner = join(own.out, 'Karabiner-VirtualHIDDevice-Daemon.app', 'Contents')
    assert.equal((plist.parse(await readFile(join(karabiner, 'Info.plist'), 'utf8')) as {CFBundleExecutable: string}).CFBundleExecutable, 'Karabiner-VirtualHIDDevice-Daemon')
    const osqueryd = join(fx.dir, 'osqueryd')
    await copyFile(fx.executable, osqueryd)
    const named = request({executable: osqueryd, name: 'osquery'})
    const r = await buildAppBundle(named, {trust: fx.trust, ...unsigned})
    assert.equal(r.app, join(named.out, 'osquery.app'))
    assert.deepEqual(await readFile(join(named.out, 'osquery.app', 'Contents', 'MacOS', 'osqueryd')), await readFile(fx.executable))
    const info = plist.parse(await readFile(join(named.out, 'osquery.app', 'Contents', 'Info.plist'), 'utf8')) as {CFBundleExecutable: string; CFBundleName: string}
    assert.equal(info.CFBundleExecutable, 'osqueryd')
    assert.equal(info.CFBundleName, 'osquery')
    const bad = await refusal(request({executable: osqueryd, name: '../osquery'}), unsigned)
    assert.equal(bad.code, 'bundle.bad-name')
    assert.equal(bad.file, '--name')
    assert.ok(bad.message.startsWith('--name: "../osquery" cannot name a bundle'), bad.message)
    await rm(real)
    await rm(osqueryd)
  })

  it('lays out <name>.app with Info.plist, PkgInfo, the profile and the executable, and writes sign.sh without codesign', async () => {
    const req = request({build: '42'})
    const r = await buildAppBundle(req, {trust: fx.trust, ...unsigned})
    const contents = join(req.out, 'thed.app', 'Contents')
    assert.equal(r.app, join(req.out, 'thed.app'))
    assert.deepEqual((await readdir(contents)).sort(), ['Info.plist', 'MacOS', 'PkgInfo', 'Resources', 'embedded.provisionprofile'])
    assert.deepEqual(await readFile(join(contents, 'MacOS', 'thed')), await readFile(fx.executable))
    assert.equal((await stat(join(contents, 'MacOS', 'thed'))).mode & 0o777, 0o755)
    assert.deepEqual(await readFile(join(contents, 'embedded.provisionprofile')), await readFile(profile))
    assert.equal(await readFile(join(contents, 'PkgInfo'), 'utf8'), 'APPL????')
    assert.deepEqual(plist.parse(await readFile(join(contents, 'Info.plist'), 'utf8')), {
      CFBundleDevelopmentRegion: 'en',
      CFBundleExecutable: 'thed',
      CFBundleIdentifier: BUNDLE_ID,
      CFBundleInfoDictionaryVersion: '6.0',
      CFBundleName: 'thed',
      CFBundlePackageType: 'APPL',
      CFBundleShortVersionString: '1.4.2',
      CFBundleSupportedPlatforms: ['MacOSX'],
      CFBundleVersion: '42',
      LSBackgroundOnly: true,
      LSMinimumSystemVersion: '12.0',
      LSUIElement: true,
    })
    const entitlements = {'com.apple.application-identifier': `${TEAM}.${BUNDLE_ID}`, 'com.apple.developer.team-identifier': TEAM, [ES]: true}
    assert.deepEqual(plist.parse(await readFile(join(req.out, 'thed.entitlements'), 'utf8')), entitlements)
    assert.deepEqual(r.entitlements, entitlements)
    assert.equal(r.signed, false)
    assert.equal(r.script, join(req.out, 'sign.sh'))
    assert.equal(r.identity, fx.identity.info.sha1, 'without --identity, the profile\'s only certificate by SHA-1')
    assert.deepEqual((await readdir(req.out)).sort(), ['sign.sh', 'thed.app', 'thed.entitlements'])
    assert.deepEqual((await readdir(fx.dir)).filter(f => f.includes('esdctl-')), [], 'no staging directory left')
  })

  it('sign.sh is valid bash and runs exactly the planned codesign calls, relative to itself', async () => {
    const req = request()
    await mkdir(join(fx.dir, 'res', 'bin'), {recursive: true})
    await copyFile(fx.executable, join(fx.dir, 'res', 'bin', 'helper'))
    await writeFile(join(fx.dir, 'res', 'thed.conf'), 'level=1\n')
    const r = await buildAppBundle({...req, resources: join(fx.dir, 'res')}, {trust: fx.trust, ...unsigned})
    const script = await readFile(r.script!, 'utf8')
    assert.equal((await execa('bash', ['-n', r.script!], {reject: false})).exitCode, 0)
    assert.equal((await stat(r.script!)).mode & 0o111, 0o111)
    const lines = script.split('\n').filter(l => l.startsWith('/usr/bin/codesign'))
    assert.deepEqual(lines, [
      `/usr/bin/codesign --sign ${r.identity} --force --options runtime --timestamp "$HERE"/thed.app/Contents/Resources/bin/helper`,
      `/usr/bin/codesign --sign ${r.identity} --force --options runtime --timestamp --identifier ${BUNDLE_ID} --entitlements "$HERE"/thed.entitlements "$HERE"/thed.app`,
      '/usr/bin/codesign --verify --strict --deep -vvvv "$HERE"/thed.app',
    ])
    assert.match(script, /^set -euo pipefail$/m)
    assert.deepEqual(r.signing.map(s => s.target), ['thed.app/Contents/Resources/bin/helper', 'thed.app'])
    assert.equal(await readFile(join(r.app, 'Contents', 'Resources', 'thed.conf'), 'utf8'), 'level=1\n')
    assert.ok(!script.includes(fx.dir), 'no path of the build machine in the script')
    await rm(join(fx.dir, 'res'), {recursive: true})
  })

  it('with codesign: signs nested code first, then the bundle with the entitlements; refuses success when the result does not verify', async () => {
    const double = createCodesignDouble({identities: [fx.identity.info.commonName!]})
    try {
      await mkdir(join(fx.dir, 'res2'))
      await copyFile(fx.executable, join(fx.dir, 'res2', 'helper'))
      const req = request({resources: join(fx.dir, 'res2'), identity: fx.identity.info.commonName!})
      const e = await refusal(req, {codesign: new CodesignAdapter({executable: double.codesignPath})})
      const calls = double.calls()
      assert.deepEqual(calls.map(c => [c.argv[0], c.exitCode]), [['--sign', 0], ['--sign', 0], ['--verify', 0]])
      assert.match(calls[0]!.argv.at(-1)!, /thed\.app\/Contents\/Resources\/helper$/)
      assert.deepEqual(calls[0]!.argv.slice(0, -1), ['--sign', fx.identity.info.commonName!, '--force', '--options', 'runtime', '--timestamp'])
      const bundleCall = calls[1]!.argv
      assert.match(bundleCall.at(-1)!, /thed\.app$/)
      assert.deepEqual(bundleCall.slice(0, 9), ['--sign', fx.identity.info.commonName!, '--force', '--options', 'runtime', '--timestamp', '--identifier', BUNDLE_ID, '--entitlements'])
      const sealedEntitlements = double.seals()[bundleCall.at(-1)!]!.entitlements!
      assert.equal(plist.parse(sealedEntitlements) && (plist.parse(sealedEntitlements) as Record<string, unknown>)[ES], true)
      // The double records but cannot really sign, so the verifier still sees esbuild's ad-hoc linker signature.
      assert.equal(e.exitCode, ExitCode.verificationFailed)
      assert.equal(e.code, 'bundle.verify-failed')
      assert.ok(e.findings.some(f => f.severity === 'error'))
      assert.match(e.message, /does not verify, so it was not written/)
      await rm(join(fx.dir, 'res2'), {recursive: true})
    } finally {
      double.cleanup()
    }
  })

  it('codesign without the identity: a refusal that says so, nothing written', async () => {
    const double = createCodesignDouble({identities: []})
    try {
      const e = await refusal(request({identity: fx.identity.info.commonName!}), {codesign: new CodesignAdapter({executable: double.codesignPath})})
      assert.equal(e.code, 'bundle.identity-not-found')
      assert.match(e.message, /no identity found/)
      assert.equal(double.calls().length, 1)
    } finally {
      double.cleanup()
    }
  })

  it('accepts a wildcard App ID (TEAM.*) and extra entitlements the profile allows', async () => {
    const wildcard = await fx.profile({appId: `${TEAM}.*`, entitlements: {'com.apple.application-identifier': `${TEAM}.*`, 'com.apple.developer.team-identifier': TEAM, [ES]: true, 'com.apple.developer.networking.networkextension': ['packet-tunnel-provider-systemextension', 'app-proxy-provider-systemextension']}})
    const r = await buildAppBundle(request({profile: wildcard, entitlements: [ES, 'com.apple.developer.networking.networkextension=app-proxy-provider-systemextension', 'com.apple.security.cs.allow-jit']}), {trust: fx.trust, ...unsigned})
    assert.equal(r.entitlements['com.apple.application-identifier'], `${TEAM}.${BUNDLE_ID}`)
    assert.deepEqual(r.entitlements['com.apple.developer.networking.networkextension'], ['app-proxy-provider-systemextension'])
    assert.equal(r.entitlements['com.apple.security.cs.allow-jit'], true, 'unrestricted entitlements need no profile')
  })

  describe('refusals, before anything is written', () => {
    it('an entitlement the profile does not allow', async () => {
      const noEs = await fx.profile({entitlements: {'com.apple.application-identifier': `${TEAM}.${BUNDLE_ID}`, 'com.apple.developer.team-identifier': TEAM}})
      const e = await refusal(request({profile: noEs}), unsigned)
      assert.equal(e.exitCode, ExitCode.badInput)
      assert.equal(e.code, 'bundle.entitlement-not-allowed')
      assert.equal(e.file, noEs)
      assert.equal(e.field, `Entitlements.${ES}`)
      assert.match(e.message, new RegExp(`^${noEs}: Entitlements.${ES.replaceAll('.', '\\.')}: the profile ".*" does not allow ${ES.replaceAll('.', '\\.')}`))
      const other = await refusal(request({entitlements: ['com.apple.developer.system-extension.install']}), unsigned)
      assert.equal(other.field, 'Entitlements.com.apple.developer.system-extension.install')
    })

    it('a bundle id the App ID does not match', async () => {
      const e = await refusal(request({bundleId: 'com.example.other'}), unsigned)
      assert.equal(e.exitCode, ExitCode.badInput)
      assert.equal(e.code, 'bundle.app-id-mismatch')
      assert.equal(e.field, 'Entitlements.com.apple.application-identifier')
      assert.match(e.message, /App ID ABCDE12345\.com\.example\.thed does not cover bundle id com\.example\.other/)
      const prefixOnly = await fx.profile({appId: `${TEAM}.com.example.*`})
      await buildAppBundle(request({profile: prefixOnly, bundleId: 'com.example.thed2'}), {trust: fx.trust, ...unsigned})
      assert.equal((await refusal(request({profile: prefixOnly, bundleId: 'org.example.thed'}), unsigned)).code, 'bundle.app-id-mismatch')
    })

    it('an expired profile', async () => {
      const expired = await fx.profile({expires: new Date(Date.now() - 2 * DAY)})
      const e = await refusal(request({profile: expired}), unsigned)
      assert.equal(e.exitCode, ExitCode.badInput)
      assert.equal(e.code, 'bundle.profile.expired')
      assert.equal(e.field, 'ExpirationDate')
      assert.match(e.message, /expired on \d{4}-\d\d-\d\d/)
    })

    it('a profile that is not for macOS', async () => {
      const ios = await fx.profile({platform: ['iOS']})
      const e = await refusal(request({profile: ios}), unsigned)
      assert.equal(e.code, 'bundle.profile.platform')
      assert.equal(e.field, 'Platform')
      assert.match(e.message, /for iOS, not macOS/)
    })

    it('a profile that Apple (here: the test roots) did not sign', async () => {
      const e = await refusal(request(), {...unsigned, trust: undefined as never})
      assert.equal(e.code, 'bundle.profile.untrusted')
    })

    it('an identity the profile does not list, and several certificates without --identity', async () => {
      const e = await refusal(request({identity: 'Developer ID Application: Stranger (ZZZZZ99999)'}), unsigned)
      assert.equal(e.code, 'bundle.identity-not-listed')
      assert.equal(e.field, 'DeveloperCertificates')
      const other = await (await (await import('../support/test-pki.js')).createTestPki()).developerId('ABCDE12345', {name: 'Second'})
      const two = await fx.profile({extraCertificates: [other.certDer]})
      assert.equal((await refusal(request({profile: two}), unsigned)).code, 'bundle.identity-ambiguous')
    })

    it('bad flags: executable name, not Mach-O, bundle id, version, derived entitlement keys', async () => {
      const upper = join(fx.dir, '-TheD')
      await copyFile(fx.executable, upper)
      assert.equal((await refusal(request({executable: upper}), unsigned)).field, 'CFBundleExecutable')
      await rm(upper)
      const text = join(fx.dir, 'script')
      await writeFile(text, '#!/bin/sh\n')
      assert.equal((await refusal(request({executable: text}), unsigned)).code, 'bundle.not-macho')
      await rm(text)
      assert.equal((await refusal(request({bundleId: 'com example'}), unsigned)).field, 'CFBundleIdentifier')
      assert.equal((await refusal(request({version: '1.2.3.4'}), unsigned)).field, 'CFBundleShortVersionString')
      assert.equal((await refusal(request({build: 'abc'}), unsigned)).field, 'CFBundleVersion')
      assert.equal((await refusal(request({minMacos: '9'}), unsigned)).field, 'LSMinimumSystemVersion')
      assert.equal((await refusal(request({entitlements: ['com.apple.application-identifier']}), unsigned)).file, '--entitlement')
      assert.equal((await refusal(request({executable: join(fx.dir, 'missing')}), unsigned)).code, 'bundle.executable-unreadable')
    })

    it('a library or object file as the daemon (filetype not MH_EXECUTE, in any slice): exit 4 naming the file and the filetype', async () => {
      // Real binaries whose header says what a .dylib or .o says: launchd cannot run either.
      const thin = await readFile(fx.executable)
      for (const [fileType, name] of [[6, 'MH_DYLIB'], [1, 'MH_OBJECT']] as const) {
        const lib = join(fx.dir, `libthed-${fileType}`)
        const bytes = Buffer.from(thin)
        bytes.writeUInt32LE(fileType, 12)
        await writeFile(lib, bytes)
        const e = await refusal(request({executable: lib}), unsigned)
        assert.equal(e.exitCode, ExitCode.badInput)
        assert.equal(e.code, 'bundle.not-executable')
        assert.equal(e.file, lib)
        assert.equal(e.field, '--executable')
        assert.match(e.message, new RegExp(`the arm64 slice is ${name} \\(${fileType}\\), not MH_EXECUTE \\(2\\)`))
        await rm(lib)
      }
      // A universal file is checked slice by slice: sentry-cli with its second slice made a dylib.
      const universal = await readFile(await realArtifact(ARTIFACTS.sentryCli))
      const second = parseFileLayout(universal.subarray(0, 4096), universal.length).slices[1]!
      universal.writeUInt32LE(6, second.offset + 12)
      const mixed = join(fx.dir, 'mixed')
      await writeFile(mixed, universal)
      const e = await refusal(request({executable: mixed}), unsigned)
      assert.equal(e.code, 'bundle.not-executable')
      assert.match(e.message, new RegExp(`the ${second.arch} slice is MH_DYLIB \\(6\\)`))
      await rm(mixed)
    })

    it('an --out its folder will not take: exit 4 naming --out, not an internal error', async () => {
      // As root every mode is writable: take folders no one can create in.
      const locked = join(fx.dir, 'locked')
      const out = process.getuid?.() !== 0 ? join(locked, 'dist') : process.platform === 'linux' ? '/proc/nope' : '/System/nope'
      if (process.getuid?.() !== 0) await mkdir(locked, {mode: 0o555})
      const before = await readdir(fx.dir)
      const e = await buildAppBundle(request({out}), {trust: fx.trust, ...unsigned}).then(() => undefined, (x: unknown) => x)
      assert.ok(e instanceof BuildRefusal, String(e))
      assert.deepEqual(await readdir(fx.dir), before)
      assert.equal(e.exitCode, ExitCode.badInput)
      assert.equal(e.code, 'bundle.out-unwritable')
      assert.equal(e.field, '--out')
      assert.equal(e.file, out)
      // The errno code once, as Node's own message begins with it: "(ENOENT: no such file…)", never "ENOENT: ENOENT".
      assert.match(e.message, /cannot be written \((E[A-Z]+): (?!\1)[^)]*\); nothing was written$/)
      assert.match(e.fix, /Choose an --out in a folder you can write to/)
      await rm(locked, {recursive: true, force: true})
    })

    it('a --profile that is not a profile: the file named once, no "(file)" field in the message', async () => {
      const junk = join(fx.dir, 'junk.provisionprofile')
      await writeFile(junk, 'not a profile')
      const e = await refusal(request({profile: junk}), unsigned)
      assert.equal(e.code, 'bundle.profile-unreadable')
      assert.ok(e.message.startsWith(`${junk}: is not a provisioning profile (`), e.message)
      await rm(junk)
    })

    it('a FIFO in --resources: named as a named pipe, with a fix for it (not the symbolic-link one)', async () => {
      const res = join(fx.dir, 'res-fifo')
      await mkdir(res)
      await execa('mkfifo', [join(res, 'control')])
      const e = await refusal(request({resources: res}), unsigned)
      assert.equal(e.code, 'bundle.resources-special')
      assert.equal(e.file, join(res, 'control'))
      assert.match(e.message, /is a named pipe; only directories and regular files go into a bundle/)
      assert.doesNotMatch(e.fix, /points to/)
      assert.match(e.fix, /Remove it from the --resources directory/)
      await rm(res, {recursive: true})
    })

    it('--entitlement KEY=true/false are booleans; Endpoint Security claimed false is refused with why', async () => {
      const es = await refusal(request({entitlements: [`${ES}=false`]}), unsigned)
      assert.equal(es.code, 'bundle.bad-entitlement')
      assert.ok(es.message.startsWith(`--entitlement: ${ES}: "${ES}=false" would deny the daemon Endpoint Security`), es.message)
      assert.doesNotMatch(es.fix, /Ask Apple/)
      const r = await buildAppBundle(request({entitlements: [`${ES}=true`]}), {trust: fx.trust, ...unsigned})
      assert.equal(r.entitlements[ES], true)
      const rest = await buildAppBundle(request({entitlements: [ES, 'com.apple.security.cs.allow-jit=false', 'com.example.list=a,b']}), {trust: fx.trust, ...unsigned})
      assert.equal(rest.entitlements['com.apple.security.cs.allow-jit'], false)
      assert.deepEqual(rest.entitlements['com.example.list'], ['a', 'b'])
    })

    it('a resources directory with a symbolic link', async () => {
      const res = join(fx.dir, 'res-link')
      await mkdir(res)
      await (await import('node:fs/promises')).symlink('/etc/passwd', join(res, 'passwd'))
      const e = await refusal(request({resources: res}), unsigned)
      assert.equal(e.code, 'bundle.resources-special')
      assert.equal(e.file, join(res, 'passwd'))
      await rm(res, {recursive: true})
    })

    it('an existing sign.sh in --out: named as the signing script in the way, not as a bundle', async () => {
      const out = outDir()
      await mkdir(out, {recursive: true})
      await writeFile(join(out, 'sign.sh'), '#!/bin/sh\n')
      const e = await refusal(request({out}), unsigned)
      assert.equal(e.code, 'bundle.exists')
      assert.equal(e.file, join(out, 'sign.sh'))
      assert.equal(e.message, `${join(out, 'sign.sh')}: --out: already exists (a file); bundle writes the signing script sign.sh there (with thed.app and thed.entitlements) and does not overwrite anything`)
      assert.deepEqual(await readdir(out), ['sign.sh'])
    })

    it('an existing bundle, unless --force (which replaces it whole)', async () => {
      const out = outDir()
      await buildAppBundle(request({out}), {trust: fx.trust, ...unsigned})
      const marker = join(out, 'thed.app', 'Contents', 'Resources', 'marker')
      await writeFile(marker, 'old')
      const before = await readdir(out)
      const e = await refusal(request({out}), unsigned)
      assert.equal(e.code, 'bundle.exists')
      assert.equal(e.file, join(out, 'thed.app'))
      assert.match(e.fix, /--force/)
      assert.deepEqual(await readdir(out), before)
      assert.equal(await readFile(marker, 'utf8'), 'old')
      await buildAppBundle(request({out, force: true, version: '2.0'}), {trust: fx.trust, ...unsigned})
      await assert.rejects(stat(marker), {code: 'ENOENT'})
      const info = plist.parse(await readFile(join(out, 'thed.app', 'Contents', 'Info.plist'), 'utf8')) as Record<string, unknown>
      assert.equal(info.CFBundleShortVersionString, '2.0')
    })
  })
})
