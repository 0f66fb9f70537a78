import {strict as assert} from 'node:assert'
import {readdir, readFile, rm, symlink, writeFile} from 'node:fs/promises'
import fc from 'fast-check'
import {join} from 'node:path'
import {renderVerifyText} from '../../src/render/verify-text.js'
import type {VerifyReport} from '../../src/verify/report.js'
import {ENDPOINT_SECURITY} from '../../src/verify/restricted-entitlements.js'
import {verifyPath} from '../../src/verify/verify-path.js'
import {buildBundle, buildBundleAt, type BundleSpec} from '../support/bundle-builder.js'
import {signingKitSuite} from '../support/signing-kit-suite.js'
import {ExitCode} from '../../src/exit-codes.js'
import {expectFinding} from '../support/expect-finding.js'

const TEAM = 'ESDTEST001'
const NOW = new Date('2026-11-26T12:00:00Z')
const errorIds = (r: VerifyReport) => r.findings.filter(f => f.severity === 'error').map(f => f.id).sort()

describe('verify: nested code in depth (signing kit)', function () {
  this.timeout(120_000)
  const suite = signingKitSuite(TEAM, NOW, 'esdctl-nested-')
  let n = 0

  function bundle(spec: Partial<BundleSpec>): Promise<string> {
    return buildBundle({dir: join(suite.work, `b${n++}`), name: 'esd', bundleId: 'com.example.esd', teamId: TEAM, identity: suite.leaf, signedAt: NOW, ...spec})
  }
  const contents = (app: string, rel: string) => join(app, 'Contents', rel)

  it('verifies every nested bundle recursively (framework Versions/A, XPC service, login item, .systemextension, .dext) and shows the tree', async () => {
    const app = await bundle({nestedBundles: [
      'Frameworks/Kit.framework',
      {path: 'XPCServices/svc.xpc', nestedBundles: ['Frameworks/Inner.framework']},
      'Library/LoginItems/Helper.app',
      'Library/SystemExtensions/com.example.esd.ext.systemextension',
      'Library/SystemExtensions/drv.dext',
    ]})
    const r = await verifyPath(app, suite.opts)
    assert.deepEqual(r.findings, [])
    assert.deepEqual(r.nested?.map(x => [x.path, x.kind, x.ok]), [
      ['Frameworks/Kit.framework', 'bundle', true],
      ['Library/LoginItems/Helper.app', 'bundle', true],
      ['Library/SystemExtensions/com.example.esd.ext.systemextension', 'bundle', true],
      ['Library/SystemExtensions/drv.dext', 'bundle', true],
      ['XPCServices/svc.xpc', 'bundle', true],
    ])
    const svc = r.nested!.find(x => x.path === 'XPCServices/svc.xpc')!
    assert.equal(svc.identifier, 'com.example.esd.svc')
    assert.deepEqual(svc.nested?.map(x => x.path), ['Frameworks/Inner.framework'])
    const text = renderVerifyText(r)
    assert.match(text, /nested code:\n {4}✔ Frameworks\/Kit\.framework \(bundle\): com\.example\.esd\.Kit \(team ESDTEST001\), developer-id, cdhash [0-9a-f]{40}/)
    assert.match(text, /\n {6}✔ Frameworks\/Inner\.framework \(bundle\)/)
  })

  it('a changed resource inside a nested framework is that framework\'s seal.modified, and the tree marks it', async () => {
    const app = await bundle({nestedBundles: [{path: 'Frameworks/Kit.framework', extraFiles: {'Resources/kit.dat': Buffer.from('data')}}]})
    await writeFile(contents(app, 'Frameworks/Kit.framework/Versions/A/Resources/kit.dat'), 'tampered')
    const r = await verifyPath(app, suite.opts)
    assert.deepEqual(errorIds(r), ['seal.modified'])
    assert.match(r.findings[0]!.path, /Kit\.framework\/Versions\/A\/Resources\/kit\.dat$/)
    assert.equal(r.nested![0]!.ok, false)
    assert.match(renderVerifyText(r), /✖ Frameworks\/Kit\.framework/)
  })

  it('a nested bundle re-signed after the parent was sealed → seal.nested-modified (the parent\'s cdhash)', async () => {
    const app = await bundle({nestedBundles: ['XPCServices/svc.xpc']})
    const svc = contents(app, 'XPCServices/svc.xpc')
    await rm(svc, {recursive: true})
    await buildBundleAt(svc, 'deep', {dir: '', name: 'svc', bundleId: 'com.example.esd.svc', teamId: TEAM, identity: suite.leaf, entitlements: {}, profile: 'none', codeSize: 20_000, signedAt: NOW})
    const r = await verifyPath(app, suite.opts)
    assert.deepEqual(errorIds(r), ['seal.nested-modified'])
    expectFinding(r, {id: 'seal.nested-modified', severity: 'error', exitCode: ExitCode.verificationFailed})
    assert.match(r.findings[0]!.message, /svc\.xpc is nested code sealed with cdhash [0-9a-f]{40} but its signature now has/)
  })

  it('nested code that does not satisfy the requirement the parent sealed → seal.nested-requirement-unmet', async () => {
    const app = await bundle({nestedBundles: [{path: 'Frameworks/Kit.framework', requirement: 'identifier "com.example.other" and anchor apple generic and certificate leaf[subject.OU] = OTHERTEAM9'}]})
    const r = await verifyPath(app, suite.opts)
    assert.deepEqual(errorIds(r), ['seal.nested-requirement-unmet'])
    expectFinding(r, {id: 'seal.nested-requirement-unmet', severity: 'error', exitCode: ExitCode.verificationFailed})
    assert.match(r.findings[0]!.message, /identifier "com\.example\.other"; certificate leaf\[subject\.OU\] = OTHERTEAM9/)
  })

  it("a nested bundle's own profile is checked: an XPC service claiming ES without one → profile.missing inside it", async () => {
    const app = await bundle({nestedBundles: [{path: 'XPCServices/svc.xpc', entitlements: {'com.apple.application-identifier': `${TEAM}.com.example.esd.svc`, [ENDPOINT_SECURITY]: true}}]})
    const r = await verifyPath(app, suite.opts)
    assert.deepEqual(errorIds(r), ['profile.missing'])
    assert.match(r.findings[0]!.path, /svc\.xpc\/Contents\/embedded\.provisionprofile$/)
  })

  it('a plain file sealed by hash in Contents/MacOS → seal.plain-file-in-nested-location, fix: move it to Contents/Resources', async () => {
    const app = await bundle({extraFiles: {'MacOS/run.sh': Buffer.from('#!/bin/sh\nexec true\n'), 'Helpers/defaults.json': Buffer.from('{}')}})
    const r = await verifyPath(app, suite.opts)
    assert.deepEqual(errorIds(r), ['seal.plain-file-in-nested-location', 'seal.plain-file-in-nested-location'])
    expectFinding(r, {id: 'seal.plain-file-in-nested-location', severity: 'error', exitCode: ExitCode.verificationFailed})
    const f = r.findings.find(x => x.path.endsWith('MacOS/run.sh'))!
    assert.match(f.message, /sealed as a plain file \(by hash\) in a place the seal's rules reserve for nested code/)
    assert.match(f.message, /In subcomponent/)
    assert.match(f.fix!, /Move run\.sh to Contents\/Resources/)
  })

  it('a script signed through extended attributes → seal.nested-code-in-xattrs: the finding and its fix say git, zip and tar drop them', async () => {
    const app = await bundle({xattrSignedFiles: {'MacOS/launch.sh': Buffer.from('#!/bin/sh\nexec "$0-real"\n')}})
    const r = await verifyPath(app, suite.opts)
    assert.deepEqual(errorIds(r), [])
    const f = expectFinding(r, {id: 'seal.nested-code-in-xattrs', severity: 'warning', exitCode: ExitCode.ok})
    assert.match(f.message, /extended attributes .*git, zip and tar drop/)
    assert.match(f.fix!, /keeps extended attributes/)
    assert.deepEqual(r.nested?.map(x => [x.path, x.kind]), [['MacOS/launch.sh', 'xattr-signed']])
  })

  it('nested code replaced by a symbolic link (here: a loop back to the bundle) is seal.modified, never followed', async () => {
    const app = await bundle({nestedBundles: ['Frameworks/Kit.framework']})
    const kit = contents(app, 'Frameworks/Kit.framework')
    await rm(kit, {recursive: true})
    await symlink('../..', kit)
    const r = await verifyPath(app, suite.opts)
    assert.deepEqual(errorIds(r), ['seal.modified'])
    assert.match(r.findings[0]!.message, /Kit\.framework was sealed as nested code but is now a symbolic link/)
  })

  it('random damage to any file of a bundle with nested code gives findings, never an exception (40 runs)', async () => {
    const pristine = await bundle({nestedBundles: [{path: 'XPCServices/svc.xpc', nestedBundles: ['Frameworks/Inner.framework']}, 'Frameworks/Kit.framework'], extraExecutables: [{name: 'helper'}]})
    const files = (await readdir(pristine, {recursive: true, withFileTypes: true})).filter(d => d.isFile()).map(d => join(d.parentPath, d.name))
    await fc.assert(
      fc.asyncProperty(fc.nat({max: files.length - 1}), fc.array(fc.tuple(fc.nat(), fc.nat({max: 255})), {minLength: 1, maxLength: 6}), async (which, edits) => {
        const file = files[which]!
        const original = await readFile(file)
        const bytes = Buffer.from(original)
        for (const [at, b] of edits) if (bytes.length) bytes[at % bytes.length] = b
        await writeFile(file, bytes)
        try {
          const r = await verifyPath(pristine, suite.opts)
          assert.ok(Array.isArray(r.findings))
          // Every byte of a plist, seal or resource is bound; a Mach-O's unused signature padding is not (nor is it for macOS).
          const isMachO = original.readUInt32BE(0) === 0xcffaedfe || original.readUInt32BE(0) === 0xcafebabe
          if (!isMachO && !bytes.equals(original)) assert.ok(r.findings.length > 0, `${file} changed but nothing was found`)
        } finally {
          await writeFile(file, original)
        }
      }),
      {numRuns: 40},
    )
  })

  describe('esdctl verify takes any bundle shape directly', () => {
    it('a .framework (Versions/A) and a shallow .dext', async () => {
      const fw = join(suite.work, `f${n++}`, 'Kit.framework')
      await buildBundleAt(fw, 'framework', {dir: '', name: 'Kit', bundleId: 'com.example.kit', teamId: TEAM, identity: suite.leaf, entitlements: {}, profile: 'none', signedAt: NOW})
      const rf = await verifyPath(fw, suite.opts)
      assert.equal(rf.kind, 'bundle')
      assert.deepEqual(rf.findings, [])
      assert.equal(rf.slices[0]!.identifier, 'com.example.kit')

      const dext = join(suite.work, `d${n++}`, 'drv.dext')
      await buildBundleAt(dext, 'shallow', {dir: '', name: 'drv', bundleId: 'com.example.drv', teamId: TEAM, identity: suite.leaf, entitlements: {}, profile: 'none', signedAt: NOW})
      const rd = await verifyPath(dext, suite.opts)
      assert.deepEqual(rd.findings, [])
      await writeFile(join(dext, 'Info.plist'), (await readFile(join(dext, 'Info.plist'))).toString().replace('com.example.drv', 'com.example.drX'))
      assert.ok(errorIds(await verifyPath(dext, suite.opts)).includes('signature.info-plist-modified'))
    })
  })
})
