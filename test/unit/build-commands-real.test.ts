import {strict as assert} from 'node:assert'
import {existsSync} from 'node:fs'
import {mkdtemp, readdir, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {runCommand} from '../support/command-process.js'
import {buildAppBundle} from '../../src/bundle/build-bundle.js'
import {BuildRefusal} from '../../src/bundle/bundle-error.js'
import {ExitCode} from '../../src/exit-codes.js'
import {buildPayload} from '../../src/payload-build/build-payload.js'
import {RequirementError} from '../../src/pppc/code-requirement.js'
import {buildPppcProfile} from '../../src/pppc/pppc-profile.js'
import {verifyPath} from '../../src/verify/verify-path.js'
import {extractBundleFromPkg, KARABINER_DAEMON_IN_PAYLOAD, realPackage} from '../support/lifecycle-pkg-payload.js'
import {realProfile} from '../support/real-artifacts.js'
import {skipBecause} from '../support/skip.js'

const KARABINER = 'Karabiner-VirtualHIDDevice-Daemon'
const KARABINER_ID = 'org.pqrs.Karabiner-VirtualHIDDevice-Daemon'

const esdctl = runCommand

/**
 * The reviewer's case, with real things nobody here made: the notarized Karabiner daemon's
 * executable (from pqrs-org's package) laid out by `esdctl bundle` as osquery.app with osquery's
 * real profile. Off a Mac the bundle stays unsigned, so the executable still carries Karabiner's
 * signature: every install refuses it, and neither payload nor pppc may produce anything from it.
 */
describe('the vendor build commands refuse a bundle around someone else\'s signed code (real Karabiner daemon, real osquery profile)', function () {
  this.timeout(120_000)
  let dir = ''
  let app = ''
  let manifest = ''
  before(async function () {
    const pkg = realPackage('6.0.0')
    const profile = realProfile('osquery-a5b14f6')
    if (pkg === undefined || profile === undefined) skipBecause(this, 'fixtures-absent')
    dir = await mkdtemp(join(tmpdir(), 'esdctl-build-real-'))
    const karabiner = join(dir, `${KARABINER}.app`)
    await extractBundleFromPkg(pkg!, KARABINER_DAEMON_IN_PAYLOAD, karabiner)
    app = (await buildAppBundle({executable: join(karabiner, 'Contents', 'MacOS', KARABINER), name: 'osquery', profile: profile!, bundleId: 'io.osquery.agent', version: '5.12.0', out: join(dir, 'dist')}, {codesign: null})).app
    manifest = join(dir, 'osq.json')
    await writeFile(manifest, JSON.stringify({name: 'osquery', label: 'io.osquery.agent', bundleId: 'io.osquery.agent', teamId: '3522FA9PXF', bundle: 'lib/osquery.app'}))
  })
  after(() => (dir ? rm(dir, {recursive: true, force: true}) : undefined))

  it('payload: exit 3 with the findings install reports (Info.plist not the signed one, no seal, team and identifier not the manifest\'s); nothing written', async () => {
    const out = join(dir, 'q1')
    const refused = await buildPayload({app, manifest, out}, {pkgbuild: null}).then(() => undefined, (e: unknown) => e)
    assert.ok(refused instanceof BuildRefusal, String(refused))
    assert.equal(refused.exitCode, ExitCode.verificationFailed)
    const ids = new Set(refused.findings.filter((f) => f.severity === 'error').map((f) => f.id))
    for (const id of ['signature.info-plist-modified', 'seal.absent', 'install.team-mismatch', 'install.identifier-mismatch']) assert.ok(ids.has(id), `${id} in ${[...ids].join(', ')}`)
    assert.match(refused.message, /signed for team G43BCU2T37, but the manifest says teamId 3522FA9PXF/)
    assert.ok(!existsSync(out))
    assert.deepEqual((await readdir(dir)).filter((f) => f.includes('esdctl-')), [], 'no staging left behind')
  })

  it('payload, the command: exit 3, the findings in --json', async () => {
    const r = await esdctl('payload', '--json', '--app', app, '--manifest', manifest, '--out', join(dir, 'q2'))
    assert.equal(r.exitCode, ExitCode.verificationFailed, r.stdout + r.stderr)
    const error = JSON.parse(r.stdout).error as {code: string; findings: {id: string; path: string}[]}
    assert.equal(error.code, 'payload.verify-failed')
    assert.ok(error.findings.some((f) => f.id === 'install.identifier-mismatch' && f.path === app), JSON.stringify(error.findings))
    assert.ok(!existsSync(join(dir, 'q2')))
  })

  it('pppc: no grant for Karabiner\'s identity inside a bundle that says io.osquery.agent (library and command, exit 4, nothing written)', async () => {
    const report = await verifyPath(app)
    await assert.rejects(buildPppcProfile(report), (e: unknown) => {
      assert.ok(e instanceof RequirementError, String(e))
      assert.ok(e.message.startsWith(`${app}: its signature (identifier ${KARABINER_ID}, team G43BCU2T37) does not verify`), e.message)
      assert.match(e.message, /signature\.info-plist-modified/)
      assert.match(e.message, /sign\.sh/)
      return true
    })
    const out = join(dir, 'fda.mobileconfig')
    const r = await esdctl('pppc', app, '--out', out)
    assert.equal(r.exitCode, ExitCode.badInput, r.stdout + r.stderr)
    assert.match(r.stderr, new RegExp(`esdctl pppc: ${app.replace(/[.]/g, '\\.')}: its signature \\(identifier ${KARABINER_ID}`))
    assert.equal(r.stdout, '')
    assert.ok(!existsSync(out))
  })
})
