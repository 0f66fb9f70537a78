import {strict as assert} from 'node:assert'
import {createHash} from 'node:crypto'
import {copyFile, link, mkdir, readFile, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import * as plist from 'plist'
import {CodesignAdapter} from '../../src/adapters/codesign.js'
import {buildAppBundle, type BundleRequest} from '../../src/bundle/build-bundle.js'
import {verifyCms} from '../../src/trust/cms.js'
import {parseCodeDirectory} from '../../src/formats/code-directory.js'
import {parseFileLayout, parseMachO} from '../../src/formats/macho.js'
import {codeDirectoryEntries, parseEmbeddedSignature} from '../../src/formats/superblob.js'
import type {Finding} from '../../src/verify/finding.js'
import type {SliceReport} from '../../src/verify/report.js'
import {verifyPath} from '../../src/verify/verify-path.js'
import {createCodesignDouble, type CodesignDouble} from '../doubles/codesign/codesign-double.js'
import {developerIdRequirement} from '../support/bundle-builder.js'
import {buildSignedMachOSlice, buildUniversal} from '../support/macho-writer.js'
import {BUNDLE_ID, ES, makeFixture, TEAM, type Fixture} from './bundle.fixtures.js'

/** The Developer ID designated requirement as codesign prints it: a plain-word identifier is not quoted. */
const designated = (identifier: string): string => developerIdRequirement(identifier, TEAM).replace(`"${identifier}"`, /^[A-Za-z][A-Za-z0-9]*$/.test(identifier) ? identifier : `"${identifier}"`)
const sha256 = (b: Buffer): Buffer => createHash('sha256').update(b).digest()
const errorsOf = (findings: Finding[]): string[] => findings.filter(f => f.severity === 'error').map(f => `${f.id}: ${f.message}`)

/** Each slice's embedded signature, read with the project's parsers. */
function signaturesOf(file: Buffer): {arch: string; slots: Map<number, Buffer>; cms: Buffer | undefined}[] {
  return parseFileLayout(file.subarray(0, 4096), file.length).slices.map(loc => {
    const slice = file.subarray(loc.offset, loc.offset + loc.size)
    const cs = parseMachO(slice, slice.length).codeSignature!
    assert.equal(cs.dataOffset + cs.dataSize, slice.length, 'the signature ends the slice')
    const sig = parseEmbeddedSignature(slice.subarray(cs.dataOffset, cs.dataOffset + cs.dataSize))
    const cmsEntry = sig.entries.find(e => e.slot === 0x10000)
    const cmsBlob = cmsEntry?.blob
    return {arch: loc.arch, slots: new Map(sig.entries.map(e => [e.slot, e.blob])), cms: cmsBlob && cmsBlob.length > 8 ? cmsBlob.subarray(8) : undefined}
  })
}

describe('esdctl bundle, signed for real by the codesign double', () => {
  let fx: Fixture
  let profile: string
  let double: CodesignDouble
  let codesign: CodesignAdapter
  before(async () => {
    fx = await makeFixture()
    profile = await fx.profile()
  })
  after(() => rm(fx.dir, {recursive: true, force: true}))
  beforeEach(() => {
    double = createCodesignDouble({identities: [fx.identity]})
    codesign = new CodesignAdapter({executable: double.codesignPath})
  })
  afterEach(() => double.cleanup())

  let n = 0
  const request = (over: Partial<BundleRequest> = {}): BundleRequest => ({executable: fx.executable, profile, bundleId: BUNDLE_ID, version: '1.4.2', out: join(fx.dir, `out-${++n}`), ...over})

  function assertDeveloperIdSlice(slice: SliceReport, identifier: string): void {
    assert.equal(slice.arch, 'arm64')
    assert.equal(slice.identifier, identifier)
    assert.equal(slice.teamId, TEAM)
    assert.equal(slice.signer, 'developer-id')
    assert.equal(slice.signerName, fx.identity.info.commonName)
    assert.equal(slice.signerSha256, fx.identity.info.sha256.toUpperCase())
    assert.ok(slice.flags.includes('runtime'), `flags ${slice.flags.join(',')}`)
    assert.ok(!slice.flags.includes('adhoc') && !slice.flags.includes('linker-signed'), `flags ${slice.flags.join(',')}`)
    assert.equal(slice.hashType, 'sha256')
    assert.equal(slice.designatedRequirement, designated(identifier))
  }

  it('builds, signs and verifies a bundle: zero error findings, the ES entitlement, identity, team and hardened runtime', async () => {
    const req = request()
    const r = await buildAppBundle(req, {trust: fx.trust, codesign})
    assert.equal(r.signed, true)
    assert.equal(r.identity, fx.identity.info.sha1, 'the profile\'s only certificate, by SHA-1, as codesign takes it')
    assert.equal(r.script, undefined)
    assert.deepEqual(errorsOf(r.verify!.findings), [])
    assert.deepEqual(r.verify!.findings, [], 'not even a warning')
    assert.equal(r.verify!.ok, true)
    const calls = double.calls()
    assert.deepEqual(calls.map(c => [c.argv[0], c.exitCode]), [['--sign', 0], ['--verify', 0]])
    assert.deepEqual(calls[0]!.argv.slice(0, -2), ['--sign', fx.identity.info.sha1, '--force', '--options', 'runtime', '--timestamp', '--identifier', BUNDLE_ID, '--entitlements'])
    assert.match(calls[0]!.argv.at(-1)!, /thed\.app$/)
    assert.match(r.codesignVerify!, /valid on disk/)

    // The verifier's own view, once more on the bundle where it was moved.
    const report = await verifyPath(r.app, {trust: fx.trust})
    assert.equal(report.kind, 'bundle')
    assert.deepEqual(errorsOf(report.findings), [])
    assert.equal(report.slices.length, 1)
    const slice = report.slices[0]!
    assertDeveloperIdSlice(slice, BUNDLE_ID)
    assert.equal(slice.entitlements[ES], true)
    assert.deepEqual(slice.entitlements, r.entitlements)
    assert.equal(report.profile?.teamId, TEAM)

    // What was written: the seal, the bound Info.plist, the verbatim entitlements, a timestamped CMS.
    const contents = join(r.app, 'Contents')
    const main = await readFile(join(contents, 'MacOS', 'thed'))
    assert.notDeepEqual(main, await readFile(fx.executable), 're-signed, not copied')
    const seal = plist.parse(await readFile(join(contents, '_CodeSignature', 'CodeResources'), 'utf8')) as {files2: Record<string, {hash2?: Uint8Array}>}
    assert.deepEqual(Object.keys(seal.files2).sort(), ['embedded.provisionprofile'], 'Info.plist and PkgInfo are omitted by the rules, the main executable is bound by the CodeDirectory')
    assert.deepEqual(Buffer.from(seal.files2['embedded.provisionprofile']!.hash2!), sha256(await readFile(join(contents, 'embedded.provisionprofile'))))
    const [sig] = signaturesOf(main)
    const cd = parseCodeDirectory(sig!.slots.get(0)!)
    assert.equal(cd.pageSize, 4096)
    assert.equal(cd.codeLimit, parseMachO(main, main.length).codeSignature!.dataOffset)
    assert.deepEqual(sig!.slots.get(5)!.subarray(8), await readFile(r.entitlementsFile), 'the entitlements file, byte for byte')
    assert.ok(sig!.slots.has(7), 'DER entitlements')
    const cms = await verifyCms(sig!.cms!, {trust: fx.trust, now: new Date(), detachedContent: sig!.slots.get(0)!, validity: 'timestamp-or-now'})
    assert.equal(cms.signatureValid, true)
    assert.equal(cms.chain.trusted, true)
    assert.equal(cms.timestamp?.valid, true, '--timestamp gives a secure timestamp from the test TSA')
  })

  it('with a nested helper: signs it first, seals it, and both verify', async () => {
    const res = join(fx.dir, 'res-helper')
    await mkdir(join(res, 'bin'), {recursive: true})
    await copyFile(fx.executable, join(res, 'bin', 'helper'))
    await writeFile(join(res, 'thed.conf'), 'level=1\n')
    const req = request({resources: res})
    const r = await buildAppBundle(req, {trust: fx.trust, codesign})
    assert.equal(r.signed, true)
    assert.deepEqual(errorsOf(r.verify!.findings), [])
    const calls = double.calls()
    assert.deepEqual(calls.map(c => c.argv[0]), ['--sign', '--sign', '--verify'])
    assert.match(calls[0]!.argv.at(-1)!, /thed\.app\/Contents\/Resources\/bin\/helper$/, 'nested code first')
    assert.match(calls[1]!.argv.at(-1)!, /thed\.app$/, 'the bundle last')
    assert.deepEqual(r.signing.map(s => s.target), ['thed.app/Contents/Resources/bin/helper', 'thed.app'])

    const report = await verifyPath(r.app, {trust: fx.trust})
    assert.deepEqual(errorsOf(report.findings), [])
    assertDeveloperIdSlice(report.slices[0]!, BUNDLE_ID)
    assert.equal(report.slices[0]!.entitlements[ES], true)

    const helperPath = join(r.app, 'Contents', 'Resources', 'bin', 'helper')
    const helper = await verifyPath(helperPath, {trust: fx.trust})
    assert.equal(helper.kind, 'macho')
    assert.deepEqual(errorsOf(helper.findings), [])
    assertDeveloperIdSlice(helper.slices[0]!, 'helper')
    assert.deepEqual(helper.slices[0]!.entitlements, {}, 'nested code gets no entitlements')

    const seal = plist.parse(await readFile(join(r.app, 'Contents', '_CodeSignature', 'CodeResources'), 'utf8')) as {files2: Record<string, {hash2?: Uint8Array}>}
    assert.deepEqual(Object.keys(seal.files2).sort(), ['Resources/bin/helper', 'Resources/thed.conf', 'embedded.provisionprofile'])
    assert.deepEqual(Buffer.from(seal.files2['Resources/bin/helper']!.hash2!), sha256(await readFile(helperPath)), 'sealed as signed')

    // Real bytes, so the verifier notices a change the double did not make.
    await writeFile(join(r.app, 'Contents', 'Resources', 'thed.conf'), 'level=2\n')
    assert.ok((await verifyPath(r.app, {trust: fx.trust})).findings.some(f => f.id === 'seal.modified'))
    await rm(res, {recursive: true})
  })

  describe('the double on its own', () => {
    it('seals a second executable in Contents/MacOS as nested code (cdhash + requirement), writing new files rather than editing', async () => {
      const app = join(fx.dir, `direct-${++n}`, 'thed.app')
      await mkdir(join(app, 'Contents', 'MacOS'), {recursive: true})
      await writeFile(join(app, 'Contents', 'Info.plist'), plist.build({CFBundleExecutable: 'thed', CFBundleIdentifier: BUNDLE_ID, CFBundleShortVersionString: '1.0', CFBundleVersion: '1'}))
      const mainPath = join(app, 'Contents', 'MacOS', 'thed')
      const toolPath = join(app, 'Contents', 'MacOS', 'thetool')
      await copyFile(fx.executable, mainPath)
      await copyFile(fx.executable, toolPath)
      const original = await readFile(mainPath)
      const keep = join(fx.dir, `hardlink-${n}`)
      await link(mainPath, keep)

      await codesign.sign(toolPath, {identity: fx.identity.info.sha1.toLowerCase(), runtime: true, force: true})
      await codesign.sign(app, {identity: fx.identity.info.commonName!, runtime: true, force: true, identifier: BUNDLE_ID})
      assert.deepEqual(await readFile(keep), original, 'the old file was replaced by rename, not rewritten')
      assert.equal((await codesign.verify(app)).ok, true)

      const report = await verifyPath(app, {trust: fx.trust})
      assert.deepEqual(errorsOf(report.findings), [])
      assert.equal(report.slices[0]!.identifier, BUNDLE_ID)
      assert.deepEqual(report.slices[0]!.entitlements, {})
      const seal = plist.parse(await readFile(join(app, 'Contents', '_CodeSignature', 'CodeResources'), 'utf8')) as {files2: Record<string, {cdhash?: Uint8Array; requirement?: string}>}
      const tool = await verifyPath(toolPath, {trust: fx.trust})
      assert.deepEqual(Object.keys(seal.files2), ['MacOS/thetool'])
      assert.equal(Buffer.from(seal.files2['MacOS/thetool']!.cdhash!).toString('hex'), tool.slices[0]!.cdhash)
      assert.equal(seal.files2['MacOS/thetool']!.requirement, designated('thetool'))

      // Re-signing the tool after the bundle changes its cdhash: the seal no longer matches.
      await codesign.sign(toolPath, {identity: fx.identity.info.sha1, force: true})
      assert.ok((await verifyPath(app, {trust: fx.trust})).findings.some(f => f.id === 'seal.nested-modified'))
      await rm(keep)
    })

    it('re-signs every slice of a universal file and updates the fat header', async () => {
      const slices = [
        {arch: 'x86_64', ...(await buildSignedMachOSlice({arch: 'x86_64', codeSize: 40_000}, {identifier: 'old', linkerStyle: true}))},
        {arch: 'arm64', ...(await buildSignedMachOSlice({arch: 'arm64', codeSize: 70_000}, {identifier: 'old', linkerStyle: true}))},
      ]
      const path = join(fx.dir, `universal-${++n}`)
      await writeFile(path, buildUniversal(slices), {mode: 0o755})
      const entitlements = join(fx.dir, `ent-${n}.plist`)
      await writeFile(entitlements, plist.build({'com.apple.security.cs.allow-jit': true}))
      await codesign.sign(path, {identity: fx.identity.info.sha1, runtime: true, timestamp: true, identifier: 'com.example.tool', entitlements})

      const report = await verifyPath(path, {trust: fx.trust})
      assert.deepEqual(errorsOf(report.findings), [])
      assert.deepEqual(report.slices.map(s => s.arch), ['x86_64', 'arm64'])
      for (const s of report.slices) {
        assert.equal(s.identifier, 'com.example.tool')
        assert.equal(s.teamId, TEAM)
        assert.equal(s.signer, 'developer-id')
        assert.ok(s.flags.includes('runtime'))
        assert.deepEqual(s.entitlements, {'com.apple.security.cs.allow-jit': true})
      }
      const file = await readFile(path)
      const layout = parseFileLayout(file.subarray(0, 4096), file.length)
      assert.equal(layout.slices.length, 2)
      for (const loc of layout.slices) {
        const slice = file.subarray(loc.offset, loc.offset + loc.size)
        const cs = parseMachO(slice, slice.length).codeSignature!
        assert.equal(cs.dataOffset + cs.dataSize, loc.size, 'each fat entry\'s size is its new slice')
        assert.equal(codeDirectoryEntries(parseEmbeddedSignature(slice.subarray(cs.dataOffset))).length, 1)
      }
      // One flipped code byte in the second slice is caught.
      const arm = layout.slices[1]!
      file[arm.offset + 20_000] = file[arm.offset + 20_000]! ^ 0xff
      await writeFile(path, file)
      assert.ok((await verifyPath(path, {trust: fx.trust})).findings.some(f => f.id === 'signature.code-modified'))
    })

    it('ad hoc (`-`) signs for real without a CMS or team', async () => {
      const path = join(fx.dir, `adhoc-${++n}`)
      await copyFile(fx.executable, path)
      await codesign.sign(path, {identity: '-', force: true})
      const report = await verifyPath(path, {trust: fx.trust})
      assert.equal(report.slices[0]!.signer, 'adhoc')
      assert.equal(report.slices[0]!.identifier, `adhoc-${n}`)
      assert.equal(report.slices[0]!.teamId, undefined)
      assert.ok(report.slices[0]!.flags.includes('adhoc') && !report.slices[0]!.flags.includes('linker-signed'))
      assert.deepEqual(report.findings.filter(f => f.id.startsWith('signature.')).map(f => f.id), [])
    })
  })
})
