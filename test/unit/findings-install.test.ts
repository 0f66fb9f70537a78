import assert from 'node:assert/strict'
import {mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import * as plist from 'plist'
import {CodesignAdapter} from '../../src/adapters/codesign.js'
import {ExitCode} from '../../src/exit-codes.js'
import * as lifecycle from '../../src/lifecycle/index.js'
import type {LifecycleResult} from '../../src/lifecycle/context.js'
import type {FindingId} from '../../src/verify/finding-catalogue.js'
import {expectFinding} from '../support/expect-finding.js'
import {lifecycleWorlds, snapshotTree, TEAM, testIdentity, type LifecycleWorld} from '../support/lifecycle-fixture.js'
import {buildBundle} from '../support/bundle-builder.js'
import {buildSignedMachO} from '../support/macho-writer.js'
import {FLAG} from '../support/signature-writer.js'
import {verifyPath} from '../../src/verify/verify-path.js'
import {requireTranscript, transcriptBlocks} from '../support/macos-transcripts.js'
import {replayTool} from '../support/replay-tool.js'
import {signCodeDirectories} from '../support/test-pki.js'

const NAME = 'thed'
const FAILED = ExitCode.verificationFailed

/**
 * What install refuses after esdctl's own verifier has judged the payload: the signature against
 * the manifest, Info.plist against the manifest, the links and etc/ the manifest implies, and
 * codesign's second opinion. Each through the public install(): exit 3, the finding, nothing on disk.
 */
describe('install refuses a payload that disagrees with its manifest: each finding, exit 3, nothing changed', function () {
  this.timeout(120_000)
  const env = lifecycleWorlds(NAME, {labelPrefix: 'com.example.thed.f', defaultEtc: () => ({'thed.conf': 'x=1\n'})})

  /** Installs `payload` into `w`, asserts that nothing under its root changed, and returns the result. */
  async function refused(w: LifecycleWorld, payload: string, ctx = w.ctx): Promise<LifecycleResult> {
    const before = snapshotTree(w.root)
    const result = await lifecycle.install(ctx, payload)
    assert.equal(result.changed, false, result.message)
    assert.deepEqual(snapshotTree(w.root), before)
    // The staged copy is gone by the time the findings are read: they name the payload that was given.
    for (const f of result.findings ?? []) assert.ok(!`${f.path} ${f.message} ${f.fix ?? ''}`.includes('/staging/'), `${f.id} names the removed staging copy: ${f.path}`)
    return result
  }

  function editInfo(payload: string, edit: (info: Record<string, unknown>) => void): void {
    const path = join(payload, `${NAME}.app`, 'Contents', 'Info.plist')
    const info = plist.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
    edit(info)
    writeFileSync(path, plist.build(info as Parameters<typeof plist.build>[0]))
  }

  it('the payload has no bundle where the manifest says → install.no-bundle', async () => {
    const w = env.world()
    const payload = await w.payload('1.0.0')
    rmSync(join(payload, `${NAME}.app`), {recursive: true})
    expectFinding(await refused(w, payload), {id: 'install.no-bundle', severity: 'error', exitCode: FAILED})
  })

  it("signed for a team other than the manifest's teamId → install.team-mismatch", async () => {
    const w = env.world()
    const payload = await w.payload('1.0.0', {manifest: {teamId: 'OTHERTEAM1'}})
    const f = expectFinding(await refused(w, payload), {id: 'install.team-mismatch', severity: 'error', exitCode: FAILED})
    assert.match(f.message, new RegExp(`signed for team ${TEAM}, but the manifest says teamId OTHERTEAM1`))
  })

  it('ad-hoc signed, its CodeDirectory claiming the manifest\'s team → install.team-unvouched (no certificate vouches for the team)', async () => {
    const w = env.world()
    const payload = await w.payload('1.0.0')
    const app = join(payload, `${NAME}.app`)
    rmSync(app, {recursive: true})
    // No CMS, the adhoc flag, no restricted entitlement, no profile: code macOS would run, whose
    // team id anyone could have written.
    await buildBundle({dir: payload, name: NAME, bundleId: `com.example.${NAME}`, teamId: TEAM, version: '1.0.0', entitlements: {}, profile: 'none', codeSize: 16 * 1024, signOverrides: {cms: undefined, flags: FLAG.adhoc}})
    const verdict = await verifyPath(app, w.ctx.verifyOptions)
    assert.deepEqual(verdict.findings.filter((f) => f.severity === 'error'), [], 'the verifier alone finds nothing to refuse')
    assert.equal(verdict.slices[0]?.teamId, TEAM)
    const f = expectFinding(await refused(w, payload), {id: 'install.team-unvouched', severity: 'error', exitCode: FAILED})
    assert.match(f.message, new RegExp(`\\(arm64\\) is ad-hoc signed: no certificate vouches for its team ${TEAM}, so nothing shows that team ${TEAM} signed it`))
  })

  it("signed and described as another bundle than the manifest's bundleId → install.identifier-mismatch and install.info-bundle-id", async () => {
    const w = env.world()
    const payload = await w.payload('1.0.0', {bundleId: 'com.example.other'})
    const r = await refused(w, payload)
    expectFinding(r, {id: 'install.identifier-mismatch', severity: 'error', exitCode: FAILED})
    expectFinding(r, {id: 'install.info-bundle-id', severity: 'error', exitCode: FAILED})
  })

  it('Info.plist that is no property list → install.info-plist', async () => {
    const w = env.world()
    const payload = await w.payload('1.0.0')
    writeFileSync(join(payload, `${NAME}.app`, 'Contents', 'Info.plist'), 'CFBundleExecutable = thed;\n')
    expectFinding(await refused(w, payload), {id: 'install.info-plist', severity: 'error', exitCode: FAILED})
  })

  it('CFBundleExecutable that is no file name in Contents/MacOS → install.info-executable', async () => {
    const w = env.world()
    const payload = await w.payload('1.0.0')
    editInfo(payload, info => (info['CFBundleExecutable'] = '../MacOS/thed'))
    expectFinding(await refused(w, payload), {id: 'install.info-executable', severity: 'error', exitCode: FAILED})
  })

  it('no CFBundleShortVersionString → install.no-version (install compares versions to refuse downgrades)', async () => {
    const w = env.world()
    const payload = await w.payload('')
    expectFinding(await refused(w, payload), {id: 'install.no-version', severity: 'error', exitCode: FAILED})
  })

  it('a link whose target is not a file in the bundle → install.link-target', async () => {
    const w = env.world()
    const payload = await w.payload('1.0.0', {manifest: {links: [{path: `bin/${NAME}`}, {path: 'bin/thedctl', target: 'Contents/Resources/thedctl'}]}})
    const f = expectFinding(await refused(w, payload), {id: 'install.link-target', severity: 'error', exitCode: FAILED})
    assert.match(f.message, /the link bin\/thedctl must point at a regular file inside the bundle/)
    assert.equal(f.path, join(payload, `${NAME}.app`, 'Contents', 'Resources', 'thedctl'))
  })

  it("a symbolic link in the payload's etc/ → install.etc-not-a-file", async () => {
    const w = env.world()
    const payload = await w.payload('1.0.0')
    symlinkSync('thed.conf', join(payload, 'etc', 'thed-default.conf'))
    const f = expectFinding(await refused(w, payload), {id: 'install.etc-not-a-file', severity: 'error', exitCode: FAILED})
    assert.match(f.path, /etc\/thed-default\.conf$/)
  })

  it('a "bundle" that is a plain folder around a signed executable: the verifier finds no code to install → install.no-code', async () => {
    const w = env.world()
    const payload = await w.payload('1.0.0')
    const app = join(payload, `${NAME}.app`)
    rmSync(app, {recursive: true})
    mkdirSync(app)
    const {identity} = await testIdentity()
    writeFileSync(join(app, NAME), await buildSignedMachO({arch: 'arm64', codeSize: 16 * 1024}, {identifier: `com.example.${NAME}`, teamId: TEAM, flags: 0x10000, cms: cds => signCodeDirectories({codeDirectories: cds, identity})}), {mode: 0o755})
    expectFinding(await refused(w, payload), {id: 'install.no-code', severity: 'error', exitCode: FAILED})
  })

  it("codesign's second opinion rejects what esdctl's verifier passed → install.codesign-rejected quoting codesign", async function () {
    // What a real codesign --verify --deep --strict printed (transcript block D) with the status
    // its man page gives for a failed verification (block K: 1).
    const blocks = requireTranscript(this, transcriptBlocks('10-codesign-verify.txt'))
    assert.match(blocks.get('K')!.lines.join('\n') + blocks.get('K')!.heading, /1 signing or verification failed/)
    const said = blocks.get('D')!.lines.filter(l => !l.startsWith('$ ')).join('\n')
    const codesign = replayTool({'--verify': [{stderr: `${said}\n`, status: 1}]})
    try {
      const w = env.world()
      const payload = await w.payload('1.0.0')
      const r = await refused(w, payload, {...w.ctx, codesign: new CodesignAdapter({executable: codesign.path})})
      const f = expectFinding(r, {id: 'install.codesign-rejected', severity: 'error', exitCode: FAILED})
      assert.match(f.message, /code has no resources but signature indicates they must be present/)
      assert.deepEqual(r.findings!.filter(x => x.severity === 'error').map(x => x.id), ['install.codesign-rejected'] satisfies FindingId[])
      assert.deepEqual(codesign.calls().map(argv => argv.slice(0, 4)), [['--verify', '--strict', '--deep', '-vvvv']])
    } finally {
      codesign.remove()
    }
  })
})
