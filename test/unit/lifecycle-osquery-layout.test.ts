import assert from 'node:assert/strict'
import {existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import * as plist from 'plist'
import {OfflineLaunchctl} from '../../src/adapters/offline-launchctl.js'
import {BuildRefusal} from '../../src/bundle/bundle-error.js'
import {ExitCode} from '../../src/exit-codes.js'
import type {LifecycleContext} from '../../src/lifecycle/context.js'
import * as lifecycle from '../../src/lifecycle/index.js'
import {buildPayload as assemblePayload} from '../../src/payload-build/build-payload.js'
import {TrustStore} from '../../src/trust/trust-store.js'
import {makeRoot, snapshotTree, testContext} from '../support/lifecycle-fixture.js'
import {OSQUERY, OSQUERY_V1_LINKS, OSQUERY_V2_LINKS, osqueryApp, osqueryManifest, osqueryPayload} from '../support/lifecycle-osquery.js'
import {REAL_PROFILES_DIR} from '../support/real-artifacts.js'
import {createTestPki, type TestIdentity} from '../support/test-pki.js'
import {skipBecause} from '../support/skip.js'

const TEAM = OSQUERY.teamId
const BUNDLE_ID = OSQUERY.bundleId
const OSQUERYD = OSQUERY.executable
const V1_LINKS = OSQUERY_V1_LINKS
const V2_LINKS = OSQUERY_V2_LINKS
const manifest = osqueryManifest

/**
 * osquery's layout (DESIGN.md §11): the bundle at /opt/osquery/lib/osquery.app, its main
 * executable osqueryd (bundle, executable and prefix names all differ), links from /usr/local/bin.
 * The bundle is built by the test signing kit; `esdctl payload` places it, and the lifecycle
 * installs, upgrades, rolls back and uninstalls it in an offline image.
 */
describe('osquery-shaped layout: lib/osquery.app, executable osqueryd, links in /usr/local/bin', function () {
  const paths: string[] = []
  let identity: TestIdentity
  let trust: TrustStore
  let root = ''
  let ctx: LifecycleContext

  before(async () => {
    const pki = await createTestPki()
    identity = await pki.developerId(TEAM)
    trust = pki.trust
    root = makeRoot()
    paths.push(root)
    ctx = {...testContext({root, launchctlPath: '/nonexistent/launchctl', trust}), launchctl: new OfflineLaunchctl(), offline: true}
  })
  after(() => {
    for (const p of paths) rmSync(p, {recursive: true, force: true})
  })

  let n = 0
  function payload(version: string, links: object[]): Promise<string> {
    const base = `${root}-osquery-${n++}`
    paths.push(`${base}-app`, `${base}-out`)
    return osqueryPayload(base, version, links, identity, trust)
  }

  it('esdctl payload with the real osquery profile refuses a link to a file the bundle lacks (4), and code Apple does not vouch for (3)', async function () {
    const profilePath = join(REAL_PROFILES_DIR, 'osquery-a5b14f6.provisionprofile')
    if (!existsSync(profilePath)) {
      skipBecause(this, 'fixtures-absent')
    }
    paths.push(`${root}-real-app`)
    const app = await osqueryApp(`${root}-real-app`, '5.12.1', identity, readFileSync(profilePath))
    const manifestPath = `${app}.json`
    const out = `${root}-real-profile-payload`
    paths.push(out)
    writeFileSync(manifestPath, JSON.stringify(manifest([{path: '/usr/local/bin/osqueryctl', target: 'Contents/Resources/missing'}])))
    const badLink = await assemblePayload({app, manifest: manifestPath, out}, {trust: TrustStore.apple(), pkgbuild: null}).then(() => undefined, (e: unknown) => e)
    assert.ok(badLink instanceof BuildRefusal, String(badLink))
    assert.equal(badLink.code, 'payload.link-target')
    assert.equal(badLink.field, '/links/0/target')
    assert.ok(!existsSync(out))

    // The test PKI signed it: the real profile is Apple's, the signature is not, so every install would refuse it.
    writeFileSync(manifestPath, JSON.stringify(manifest(V1_LINKS)))
    const untrusted = await assemblePayload({app, manifest: manifestPath, out}, {trust: TrustStore.apple(), pkgbuild: null}).then(() => undefined, (e: unknown) => e)
    assert.ok(untrusted instanceof BuildRefusal, String(untrusted))
    assert.equal(untrusted.code, 'payload.verify-failed')
    assert.equal(untrusted.exitCode, ExitCode.verificationFailed)
    assert.ok(untrusted.findings.some((f) => f.id === 'cms.untrusted' && f.path.startsWith(app)), JSON.stringify(untrusted.findings.map((f) => f.id)))
    assert.ok(!existsSync(out))
  })

  it('installs: Program is osqueryd inside lib/osquery.app, every link placed, /usr/local/bin created 0755', async () => {
    const r = await lifecycle.install(ctx, await payload('5.12.1', V1_LINKS))
    assert.equal(r.exitCode, ExitCode.ok, `${r.message} ${JSON.stringify(r.findings)}`)
    const launchdPlist = join(root, 'Library', 'LaunchDaemons', `${BUNDLE_ID}.plist`)
    assert.equal((plist.parse(readFileSync(launchdPlist, 'utf8')) as {Program: string}).Program, OSQUERYD)
    assert.equal(readlinkSync(join(root, 'opt/osquery/bin/osqueryd')), '../lib/osquery.app/Contents/MacOS/osqueryd')
    assert.equal(readlinkSync(join(root, 'usr/local/bin/osqueryi')), OSQUERYD)
    assert.equal(readlinkSync(join(root, 'usr/local/bin/osqueryctl')), '/opt/osquery/lib/osquery.app/Contents/Resources/osqueryctl')
    assert.equal(statSync(join(root, 'usr/local/bin')).mode & 0o777, 0o755)
    assert.ok(statSync(join(root, 'opt/osquery/lib/osquery.app/Contents/MacOS/osqueryd')).isFile())
  })

  it('upgrades to a version with fewer links (osqueryctl goes), and rollback restores exactly the old links', async () => {
    const before = snapshotTree(join(root, 'usr'))
    const up = await lifecycle.upgrade(ctx, await payload('5.13.0', V2_LINKS))
    assert.equal(up.exitCode, ExitCode.ok, `${up.message} ${JSON.stringify(up.findings)}`)
    assert.ok(!existsSync(join(root, 'usr/local/bin/osqueryctl')) && lstatSync(join(root, 'usr/local/bin/osqueryi')).isSymbolicLink())
    const back = await lifecycle.rollback(ctx, 'osquery')
    assert.equal(back.exitCode, ExitCode.ok, back.message)
    assert.equal(back.toVersion, '5.12.1')
    assert.deepEqual(snapshotTree(join(root, 'usr')), before)
  })

  it('uninstall removes every link, inside the prefix and in /usr/local/bin, and keeps etc/ and var/', async () => {
    mkdirSync(join(root, 'opt/osquery/var/db'), {recursive: true})
    writeFileSync(join(root, 'opt/osquery/var/db/state'), 'customer state')
    const r = await lifecycle.uninstall(ctx, 'osquery')
    assert.equal(r.exitCode, ExitCode.ok, r.message)
    for (const link of ['opt/osquery/bin/osqueryd', 'usr/local/bin/osqueryi', 'usr/local/bin/osqueryctl']) assert.ok(!existsSync(join(root, link)) && !lstatExists(join(root, link)), link)
    assert.ok(!existsSync(join(root, 'opt/osquery/lib')))
    assert.equal(readFileSync(join(root, 'opt/osquery/var/db/state'), 'utf8'), 'customer state')
  })

  it('refuses (unsafe environment, nothing changed) when a plain file sits where a link in /usr/local/bin belongs', async () => {
    const p = await payload('5.14.0', V1_LINKS)
    mkdirSync(join(root, 'usr/local/bin'), {recursive: true})
    writeFileSync(join(root, 'usr/local/bin/osqueryi'), 'not a link')
    const before = snapshotTree(root)
    const refused = await lifecycle.install(ctx, p).then(() => undefined, (e: unknown) => e)
    assert.ok(refused instanceof lifecycle.LifecycleError, String(refused))
    assert.equal(refused.exitCode, ExitCode.unsafeEnvironment)
    assert.match(refused.message, /usr\/local\/bin\/osqueryi should be esdctl's link/)
    assert.deepEqual(snapshotTree(root), before)
  })
})

function lstatExists(path: string): boolean {
  try {
    lstatSync(path)
    return true
  } catch {
    return false
  }
}
