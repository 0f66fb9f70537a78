import {strict as assert} from 'node:assert'
import {chmod, copyFile, lstat, mkdir, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {execa} from 'execa'
import * as tar from 'tar'
import {BuildRefusal} from '../../src/bundle/bundle-error.js'
import {buildPayload, type PayloadRequest} from '../../src/payload-build/build-payload.js'
import {DIST_PATHS, distDirName} from '../../src/payload-build/esdctl-dist-layout.js'
import {renderPkgScript, type PkgScriptValues} from '../../src/payload-build/pkg-scripts.js'
import {darwinDist} from '../support/darwin-dist.js'
import {ARTIFACTS, realArtifact, REPO_ROOT} from '../support/real-artifacts.js'
import {BUNDLE_ID, makeFixture, signedApp, TEAM, type Fixture} from './bundle.fixtures.js'

const PAYLOAD = '/Library/Application Support/esdctl/payloads/thed/1.4.2'
const LAUNCHER = `${PAYLOAD}/esdctl/bin/esdctl`

describe('esdctl payload --with-esdctl (the self-contained esdctl inside the vendor\'s payload)', function () {
  this.timeout(600_000)
  let fx: Fixture
  let app: string
  let manifest: string
  let tarball: string
  let version: string
  before(async () => {
    const dist = await darwinDist()
    tarball = dist.artifacts.find(a => a.arch === 'arm64')!.tarball
    version = dist.version
    fx = await makeFixture()
    app = await signedApp(fx, join(fx.dir, 'bundle'))
    manifest = join(fx.dir, 'esdctl.json')
    await writeFile(manifest, JSON.stringify({name: 'thed', label: 'com.example.thed', bundleId: BUNDLE_ID, teamId: TEAM, programArguments: []}))
  })
  after(() => rm(fx.dir, {recursive: true, force: true}))

  let n = 0
  const request = (over: Partial<PayloadRequest> = {}): PayloadRequest => ({app, manifest, out: join(fx.dir, `payload-${++n}`), withEsdctl: tarball, ...over})
  const build = (req: PayloadRequest) => buildPayload(req, {trust: fx.trust, pkgbuild: null})

  async function refusal(req: PayloadRequest): Promise<BuildRefusal> {
    const before = (await readdir(fx.dir)).sort()
    let caught: unknown
    await build(req).catch(e => (caught = e))
    assert.ok(caught instanceof BuildRefusal, `expected a refusal, got ${String(caught)}`)
    assert.deepEqual((await readdir(fx.dir)).sort(), before, 'a refusal writes nothing')
    return caught
  }

  it('puts the esdctl tree in <payload>/esdctl/ and points both pkg scripts at its launcher', async () => {
    const req = request()
    const r = await build(req)
    const inside = join(r.payload, 'esdctl')
    assert.deepEqual((await readdir(r.payload)).sort(), ['esdctl', 'esdctl.json', 'thed.app'])
    for (const [entry, mode] of [[DIST_PATHS.launcher, 0o755], [DIST_PATHS.runJs, 0o755], [DIST_PATHS.node, 0o755], [DIST_PATHS.info, 0o644]] as const) {
      assert.equal((await lstat(join(inside, entry))).mode & 0o777, mode, entry)
    }
    assert.equal((await lstat(inside)).mode & 0o777, 0o755)
    assert.deepEqual(r.bundledEsdctl, {launcher: LAUNCHER, version, arch: 'arm64', node: JSON.parse(await readFile(join(inside, DIST_PATHS.info), 'utf8')).node})
    for (const script of [r.scripts.preinstall, r.scripts.postinstall]) {
      const text = await readFile(script, 'utf8')
      assert.ok(text.includes(`\nESDCTL='${LAUNCHER}'\n`), text)
      assert.match(text, /^ESDCTL_IN_PAYLOAD=yes$/m)
      assert.equal((await execa('bash', ['-n', script], {reject: false})).exitCode, 0)
    }
    assert.ok((await readFile(r.instructions, 'utf8')).includes(`runs ${LAUNCHER} install`))
  })

  it('without it, the scripts keep calling the installed esdctl', async () => {
    const r = await build(request({withEsdctl: undefined}))
    assert.equal(r.bundledEsdctl, undefined)
    assert.match(await readFile(r.scripts.postinstall, 'utf8'), /^ESDCTL_IN_PAYLOAD=no$/m)
  })

  describe('the scripts, with a stand-in for the bundled esdctl', () => {
    let stub: string
    let log: string
    let values: PkgScriptValues
    before(async () => {
      log = join(fx.dir, 'calls.log')
      stub = join(fx.dir, 'stand-in esdctl')
      values = {name: 'thed', version: '1.4.2', esdctl: stub, payload: PAYLOAD, receipt: join(fx.dir, 'no-receipt.json'), esdctlInPayload: true}
    })
    async function run(script: 'preinstall' | 'postinstall', versionExit: number | 'absent') {
      await rm(log, {force: true})
      await rm(stub, {force: true})
      if (versionExit !== 'absent') {
        await writeFile(stub, `#!/bin/sh\nprintf '%s\\n' "$*" >> ${JSON.stringify(log)}\nif [ "$1" = --version ]; then exit ${versionExit}; fi\nexit 0\n`)
        await chmod(stub, 0o755)
      }
      const file = join(fx.dir, `rendered-${script}`)
      await writeFile(file, renderPkgScript(script, values), {mode: 0o755})
      return execa('bash', [file, '/tmp/thed.pkg', '/', '/', '/'], {reject: false, env: {PATH: '/usr/bin:/bin'}, extendEnv: false})
    }

    it('preinstall does not ask for an esdctl the payload has not placed yet', async () => {
      const r = await run('preinstall', 'absent')
      assert.equal(r.exitCode, 0, r.stderr)
    })

    it('postinstall checks that the bundled esdctl runs on this Mac before installing with it', async () => {
      const ok = await run('postinstall', 0)
      assert.equal(ok.exitCode, 0, ok.stderr)
      assert.deepEqual((await readFile(log, 'utf8')).trim().split('\n'), ['--version', `install ${PAYLOAD}`])
      const bad = await run('postinstall', 126)
      assert.equal(bad.exitCode, 1)
      assert.match(bad.stderr, /the esdctl in this package .* does not run on this Mac/)
      assert.deepEqual((await readFile(log, 'utf8')).trim().split('\n'), ['--version'], 'nothing is installed')
    })
  })

  describe('refuses, writing nothing', () => {
    it('a path that is not a file', async () => {
      const e = await refusal(request({withEsdctl: join(fx.dir, 'missing.tar.gz')}))
      assert.equal(e.code, 'payload.with-esdctl')
      assert.equal(e.field, '--with-esdctl')
      assert.match(e.message, /missing\.tar\.gz: --with-esdctl: is not a file/)
    })

    it('a tarball that is not a dist:darwin build', async () => {
      const dir = join(fx.dir, 'not-dist')
      await mkdir(join(dir, 'something'), {recursive: true})
      await writeFile(join(dir, 'something', 'x'), 'x')
      const other = join(fx.dir, 'other.tar.gz')
      await tar.c({gzip: true, file: other, cwd: dir}, ['something'])
      const e = await refusal(request({withEsdctl: other}))
      assert.match(e.message, /holds "something", not one esdctl-<version>-darwin-<arch>\/ directory/)
      assert.match(e.fix, /npm run dist:darwin/)
    })

    it('a build whose Node is signed by someone other than the Node.js Foundation', async () => {
      // The real arm64 build with its Node replaced by a real Developer ID binary of another team.
      const dir = join(fx.dir, 'repacked')
      await mkdir(dir)
      const top = distDirName(version, 'arm64')
      await tar.x({file: tarball, cwd: dir, filter: (p) => p !== `${top}/${DIST_PATHS.node}`})
      await copyFile(await realArtifact(ARTIFACTS.sentryCli), join(dir, top, DIST_PATHS.node))
      await chmod(join(dir, top, DIST_PATHS.node), 0o755)
      const forged = join(fx.dir, 'forged.tar.gz')
      await tar.c({gzip: true, file: forged, cwd: dir, portable: true}, [top])
      await rm(dir, {recursive: true, force: true})
      const e = await refusal(request({withEsdctl: forged}))
      assert.match(e.message, /libexec\/node would not be accepted on a Mac: .*GetSentry.*not by the Node\.js Foundation's Developer ID \(team HX7739G8FX\)/)
      await rm(forged)
    })

    it('--with-esdctl together with a different --esdctl, through the command', async () => {
      const r = await execa(process.execPath, [join(REPO_ROOT, 'bin', 'run.js'), 'payload', '--json', '--app', app, '--manifest', manifest, '--out', join(fx.dir, 'never'), '--with-esdctl', tarball, '--esdctl', '/opt/esdctl/bin/esdctl'], {reject: false, env: {NODE_OPTIONS: ''}})
      assert.equal(r.exitCode, 4, r.stderr + r.stdout)
      const json = JSON.parse(r.stdout)
      assert.equal(json.error.code, 'payload.with-esdctl')
      assert.match(json.error.message, /cannot be combined with --esdctl \/opt\/esdctl\/bin\/esdctl/)
    })
  })
})
