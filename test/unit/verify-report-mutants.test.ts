// Fast tests of how verify assembles a report: which kind a path is, what a bundle's parts say when
// missing or damaged, what each slice reports, and the nested-code tree (issue 14, area
// verify-report of stryker.config.mjs). Each asserts whole findings (id, severity, path, message,
// fix), so changing a condition or a text of those files fails one of them. The slower end-to-end
// files of the area run after this one.
import {strict as assert} from 'node:assert'
import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, readdirSync} from 'node:fs'
import {mkdir, readFile, rm, symlink, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import * as plist from 'plist'
import * as tar from 'tar'
import {FINDING_CATALOGUE} from '../../src/verify/finding-catalogue.js'
import {finding, hasErrors, namingPath, type Finding} from '../../src/verify/finding.js'
import {verifyBinary} from '../../src/verify/verify-binary.js'
import {resolveVerifyOptions} from '../../src/verify/verify-options.js'
import {verifyPath} from '../../src/verify/verify-path.js'
import {verifyFolder} from '../../src/verify/verify-folder.js'
import {checkIdentifier} from '../../src/verify/verify-bundle.js'
import {isReadRefusal} from '../../src/verify/unreadable-member.js'
import {NotRegularFileError} from '../../src/io/regular-file.js'
import type {VerifyReport} from '../../src/verify/report.js'
import {withArticle} from '../../src/verify/article.js'
import {createServer} from 'node:net'
import {createWriteStream} from 'node:fs'
import {chmod, copyFile} from 'node:fs/promises'
import {execa} from 'execa'
import yazl from 'yazl'
import {PageHashPool} from '../../src/io/page-hash-pool.js'
import {buildBundle, buildBundleAt, type BundleSpec} from '../support/bundle-builder.js'
import {buildSignedMachO, buildUniversal, buildSignedMachOSlice} from '../support/macho-writer.js'
import {REAL_PACKAGES_DIR} from '../support/real-shipped.js'
import {signingKitSuite} from '../support/signing-kit-suite.js'
import {skipBecause} from '../support/skip.js'
import {buildProfilePlist} from '../support/profile-builder.js'
import {signCodeDirectories, signProfile} from '../support/test-pki.js'
import {FLAG} from '../support/signature-writer.js'
import {designatedRequirement} from '../doubles/codesign/requirement.js'

const TEAM = 'ESDTEST001'
const BUNDLE_ID = 'com.example.esd'
const NOBODY = 65534
const NOW = new Date('2026-11-26T12:00:00Z')
const INFO_FIX = 'Give the bundle a Contents/Info.plist with CFBundleExecutable, CFBundleIdentifier, CFBundleShortVersionString and CFBundleVersion (esdctl bundle writes one).'
const POINT = 'Point esdctl at <name>.app, a Mach-O executable, a .provisionprofile, a .pkg, a folder, a .zip or a .tar.gz/.tgz.'

function f(id: keyof typeof FINDING_CATALOGUE, path: string, message: string, fix?: string): Finding {
  return finding(id, path, message, fix)
}

const info = (over: Record<string, unknown> = {}): string =>
  plist.build(Object.fromEntries(Object.entries({CFBundleExecutable: 'esd', CFBundleIdentifier: BUNDLE_ID, CFBundleShortVersionString: '1.0', CFBundleVersion: '1', ...over}).filter(([, v]) => v !== undefined)) as Parameters<typeof plist.build>[0])

/**
 * Twenty folders of 250-character names below `dir` (a path of over 5000 bytes, beyond PATH_MAX),
 * made one relative step at a time, since no call can name the whole path; the working folder is
 * restored before anything else runs.
 */
function longPathBelow(dir: string): void {
  const was = process.cwd()
  try {
    process.chdir(dir)
    for (let i = 0; i < 20; i++) {
      mkdirSync('n'.repeat(250))
      process.chdir('n'.repeat(250))
    }
  } finally {
    process.chdir(was)
  }
}

describe('verify report assembly: kinds, bundle parts, slices and nested code', function () {
  this.timeout(60_000)
  const suite = signingKitSuite(TEAM, NOW, 'esdctl-vrep-')
  let n = 0
  const fresh = async (): Promise<string> => {
    const dir = join(suite.work, `d${n++}`)
    await mkdir(dir, {recursive: true})
    return dir
  }
  /** An unsigned deep bundle by hand: Contents/Info.plist from `plistText` (undefined: none) and the given files under Contents/. */
  async function handBundle(plistText: string | undefined, files: Record<string, string | Buffer> = {}): Promise<{app: string; contents: string}> {
    const app = join(await fresh(), 'esd.app')
    const contents = join(app, 'Contents')
    await mkdir(contents, {recursive: true})
    if (plistText !== undefined) await writeFile(join(contents, 'Info.plist'), plistText)
    for (const [rel, bytes] of Object.entries(files)) {
      await mkdir(join(contents, rel, '..'), {recursive: true})
      await writeFile(join(contents, rel), bytes)
    }
    return {app, contents}
  }
  const bundle = async (spec: Partial<BundleSpec> = {}): Promise<string> =>
    buildBundle({dir: await fresh(), name: 'esd', bundleId: BUNDLE_ID, teamId: TEAM, version: '1.2.3', codeSize: 16 * 1024, identity: suite.leaf, ...spec})

  describe('a bundle\'s Info.plist and main executable', () => {
    it('no Info.plist: bundle.info-plist-missing, and nothing else is judged', async () => {
      const {app, contents} = await handBundle(undefined, {'MacOS/esd': 'x'})
      const r = await verifyPath(app)
      const path = join(contents, 'Info.plist')
      assert.deepEqual(r.findings, [f('bundle.info-plist-missing', path, `${path} is missing; without it macOS cannot tell which executable the bundle runs`, INFO_FIX)])
      assert.deepEqual(r.slices, [])
      assert.equal(r.ok, false)
      assert.equal(r.kind, 'bundle')
    })

    it('an Info.plist that is a folder or no property list: bundle.info-plist-malformed naming it', async () => {
      const {app, contents} = await handBundle(undefined)
      await mkdir(join(contents, 'Info.plist'))
      const path = join(contents, 'Info.plist')
      assert.deepEqual((await verifyPath(app)).findings, [f('bundle.info-plist-malformed', path, `${path} is a folder, not a property list file`, INFO_FIX)])
      const bad = await handBundle('<plist><dict><key>a</key></plist')
      const r = await verifyPath(bad.app)
      assert.equal(r.findings.length, 1)
      assert.equal(r.findings[0]!.id, 'bundle.info-plist-malformed')
      assert.equal(r.findings[0]!.fix, INFO_FIX)
      assert.ok(r.findings[0]!.message.startsWith(join(bad.contents, 'Info.plist')), r.findings[0]!.message)
    })

    it('each missing or empty key of Info.plist is its own finding, and without CFBundleExecutable nothing more is judged', async () => {
      const {app, contents} = await handBundle(info({CFBundleExecutable: '', CFBundleIdentifier: undefined, CFBundleShortVersionString: 5, CFBundleVersion: ''}))
      const path = join(contents, 'Info.plist')
      const version = (key: string) => f('bundle.version-missing', path, `${path}: ${key} is missing; installers and status reports cannot tell versions apart`, INFO_FIX)
      assert.deepEqual((await verifyPath(app)).findings, [
        f('bundle.executable-key-missing', path, `${path}: CFBundleExecutable is missing or not a string`, INFO_FIX),
        f('bundle.identifier-missing', path, `${path}: CFBundleIdentifier is missing or not a string`, INFO_FIX),
        version('CFBundleShortVersionString'),
        version('CFBundleVersion'),
      ])
      const other = await handBundle(info({CFBundleExecutable: 7, CFBundleIdentifier: ''}))
      const otherPath = join(other.contents, 'Info.plist')
      assert.deepEqual((await verifyPath(other.app)).findings.map(x => [x.id, x.message]), [
        ['bundle.executable-key-missing', `${otherPath}: CFBundleExecutable is missing or not a string`],
        ['bundle.identifier-missing', `${otherPath}: CFBundleIdentifier is missing or not a string`],
      ])
    })

    it('a CFBundleExecutable that is a path, . or ..: bundle.bad-executable-name, told where the executable belongs', async () => {
      for (const name of ['../esd', 'MacOS/esd', '..', '.']) {
        const {app, contents} = await handBundle(info({CFBundleExecutable: name}))
        const path = join(contents, 'Info.plist')
        const r = await verifyPath(app)
        assert.deepEqual(r.findings, [f('bundle.bad-executable-name', path, `${path}: CFBundleExecutable "${name}" is not a plain file name`, 'Set CFBundleExecutable to the name of the executable in Contents/MacOS.')], name)
        assert.deepEqual(r.slices, [])
      }
      // A shallow bundle (Info.plist at its top) keeps its executable beside it.
      const dir = join(await fresh(), 'x.dext')
      await mkdir(dir)
      await writeFile(join(dir, 'Info.plist'), info({CFBundleExecutable: '..'}))
      assert.deepEqual((await verifyPath(dir)).findings.map(x => x.fix), ['Set CFBundleExecutable to the name of the executable in the bundle.'])
      // A name that merely contains dots is a plain name.
      const dotted = await handBundle(info({CFBundleExecutable: '.esd..'}))
      assert.equal((await verifyPath(dotted.app)).findings[0]!.id, 'bundle.executable-missing')
    })

    it('the main executable missing, or a folder: bundle.executable-missing saying which', async () => {
      const {app, contents} = await handBundle(info(), {'MacOS/other': 'x'})
      const exe = join(contents, 'MacOS', 'esd')
      const fix = 'Put the executable at MacOS/esd, or fix CFBundleExecutable in Info.plist.'
      assert.deepEqual((await verifyPath(app)).findings, [f('bundle.executable-missing', exe, `${exe}: the main executable named by CFBundleExecutable is missing`, fix)])
      await mkdir(exe)
      assert.deepEqual((await verifyPath(app)).findings, [f('bundle.executable-missing', exe, `${exe}: the main executable named by CFBundleExecutable is a folder, not a file`, fix)])
    })

    it('a main executable that is no Mach-O: macho.not-macho told to rebuild it, the seal judged too', async () => {
      const {app, contents} = await handBundle(info(), {'MacOS/esd': 'not a mach-o file at all'})
      const r = await verifyPath(app)
      const exe = join(contents, 'MacOS', 'esd')
      const seal = join(contents, '_CodeSignature', 'CodeResources')
      assert.deepEqual(r.findings.map(x => [x.id, x.path]), [['macho.not-macho', exe], ['seal.absent', seal]])
      assert.ok(r.findings[0]!.message.startsWith(`${exe}: `), r.findings[0]!.message)
      assert.equal(r.findings[0]!.fix, 'The file is damaged or truncated, not a Mach-O executable: build it again, put it back in the bundle and sign the bundle again.')
      assert.deepEqual(r.findings[1], f('seal.absent', seal, `${seal} is missing: the bundle's resources are not sealed`, 'Sign the whole bundle with codesign (not only the executable inside it).'))
      assert.equal(r.notarization?.stapled, false)
    })

    it('a seal that is a folder or no plist, and a profile that is a folder or no profile: malformed, naming each', async () => {
      const {app, contents} = await handBundle(info(), {'MacOS/esd': 'not a mach-o file at all', '_CodeSignature/CodeResources': 'garbage'})
      const seal = join(contents, '_CodeSignature', 'CodeResources')
      const profile = join(contents, 'embedded.provisionprofile')
      await writeFile(profile, 'garbage')
      let r = await verifyPath(app)
      assert.deepEqual(r.findings.map(x => [x.id, x.path, x.fix]), [
        ['macho.not-macho', join(contents, 'MacOS', 'esd'), r.findings[0]!.fix],
        ['seal.malformed', seal, 'Sign the bundle again with codesign.'],
        ['profile.malformed', profile, 'Download the profile again from the Apple Developer portal.'],
      ])
      assert.ok(r.findings[2]!.message.startsWith(`${profile}: not a provisioning profile (`), r.findings[2]!.message)
      assert.equal(r.profile, undefined)
      for (const p of [seal, profile]) {
        await rm(p)
        await mkdir(p)
      }
      r = await verifyPath(app)
      assert.deepEqual(r.findings.slice(1), [
        f('seal.malformed', seal, `${seal} is a folder, not a file: the bundle's resources are not sealed`, 'Sign the bundle again with codesign.'),
        f('profile.malformed', profile, `${profile} is a folder, not a provisioning profile`, 'Download the profile again from the Apple Developer portal, copy it to embedded.provisionprofile, then sign the bundle again.'),
      ])
    })
  })

  describe('signed bundles', () => {
    it('the full positive case: ok, its slice, profile and notarization reported, no nested tree', async () => {
      const app = await bundle()
      const r = await verifyPath(app, suite.opts)
      assert.deepEqual(r.findings.filter(x => x.severity === 'error'), [])
      assert.equal(r.ok, true)
      assert.equal(r.kind, 'bundle')
      assert.equal(r.path, app)
      assert.equal(r.slices.length, 1)
      const s = r.slices[0]!
      assert.equal(s.arch, 'arm64')
      assert.equal(s.identifier, BUNDLE_ID)
      assert.equal(s.teamId, TEAM)
      assert.match(s.cdhash!, /^[0-9a-f]{40}$/)
      assert.deepEqual(s.flags, ['runtime'])
      assert.equal(s.hashType, 'sha256')
      assert.equal(s.signer, 'developer-id')
      assert.equal(s.signerName, suite.leaf.info.commonName)
      assert.equal(s.signerSha256, suite.leaf.info.sha256)
      assert.equal(s.entitlements['com.apple.developer.endpoint-security.client'], true)
      assert.equal(r.profile?.path, join(app, 'Contents', 'embedded.provisionprofile'))
      assert.equal(r.profile?.teamId, TEAM)
      assert.equal(r.notarization?.stapled, false)
      assert.equal('nested' in r, false)
    })

    it('entitlements without a profile: profile.missing naming them and where the profile goes', async () => {
      const app = await bundle({profile: 'none'})
      const r = await verifyPath(app, suite.opts)
      const contents = join(app, 'Contents')
      const profile = join(contents, 'embedded.provisionprofile')
      const claimed = 'com.apple.developer.endpoint-security.client'
      assert.deepEqual(r.findings.filter(x => x.id === 'profile.missing'), [f('profile.missing', profile,
        `${join(contents, 'MacOS', 'esd')} claims ${claimed} but the bundle has no embedded.provisionprofile; nothing authorises those entitlements, so macOS kills the daemon at launch (Killed: 9)`,
        'Download the Developer ID provisioning profile for this App ID, copy it to Contents/embedded.provisionprofile, then sign the bundle again.')])
      assert.equal(r.ok, false)
      // Without restricted entitlements no profile is needed.
      const plain = await verifyPath(await bundle({profile: 'none', entitlements: {}}), suite.opts)
      assert.deepEqual(plain.findings.filter(x => x.severity === 'error'), [])
      assert.equal(plain.profile, undefined)
    })

    it('signed under another identifier than CFBundleIdentifier: bundle.identifier-mismatch naming both', async () => {
      const app = await bundle({signOverrides: {identifier: 'com.example.other'}})
      const path = join(app, 'Contents', 'Info.plist')
      const r = await verifyPath(app, suite.opts)
      assert.deepEqual(r.findings.filter(x => x.id === 'bundle.identifier-mismatch'), [f('bundle.identifier-mismatch', path,
        `${path}: CFBundleIdentifier is ${BUNDLE_ID} but the executable is signed as com.example.other`,
        'Sign the bundle (not the bare executable) so the signing identifier is the bundle identifier.')])
    })

    it('the identifier check slice by slice: every signed slice must name CFBundleIdentifier, unsigned ones name nothing', () => {
      const exe = (...ids: Array<string | undefined>) => ({slices: ids.map(identifier => ({report: identifier === undefined ? {} : {identifier}}))}) as unknown as Parameters<typeof checkIdentifier>[2]
      const info = {CFBundleIdentifier: BUNDLE_ID}
      assert.deepEqual(checkIdentifier('/i', info, exe(BUNDLE_ID, undefined)), [])
      assert.deepEqual(checkIdentifier('/i', info, exe(undefined)), [])
      assert.deepEqual(checkIdentifier('/i', {}, exe('com.example.other')), [])
      assert.deepEqual(checkIdentifier('/i', info, exe(BUNDLE_ID, 'com.example.other', BUNDLE_ID)).map(x => [x.id, x.message]), [
        ['bundle.identifier-mismatch', `/i: CFBundleIdentifier is ${BUNDLE_ID} but the executable is signed as ${BUNDLE_ID}, com.example.other`],
      ])
    })

    it('a folder inside Contents/MacOS is no second executable to read: only the seal judges what it holds', async () => {
      const app = await bundle({extraFiles: {'MacOS/helpers/readme.txt': Buffer.from('notes')}})
      const r = await verifyPath(app, suite.opts)
      // codesign --verify --strict refuses a plain file where the rules expect nested code; esdctl says so, and nothing more.
      assert.deepEqual(r.findings.map(x => [x.id, x.path]), [['seal.plain-file-in-nested-location', join(app, 'Contents', 'MacOS', 'helpers', 'readme.txt')]])
    })

    it('a shallow bundle\'s second executable beside its main one, claiming a capability: bundle.nested-restricted too, named as in the bundle', async () => {
      const dext = join(await fresh(), 'esd.dext')
      await buildBundleAt(dext, 'shallow', {dir: '', name: 'esd', bundleId: BUNDLE_ID, teamId: TEAM, identity: suite.leaf, codeSize: 16 * 1024,
        extraExecutables: [{name: 'helper', entitlements: {'com.apple.developer.endpoint-security.client': true}}],
        // A nested bundle further down is judged with its own profile, not as a second executable of this one.
        nestedBundles: [{path: 'PlugIns/Ext.appex', entitlements: {'com.apple.developer.endpoint-security.client': true}}]})
      const r = await verifyPath(dext, suite.opts)
      const helper = join(dext, 'helper')
      assert.deepEqual(r.findings.filter(x => x.id === 'bundle.nested-restricted'), [f('bundle.nested-restricted', helper,
        'helper claims com.apple.developer.endpoint-security.client but is not the bundle\'s main executable; macOS will kill it (Killed: 9) even though it is validly signed, because a provisioning profile covers only the main executable.',
        'Give helper its own bundle, App ID and provisioning profile, or, if it is a copy of the daemon, remove it and point launchd and the bin/ symlink at esd.')])
    })

    it('a second executable claiming two capabilities: the finding names both', async () => {
      const app = await bundle({extraExecutables: [{name: 'helper', entitlements: {'com.apple.developer.endpoint-security.client': true, 'com.apple.developer.system-extension.install': true}}]})
      const r = await verifyPath(app, suite.opts)
      assert.deepEqual(r.findings.filter(x => x.id === 'bundle.nested-restricted').map(x => x.message.split(' but ')[0]), [
        'Contents/MacOS/helper claims com.apple.developer.endpoint-security.client, com.apple.developer.system-extension.install',
      ])
    })

    it('a second executable in MacOS claiming a restricted entitlement: bundle.nested-restricted; one claiming none is fine', async () => {
      const app = await bundle({extraExecutables: [{name: 'helper', entitlements: {[`com.apple.developer.endpoint-security.client`]: true}}, {name: 'tool', entitlements: {'com.apple.security.network.client': true}}]})
      const r = await verifyPath(app, suite.opts)
      const helper = join(app, 'Contents', 'MacOS', 'helper')
      assert.deepEqual(r.findings.filter(x => x.id === 'bundle.nested-restricted'), [f('bundle.nested-restricted', helper,
        'Contents/MacOS/helper claims com.apple.developer.endpoint-security.client but is not the bundle\'s main executable; macOS will kill it (Killed: 9) even though it is validly signed, because a provisioning profile covers only the main executable.',
        'Give helper its own bundle, App ID and provisioning profile, or, if it is a copy of the daemon, remove it and point launchd and the bin/ symlink at Contents/MacOS/esd.')])
      assert.deepEqual(r.nested?.map(x => [x.path, x.kind, x.ok, x.identifier, x.teamId, x.signer]), [
        ['MacOS/helper', 'macho', false, 'helper', TEAM, 'developer-id'],
        ['MacOS/tool', 'macho', true, 'tool', TEAM, 'developer-id'],
      ])
      assert.match(r.nested![0]!.cdhash!, /^[0-9a-f]{40}$/)
      // A damaged second executable: its own finding reaches the bundle's report, once.
      const tool = join(app, 'Contents', 'MacOS', 'tool')
      const bytes = await readFile(tool)
      bytes[9000]! ^= 0x01
      await writeFile(tool, bytes)
      const damaged = await verifyPath(app, suite.opts)
      assert.equal(damaged.findings.filter(x => x.path === tool && x.id === 'signature.code-modified').length, 1)
      assert.equal(damaged.nested!.find(x => x.path === 'MacOS/tool')!.ok, false)
    })

    it('nested bundles and scripts: a sorted tree, each bundle verified in depth, ok unless an error is about it', async () => {
      const app = await bundle({
        nestedBundles: ['Library/LoginItems/Zed.app', {path: 'Frameworks/Kit.framework', nestedBundles: ['Helpers/Inner.app']}],
        xattrSignedFiles: {'Resources/run.sh': Buffer.from('#!/bin/sh\necho hi\n')},
      })
      const r = await verifyPath(app, suite.opts)
      assert.deepEqual(r.findings.filter(x => x.severity === 'error'), [])
      const tree = r.nested!.map(x => ({path: x.path, kind: x.kind, ok: x.ok, identifier: x.identifier, nested: x.nested?.map(y => [y.path, y.kind, y.ok, y.identifier])}))
      assert.deepEqual(tree, [
        {path: 'Frameworks/Kit.framework', kind: 'bundle', ok: true, identifier: `${BUNDLE_ID}.Kit`, nested: [['Helpers/Inner.app', 'bundle', true, `${BUNDLE_ID}.Kit.Inner`]]},
        {path: 'Library/LoginItems/Zed.app', kind: 'bundle', ok: true, identifier: `${BUNDLE_ID}.Zed`, nested: undefined},
        {path: 'Resources/run.sh', kind: 'xattr-signed', ok: true, identifier: undefined, nested: undefined},
      ])
      assert.equal(r.nested![0]!.teamId, TEAM)
      assert.equal(r.nested![0]!.signer, 'developer-id')
      assert.match(r.nested![0]!.cdhash!, /^[0-9a-f]{40}$/)
      assert.equal('teamId' in r.nested![2]!, false)
      assert.equal('signer' in r.nested![2]!, false)

      // Damage inside the inner one: its findings reach the report, and it and its parents are not ok.
      const inner = join(app, 'Contents', 'Frameworks', 'Kit.framework', 'Versions', 'A', 'Helpers', 'Inner.app', 'Contents', 'Info.plist')
      await writeFile(inner, (await readFile(inner, 'utf8')).replace('<key>CFBundleVersion</key>', '<key>CFBundleVersionX</key>'))
      const damaged = await verifyPath(app, suite.opts)
      assert.equal(damaged.ok, false)
      assert.ok(damaged.findings.some(x => x.id === 'bundle.version-missing' && x.path === inner), JSON.stringify(damaged.findings))
      const kit = damaged.nested!.find(x => x.path === 'Frameworks/Kit.framework')!
      assert.equal(kit.ok, false)
      assert.equal(kit.nested![0]!.ok, false)
      assert.equal(damaged.nested!.find(x => x.path === 'Library/LoginItems/Zed.app')!.ok, true)
    })

    it('nested more than 8 bundles deep: that one is not verified, and says so', async () => {
      type Spec = string | {path: string; nestedBundles: Spec[]}
      let spec: Spec = 'Helpers/L10.app'
      for (let level = 9; level >= 2; level--) spec = {path: `Helpers/L${level}.app`, nestedBundles: [spec]}
      const app = await bundle({nestedBundles: [spec]})
      const r = await verifyPath(app, suite.opts)
      const chain = [r.nested![0]!]
      while (chain.at(-1)!.nested) chain.push(chain.at(-1)!.nested![0]!)
      // L2 … L9 sit 1 … 8 bundles deep below the top one and are verified; L10, 9 deep, is not.
      assert.deepEqual(chain.map(x => [x.path, x.identifier]), [2, 3, 4, 5, 6, 7, 8, 9, 10].map(l => [`Helpers/L${l}.app`, l === 10 ? undefined : [BUNDLE_ID, ...[2, 3, 4, 5, 6, 7, 8, 9].filter(k => k <= l).map(k => `L${k}`)].join('.')]))
      const deepest = join(app, 'Contents', ...[2, 3, 4, 5, 6, 7, 8, 9].flatMap(l => ['Helpers', `L${l}.app`, 'Contents']), 'Helpers', 'L10.app')
      const about = r.findings.filter(x => x.path === deepest)
      assert.deepEqual(about.map(x => x.id), ['seal.nested-bundle-unchecked'])
      assert.ok(about[0]!.message.includes('it is nested more than 8 bundles deep'), about[0]!.message)
      assert.deepEqual(chain.map(x => x.ok), [true, true, true, true, true, true, true, true, false])
      assert.deepEqual(chain.map(x => x.kind), Array(9).fill('bundle'))
      assert.ok(r.findings.every(x => typeof x.id === 'string' && typeof x.path === 'string'), JSON.stringify(r.findings))
    })
  })

  describe('signed bundles: the less common parts', () => {
    it('folders nested deeper than any real bundle: bundle.unreadable, and nothing more is judged', async () => {
      const {app, contents} = await handBundle(info(), {'MacOS/esd': 'x'})
      await mkdir(join(contents, 'Resources', ...Array.from({length: 70}, (_, i) => `d${i}`)), {recursive: true})
      const r = await verifyPath(app)
      assert.deepEqual(r.findings.map(x => [x.id, x.path, x.fix]), [['bundle.unreadable', app, 'Remove the runaway nesting or files from the bundle.']])
      assert.match(r.findings[0]!.message, /nested more than 64 levels deep$/)
    })

    it('a path inside longer than the system can name (ENAMETOOLONG): bundle.unreadable, and a folder input.unreadable, never an exception', async () => {
      const {app, contents} = await handBundle(info(), {'MacOS/esd': 'x'})
      const folder = await fresh()
      try {
        for (const dir of [join(contents, 'Resources'), folder]) {
          await mkdir(dir, {recursive: true})
          longPathBelow(dir)
        }
        const r = await verifyPath(app)
        assert.deepEqual(r.findings.map(x => [x.id, x.path, x.fix]), [['bundle.unreadable', app, 'Remove the runaway nesting or files from the bundle.']])
        assert.ok(r.findings[0]!.message.startsWith(`${app}: the bundle cannot be walked (ENAMETOOLONG`), r.findings[0]!.message)
        assert.deepEqual(r.slices, [])
        const fr = await verifyPath(folder)
        assert.deepEqual(fr.findings.map(x => [x.id, x.path, x.fix]), [['input.unreadable', folder, 'Check the path and that you may read it.']])
        assert.ok(fr.findings[0]!.message.startsWith(`${folder}: the folder cannot be walked (ENAMETOOLONG`), fr.findings[0]!.message)
      } finally {
        // Node's recursive removal names whole paths too; rm -rf walks relative to each folder.
        execFileSync('rm', ['-rf', join(contents, 'Resources'), folder])
      }
    })

    it('a profile that is a folder beside entitlements: profile.malformed only, not also profile.missing', async () => {
      const app = await bundle({profile: 'none'})
      await mkdir(join(app, 'Contents', 'embedded.provisionprofile'))
      const r = await verifyPath(app, suite.opts)
      assert.deepEqual(r.findings.filter(x => x.id.startsWith('profile.')).map(x => x.id), ['profile.malformed'])
    })

    it('only identity entitlements claimed without a profile: profile.missing names them; a shallow bundle\'s profile sits at its top', async () => {
      const app = await bundle({profile: 'none', entitlements: {'com.apple.application-identifier': `${TEAM}.${BUNDLE_ID}`, 'com.apple.developer.team-identifier': TEAM}})
      const missing = (await verifyPath(app, suite.opts)).findings.filter(x => x.id === 'profile.missing')
      assert.equal(missing.length, 1)
      assert.ok(missing[0]!.message.includes(' claims com.apple.application-identifier, com.apple.developer.team-identifier but '), missing[0]!.message)
      const dext = join(await fresh(), 'esd.dext')
      await buildBundleAt(dext, 'shallow', {dir: '', name: 'esd', bundleId: BUNDLE_ID, teamId: TEAM, identity: suite.leaf, codeSize: 16 * 1024, profile: 'none'})
      const r = await verifyPath(dext, suite.opts)
      const f = r.findings.find(x => x.id === 'profile.missing')!
      assert.equal(f.path, join(dext, 'embedded.provisionprofile'))
      assert.equal(f.fix, 'Download the Developer ID provisioning profile for this App ID, copy it to embedded.provisionprofile, then sign the bundle again.')
      assert.ok(f.message.startsWith(`${join(dext, 'esd')} claims com.apple.developer.endpoint-security.client but`), f.message)
    })

    it('a universal bundle signed under another identifier names it once; a script in MacOS is no nested executable', async () => {
      const app = await bundle({arch: ['arm64', 'x86_64'], signOverrides: {identifier: 'com.example.other'}, extraFiles: {'MacOS/run.sh': Buffer.from('#!/bin/sh\n')}})
      const r = await verifyPath(app, suite.opts)
      assert.deepEqual(r.findings.filter(x => x.id === 'bundle.identifier-mismatch').map(x => x.message), [`${join(app, 'Contents', 'Info.plist')}: CFBundleIdentifier is ${BUNDLE_ID} but the executable is signed as com.example.other`])
      assert.equal(r.findings.some(x => x.id === 'macho.not-macho' || x.id === 'bundle.nested-restricted'), false, JSON.stringify(r.findings))
      assert.equal(r.slices.length, 2)
    })

    it('nested code: sorted by name as people read it, a prefix sibling not blamed, damage and loss told apart', async () => {
      const app = await bundle({nestedBundles: ['Frameworks/b.framework', 'Frameworks/C.framework', 'Helpers/A.app', 'Helpers/A.app.bak', 'Helpers/Gone.app', 'Helpers/Empty.app']})
      const contents = join(app, 'Contents')
      // Damage A.app.bak's code: its signature no longer holds, so it no longer meets the requirement its parent sealed.
      const bakExe = join(contents, 'Helpers', 'A.app.bak', 'Contents', 'MacOS', 'A.app')
      const bytes = await readFile(bakExe)
      bytes[9000]! ^= 0x01
      await writeFile(bakExe, bytes)
      // Gone.app loses its executable; Empty.app everything but its folder.
      await rm(join(contents, 'Helpers', 'Gone.app', 'Contents', 'MacOS'), {recursive: true})
      await rm(join(contents, 'Helpers', 'Empty.app', 'Contents'), {recursive: true})
      const r = await verifyPath(app, suite.opts)
      assert.deepEqual(r.nested!.map(x => [x.path, x.ok]), [
        ['Frameworks/b.framework', true], ['Frameworks/C.framework', true],
        ['Helpers/A.app', true], ['Helpers/A.app.bak', false], ['Helpers/Empty.app', false], ['Helpers/Gone.app', false],
      ])
      const bak = join(contents, 'Helpers', 'A.app.bak')
      assert.deepEqual(r.findings.filter(x => x.path === bak).map(x => x.id), ['seal.nested-requirement-unmet'])
      const empty = r.findings.filter(x => x.path === join(contents, 'Helpers', 'Empty.app'))
      assert.ok(empty.some(x => x.id === 'seal.nested-bundle-unchecked' && x.message.includes('but it is not a recognisable bundle (no Contents/, Versions/ or Info.plist), so')), JSON.stringify(empty))
      assert.equal(r.nested!.find(x => x.path === 'Helpers/Empty.app')!.kind, 'bundle')
      assert.ok(r.findings.every(x => typeof x.id === 'string' && typeof x.path === 'string'), JSON.stringify(r.findings))
      const gone = r.findings.filter(x => x.path === join(contents, 'Helpers', 'Gone.app'))
      assert.ok(gone.some(x => x.id === 'seal.nested-modified' && x.message.endsWith('but its signature now has no readable cdhash')), JSON.stringify(gone))
    })
  })

  describe('bare executables', () => {
    const sign = (over: Record<string, unknown> = {}) => ({identifier: 'com.example.tool', teamId: TEAM, flags: FLAG.runtime, cms: (cds: Buffer[]) => signCodeDirectories({codeDirectories: cds, identity: suite.leaf, signingTime: NOW}), ...over})

    it('a restricted entitlement in a bare executable, or one inside a bundle\'s MacOS: told why and what to verify', async () => {
      const dir = await fresh()
      const bytes = await buildSignedMachO({arch: 'arm64', codeSize: 16 * 1024}, sign({entitlements: {'com.apple.developer.endpoint-security.client': true}}))
      // Two claimed: both named, comma-separated.
      const two = join(dir, 'two')
      await writeFile(two, await buildSignedMachO({arch: 'arm64', codeSize: 16 * 1024}, sign({entitlements: {'com.apple.developer.endpoint-security.client': true, 'com.apple.application-identifier': `${TEAM}.x`}})))
      assert.ok((await verifyPath(two, suite.opts)).findings[0]!.message.startsWith(`${two} claims com.apple.developer.endpoint-security.client, com.apple.application-identifier but `))
      const twoInside = join(dir, 'w.app', 'Contents', 'MacOS', 'two')
      await mkdir(join(twoInside, '..'), {recursive: true})
      await writeFile(twoInside, await readFile(two))
      assert.ok((await verifyPath(twoInside, suite.opts)).findings[0]!.message.startsWith(`${twoInside} claims com.apple.developer.endpoint-security.client, com.apple.application-identifier; `))
      const bare = join(dir, 'tool')
      await writeFile(bare, bytes)
      const r = await verifyPath(bare, suite.opts)
      assert.equal(r.kind, 'macho')
      assert.deepEqual(r.findings, [f('entitlements.restricted-in-bare-binary', bare,
        `${bare} claims com.apple.developer.endpoint-security.client but is a bare executable: it cannot carry the provisioning profile that must authorise those entitlements, so macOS kills it at launch (Killed: 9)`,
        'Wrap the daemon in an app-like bundle (<name>.app/Contents/MacOS/<name> with Info.plist and embedded.provisionprofile; esdctl bundle does it) and point launchd at the executable inside it.')])
      assert.equal(r.ok, false)
      assert.equal(r.slices[0]!.identifier, 'com.example.tool')
      const inside = join(dir, 'x.app', 'Contents', 'MacOS', 'tool')
      await mkdir(join(inside, '..'), {recursive: true})
      await writeFile(inside, bytes)
      assert.deepEqual((await verifyPath(inside, suite.opts)).findings, [f('entitlements.verify-the-bundle', inside,
        `${inside} claims com.apple.developer.endpoint-security.client; whether macOS allows that depends on its bundle's provisioning profile — verify the bundle (${join(dir, 'x.app')}) to check it`)])
      // Only Contents/MacOS counts as inside a bundle.
      for (const where of [join(dir, 'y.app', 'Other', 'MacOS', 'tool'), join(dir, 'z.app', 'Contents', 'Other', 'tool')]) {
        await mkdir(join(where, '..'), {recursive: true})
        await writeFile(where, bytes)
        assert.equal((await verifyPath(where, suite.opts)).findings[0]!.id, 'entitlements.restricted-in-bare-binary', where)
      }
      // Unrestricted entitlements alone: clean.
      const free = join(dir, 'free')
      await writeFile(free, await buildSignedMachO({arch: 'arm64', codeSize: 16 * 1024}, sign({entitlements: {'com.apple.security.network.client': true}})))
      const clean = await verifyPath(free, suite.opts)
      assert.deepEqual(clean.findings, [])
      assert.equal(clean.ok, true)
    })

    it('a universal file whose slices claim different teams or entitlements: binary.slices-disagree naming what differs', async () => {
      const a = await buildSignedMachOSlice({arch: 'arm64', codeSize: 16 * 1024}, sign({entitlements: {'com.apple.security.network.client': true}}))
      const b = await buildSignedMachOSlice({arch: 'x86_64', codeSize: 16 * 1024}, sign({teamId: 'OTHERTEAM9'}))
      const same = await buildSignedMachOSlice({arch: 'x86_64', codeSize: 16 * 1024}, sign({identifier: 'com.example.other', entitlements: {'com.apple.security.network.client': true}}))
      const dir = await fresh()
      const mixed = join(dir, 'mixed')
      await writeFile(mixed, buildUniversal([{arch: 'arm64', ...a}, {arch: 'x86_64', ...b}]))
      const fix = 'Sign the universal file once, after lipo, so every slice carries the same team and entitlements.'
      const r = await verifyBinary(mixed, 'shown', {}, resolveVerifyOptions(suite.opts))
      assert.deepEqual(r.findings.filter(x => x.id === 'binary.slices-disagree'), [f('binary.slices-disagree', 'shown', `shown: slices arm64 and x86_64 are signed differently (team ${TEAM} vs OTHERTEAM9; entitlements differ)`, fix)])
      // Different identifiers alone change nothing macOS decides.
      const agree = join(dir, 'agree')
      await writeFile(agree, buildUniversal([{arch: 'arm64', ...a}, {arch: 'x86_64', ...same}]))
      const ok = await verifyBinary(agree, agree, {}, resolveVerifyOptions(suite.opts))
      assert.deepEqual(ok.findings, [])
      assert.deepEqual(ok.slices.map(s => [s.report.arch, s.report.identifier, s.intact, s.cdhashes.length]), [['arm64', 'com.example.tool', true, 1], ['x86_64', 'com.example.other', true, 1]])
      assert.equal(ok.layout?.slices.length, 2)
    })

    it('damage every CodeDirectory sees: one finding per problem, naming each CodeDirectory by its hash; the slice is no longer intact', async () => {
      const dir = await fresh()
      const names: Array<[number[], string]> = [
        [[2, 1], 'SHA-256 CodeDirectory and the alternate SHA-1 CodeDirectory'],
        [[3, 4, 2], 'SHA-256/20 CodeDirectory and the alternate SHA-384 CodeDirectory and the alternate SHA-256 CodeDirectory'],
      ]
      for (const [hashTypes, named] of names) {
        const path = join(dir, `multi-${hashTypes.join('')}`)
        const bytes = await buildSignedMachO({arch: 'arm64', codeSize: 16 * 1024}, {identifier: 'multi', hashTypes, entitlements: {'com.apple.security.network.client': true}, unboundSlots: [5]})
        bytes[9000]! ^= 0x01
        await writeFile(path, bytes)
        const r = await verifyBinary(path, path, {}, resolveVerifyOptions(suite.opts))
        assert.deepEqual(r.findings.map(x => [x.id, x.message.endsWith(`(affects the ${named})`)]), [['signature.code-modified', true], ['signature.entitlements-unbound', true]], JSON.stringify(r.findings))
        assert.equal(r.slices[0]!.intact, false)
        assert.equal(r.slices[0]!.cdhashes.length, hashTypes.length)
        // The report shows the strongest CodeDirectory, as codesign does, wherever it sits.
        assert.equal(r.slices[0]!.report.hashType, hashTypes.includes(4) ? 'sha384' : 'sha256')
      }
      // With one CodeDirectory the message stands alone.
      const one = join(dir, 'one')
      const bytes = await buildSignedMachO({arch: 'arm64', codeSize: 16 * 1024}, {identifier: 'one'})
      bytes[9000]! ^= 0x01
      await writeFile(one, bytes)
      const r = await verifyBinary(one, one, {}, resolveVerifyOptions(suite.opts))
      assert.deepEqual(r.findings.map(x => x.id), ['signature.code-modified'])
      assert.ok(!r.findings[0]!.message.includes('affects'), r.findings[0]!.message)
    })

    it('a signature neither ad hoc nor with a CMS: cms.missing, signer other; slices of no team and a team disagree', async () => {
      const dir = await fresh()
      const path = join(dir, 'nocms')
      await writeFile(path, await buildSignedMachO({arch: 'arm64', codeSize: 16 * 1024}, {identifier: 'nocms', flags: FLAG.runtime}))
      const r = await verifyBinary(path, 'shown', {}, resolveVerifyOptions(suite.opts))
      assert.deepEqual(r.findings, [f('cms.missing', 'shown', 'shown [arm64]: the signature is neither ad-hoc nor carries a CMS signature', 'Sign the file again with codesign.')])
      assert.equal(r.slices[0]!.report.signer, 'other')
      assert.equal(r.slices[0]!.intact, false)
      const a = await buildSignedMachOSlice({arch: 'arm64', codeSize: 16 * 1024}, {identifier: 'x'})
      const b = await buildSignedMachOSlice({arch: 'x86_64', codeSize: 16 * 1024}, sign())
      const mixed = join(dir, 'mixed')
      await writeFile(mixed, buildUniversal([{arch: 'arm64', ...a}, {arch: 'x86_64', ...b}]))
      assert.deepEqual((await verifyBinary(mixed, 'm', {}, resolveVerifyOptions(suite.opts))).findings.map(x => x.message), [`m: slices arm64 and x86_64 are signed differently (team none vs ${TEAM})`])
      const reversed = join(dir, 'reversed')
      await writeFile(reversed, buildUniversal([{arch: 'x86_64', ...b}, {arch: 'arm64', ...a}]))
      assert.deepEqual((await verifyBinary(reversed, 'm', {}, resolveVerifyOptions(suite.opts))).findings.map(x => x.message), [`m: slices x86_64 and arm64 are signed differently (team ${TEAM} vs none)`])
    })

    it('a slice reports its designated requirement, and entitlements from the DER blob when there is no XML one', async () => {
      const dir = await fresh()
      const dr = designatedRequirement('com.example.tool', {kind: 'developer-id', teamId: TEAM})
      const path = join(dir, 'dr')
      await writeFile(path, await buildSignedMachO({arch: 'arm64', codeSize: 16 * 1024}, sign({requirementsBlob: dr.blob})))
      const r = await verifyBinary(path, path, {}, resolveVerifyOptions(suite.opts))
      assert.deepEqual(r.findings, [])
      assert.equal(r.slices[0]!.report.designatedRequirement, dr.text)
      const der = join(dir, 'der')
      const xml = Buffer.from('<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>x.der</key><true/></dict></plist>')
      await writeFile(der, await buildSignedMachO({arch: 'arm64', codeSize: 16 * 1024}, {identifier: 'der', entitlements: {'x.der': true}, derEntitlements: true, omittedBlobs: [5], unboundSlots: [5], entitlementsXml: xml}))
      const d = await verifyBinary(der, der, {}, resolveVerifyOptions(suite.opts))
      assert.deepEqual(d.slices[0]!.report.entitlements, {'x.der': true}, JSON.stringify(d.findings))
      assert.equal('designatedRequirement' in d.slices[0]!.report, false)
    })

    it('an unsigned slice: signature.missing, not intact, no cdhash; a damaged slice is only malformed; bytes after the signature are reported', async () => {
      const dir = await fresh()
      /** The slice with its LC_CODE_SIGNATURE turned into another load command (LC_DYLIB_CODE_SIGN_DRS): no signature is found. */
      const unsigned = (b: Buffer): Buffer => {
        let at = 32
        for (let i = 0; i < b.readUInt32LE(16); i++) {
          if (b.readUInt32LE(at) === 0x1d) b.writeUInt32LE(0x2b, at)
          at += b.readUInt32LE(at + 4)
        }
        return b
      }
      const thin = join(dir, 'thin')
      await writeFile(thin, unsigned(await buildSignedMachO({arch: 'arm64', codeSize: 16 * 1024}, sign())))
      const r = await verifyBinary(thin, 'shown', {}, resolveVerifyOptions(suite.opts))
      assert.deepEqual(r.findings, [f('signature.missing', 'shown', 'shown [arm64]: the slice is not signed', 'Sign it: codesign --force --options runtime --timestamp --sign "Developer ID Application: … (TEAMID)" <file>.')])
      assert.deepEqual(r.slices.map(x => [x.intact, x.cdhashes, x.report.signer]), [[false, [], 'unsigned']])
      // A universal file of an unsigned and a signed slice: the unsigned one is not compared with the other.
      const a = await buildSignedMachOSlice({arch: 'arm64', codeSize: 16 * 1024}, sign())
      const b = await buildSignedMachOSlice({arch: 'x86_64', codeSize: 16 * 1024}, sign({entitlements: {'com.apple.security.network.client': true}}))
      const half = join(dir, 'half')
      await writeFile(half, buildUniversal([{arch: 'arm64', bytes: unsigned(a.bytes)}, {arch: 'x86_64', ...b}]))
      assert.deepEqual((await verifyBinary(half, 'h', {}, resolveVerifyOptions(suite.opts))).findings.map(x => x.id), ['signature.missing'])
      // A slice that is no Mach-O image: macho.malformed alone.
      const broken = join(dir, 'broken')
      await writeFile(broken, buildUniversal([{arch: 'arm64', bytes: Buffer.alloc(4096)}, {arch: 'x86_64', ...b}]))
      const br = await verifyBinary(broken, 'b', {}, resolveVerifyOptions(suite.opts))
      assert.deepEqual(br.findings.map(x => x.id), ['macho.malformed'])
      assert.deepEqual(br.slices.map(x => x.intact), [false, true])
      // Bytes appended after a thin file's signature.
      const tail = join(dir, 'tail')
      await writeFile(tail, Buffer.concat([await buildSignedMachO({arch: 'arm64', codeSize: 16 * 1024}, sign()), Buffer.alloc(16, 0x41)]))
      assert.deepEqual((await verifyBinary(tail, tail, {}, resolveVerifyOptions(suite.opts))).findings.map(x => x.id), ['binary.trailing-data'])
      // A text file too short for a Mach-O header: its message is the header's problem.
      const text = join(dir, 'text')
      await writeFile(text, 'hi')
      const t = await verifyBinary(text, text, {}, resolveVerifyOptions())
      assert.deepEqual(t.findings.map(x => x.message), [`${text}: file of 2 bytes is too short to be Mach-O`])
    })

    it('a CMS that cannot be decoded: no signer named, and the slice is not intact', async () => {
      const dir = await fresh()
      const path = join(dir, 'badcms')
      await writeFile(path, await buildSignedMachO({arch: 'arm64', codeSize: 16 * 1024}, {identifier: 'bad', teamId: TEAM, flags: FLAG.runtime, cms: async () => Buffer.from([0x30, 0x03, 0x02, 0x01, 0x05])}))
      const r = await verifyBinary(path, path, {}, resolveVerifyOptions(suite.opts))
      assert.deepEqual(r.findings.map(x => x.id), ['cms.malformed'])
      const s0 = r.slices[0]!
      assert.equal(s0.intact, false)
      assert.equal(s0.signerCertificate, undefined)
      assert.equal('signerName' in s0.report, false)
      assert.equal('signerSha256' in s0.report, false)
      assert.equal(s0.report.teamId, TEAM)
    })

    it('verifying files, readable or not, leaves no file descriptor open (/dev/fd: Linux and macOS)', async () => {
      const dir = await fresh()
      const good = join(dir, 'good')
      await writeFile(good, await buildSignedMachO({arch: 'arm64', codeSize: 16 * 1024}, {identifier: 'fd'}))
      const text = join(dir, 'text')
      await writeFile(text, 'no mach-o here at all')
      const open = (): number => readdirSync('/dev/fd').length
      const before = open()
      const dmg = join(dir, 'x.dmg')
      const dmgBytes = Buffer.alloc(2048)
      dmgBytes.write('koly', 2048 - 512, 'latin1')
      await writeFile(dmg, dmgBytes)
      const profile = join(dir, 'x.provisionprofile')
      await writeFile(profile, 'not a profile')
      for (let i = 0; i < 5; i++) {
        for (const p of [good, text]) await verifyBinary(p, p, {}, resolveVerifyOptions(suite.opts))
        for (const p of [good, text, dmg, profile]) await verifyPath(p, suite.opts)
      }
      assert.equal(open(), before)
    })

    it('ad-hoc, unsigned and unreadable files: each reported for what it is', async () => {
      const dir = await fresh()
      const adhoc = join(dir, 'adhoc')
      await writeFile(adhoc, await buildSignedMachO({arch: 'arm64', codeSize: 16 * 1024}, {identifier: 'adhoc-tool'}))
      const r = await verifyBinary(adhoc, adhoc, {}, resolveVerifyOptions(suite.opts))
      assert.deepEqual(r.findings, [])
      assert.deepEqual(r.slices.map(s => [s.report.signer, s.report.flags, s.intact, s.signerCertificate, 'signerName' in s.report, 'teamId' in s.report]), [['adhoc', ['adhoc'], true, undefined, false, false]])
      const missing = join(dir, 'none')
      assert.deepEqual((await verifyBinary(missing, 'shown', {}, resolveVerifyOptions())).findings, [f('input.unreadable', 'shown', 'shown: cannot be read (ENOENT)', 'Check the path and that you may read the file.')])
      const text = join(dir, 'text')
      await writeFile(text, 'hello there, no mach-o')
      const given = await verifyBinary(text, text, {}, resolveVerifyOptions())
      assert.deepEqual(given.findings.map(x => [x.id, x.fix]), [['macho.not-macho', 'Point esdctl at the daemon executable, its .app bundle or a .provisionprofile.']])
      assert.ok(given.findings[0]!.message.startsWith(`${text}: `))
      assert.equal(given.layout, undefined)
    })
  })

  describe('bare executables: the rarer paths through a slice', () => {
    const sign = (over: Record<string, unknown> = {}) => ({identifier: 'com.example.tool', teamId: TEAM, flags: FLAG.runtime, cms: (cds: Buffer[]) => signCodeDirectories({codeDirectories: cds, identity: suite.leaf, signingTime: NOW}), ...over})
    /** The file offset of a thin Mach-O's code signature (LC_CODE_SIGNATURE's dataoff). */
    const signatureOffset = (b: Buffer): number => {
      let at = 32
      for (let i = 0; i < b.readUInt32LE(16); i++) {
        if (b.readUInt32LE(at) === 0x1d) return b.readUInt32LE(at + 8)
        at += b.readUInt32LE(at + 4)
      }
      throw new Error('no LC_CODE_SIGNATURE')
    }

    it('a file that cannot be read reports no slices and no layout', async () => {
      const missing = join(await fresh(), 'none')
      assert.deepEqual(await verifyBinary(missing, 'shown', {}, resolveVerifyOptions()), {findings: [f('input.unreadable', 'shown', 'shown: cannot be read (ENOENT)', 'Check the path and that you may read the file.')], slices: []})
    })

    it('a signature that cannot be read: signature.malformed alone, and a slice reporting no flags, signer or entitlements', async () => {
      const bytes = await buildSignedMachO({arch: 'arm64', codeSize: 16 * 1024}, sign())
      bytes.writeUInt32BE(0x12345678, signatureOffset(bytes))
      const path = join(await fresh(), 'broken-signature')
      await writeFile(path, bytes)
      const r = await verifyBinary(path, 'shown', {}, resolveVerifyOptions(suite.opts))
      // A signature that cannot be read is that finding alone: the slice is not also called unsigned.
      assert.deepEqual(r.findings.map(x => x.id), ['signature.malformed'])
      assert.ok(r.findings[0]!.message.startsWith('shown [arm64]: the code signature cannot be read: '), r.findings[0]!.message)
      assert.deepEqual(r.slices.map(s => [s.report, s.intact, s.cdhashes]), [[{arch: 'arm64', flags: [], signer: 'unsigned', entitlements: {}}, false, []]])
    })

    it('the designated requirement is the one of type designated, whatever else the set holds', async () => {
      const dr = designatedRequirement('com.example.tool', {kind: 'developer-id', teamId: TEAM})
      const host = designatedRequirement('com.example.host', {kind: 'other', commonName: 'Host'})
      // Requirement sets hold blobs after a 20-byte header with one index entry; join the two as host (1), designated (3).
      const hostReq = host.blob.subarray(20)
      const drReq = dr.blob.subarray(20)
      const u32 = (n: number): Buffer => {
        const b = Buffer.alloc(4)
        b.writeUInt32BE(n)
        return b
      }
      const set = Buffer.concat([u32(0xfade0c01), u32(28 + hostReq.length + drReq.length), u32(2), u32(1), u32(28), u32(3), u32(28 + hostReq.length), hostReq, drReq])
      const path = join(await fresh(), 'two-requirements')
      await writeFile(path, await buildSignedMachO({arch: 'arm64', codeSize: 16 * 1024}, sign({requirementsBlob: set})))
      const r = await verifyBinary(path, path, {}, resolveVerifyOptions(suite.opts))
      assert.deepEqual(r.findings, [])
      assert.equal(r.slices[0]!.report.designatedRequirement, dr.text)
    })

    it('a slice with warnings only stays intact', async () => {
      const path = join(await fresh(), 'warned')
      await writeFile(path, await buildSignedMachO({arch: 'arm64', codeSize: 16 * 1024}, sign({flags: 0})))
      const r = await verifyBinary(path, path, {}, resolveVerifyOptions(suite.opts))
      assert.ok(r.findings.length > 0 && r.findings.every(x => x.severity !== 'error'), JSON.stringify(r.findings))
      assert.equal(r.slices[0]!.intact, true)
    })

    it('hashing pages with workers keeps the caller\'s trust anchors and clock', async () => {
      const path = join(await fresh(), 'pooled')
      await writeFile(path, await buildSignedMachO({arch: 'arm64', codeSize: 64 * 1024}, sign()))
      try {
        const r = await verifyBinary(path, path, {}, resolveVerifyOptions({...suite.opts, pageHashing: {parallel: 1}}))
        assert.deepEqual(r.findings, [])
        assert.deepEqual(r.slices.map(s => [s.report.signer, s.report.signerSha256, s.intact]), [['developer-id', suite.leaf.info.sha256, true]])
      } finally {
        PageHashPool.releaseShared()
      }
    })
  })

  describe('what kind a path is', () => {
    it('each kind by its bytes or name, and the unknown ones with what to point esdctl at', async () => {
      const dir = await fresh()
      const put = async (name: string, bytes: Buffer | string): Promise<string> => {
        const p = join(dir, name)
        await writeFile(p, bytes)
        return p
      }
      const missing = join(dir, 'nothing')
      assert.deepEqual(await verifyPath(missing), {ok: false, path: missing, kind: 'unknown', slices: [], findings: [f('input.unreadable', missing, `${missing}: cannot be read (ENOENT)`, 'Check the path and that you may read it.')]})
      const text = await put('notes.txt', 'hello, nothing to verify here')
      assert.deepEqual((await verifyPath(text)).findings, [f('input.unknown-kind', text, `${text}: neither a Mach-O executable, an app bundle, a provisioning profile, an installer package (.pkg), a folder, a .zip nor a gzip'd tarball (.tar.gz, .tgz)`, POINT)])
      const java = await put('A.class', Buffer.from([0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52]))
      const jr = await verifyPath(java)
      assert.equal(jr.kind, 'unknown')
      assert.deepEqual(jr.findings, [f('input.unknown-kind', java, `${java}: a Java class file (version 52.0), not Mach-O: it shares the universal-binary magic 0xcafebabe but macOS does not run it as native code`, POINT)])
      // A zip or a gzip'd tarball, each opened as what it is (the fix says how to build one again).
      const zip = await verifyPath(await put('a.zip', Buffer.from('PK\x03\x04rest of a zip', 'latin1')))
      assert.deepEqual([zip.kind, zip.items, zip.findings.map(x => x.id)], ['archive', [], ['archive.malformed']])
      assert.match(zip.findings[0]!.fix!, /ditto -c -k/)
      const tgz = await verifyPath(await put('a.tgz', Buffer.from([0x1f, 0x8b, 8, 0])))
      assert.deepEqual([tgz.kind, tgz.items, tgz.findings.map(x => x.id)], ['archive', [], ['archive.malformed']])
      assert.match(tgz.findings[0]!.fix!, /tar -czf/)
      // Too short for their magic: not taken for archives.
      for (const [name, bytes] of [['short.zip', Buffer.from('PK\x03', 'latin1')], ['short.gz', Buffer.from([0x1f])], ['half.gz', Buffer.from([0x1f, 0x00, 1, 2])], ['pk.zip', Buffer.from('PK\x03\x05', 'latin1')]] as const) {
        assert.equal((await verifyPath(await put(name, bytes))).kind, 'unknown', name)
      }
      // A tarball's code is verified item by item.
      await mkdir(join(dir, 'tree', 'bin'), {recursive: true})
      await writeFile(join(dir, 'tree', 'bin', 'tool'), await buildSignedMachO({arch: 'arm64', codeSize: 16 * 1024}, {identifier: 'adhoc-tool'}))
      await tar.c({gzip: true, file: join(dir, 'tool.tgz'), cwd: join(dir, 'tree')}, ['bin'])
      const packed = await verifyPath(join(dir, 'tool.tgz'))
      assert.deepEqual([packed.kind, packed.ok, packed.findings, packed.items?.map(i => [i.path, i.kind, i.slices.map(x => x.identifier)])], ['archive', true, [], [['bin/tool', 'macho', ['adhoc-tool']]]])
      // A xar that is no package: package.malformed, and no package or ticket reported.
      const xar = await verifyPath(await put('bad.pkg', Buffer.from('xar!\x00\x1c\x00\x01garbagegarbagegarbage', 'latin1')))
      assert.deepEqual([xar.kind, xar.items, xar.findings.map(x => x.id), 'package' in xar, 'notarization' in xar], ['package', [], ['package.malformed'], false, false])
      const empty = await put('empty', '')
      assert.equal((await verifyPath(empty)).kind, 'unknown')
      // DER (0x30…) or the name makes a profile; a bad one is profile.malformed.
      for (const p of [await put('der', Buffer.from([0x30, 0x03, 1, 2, 3])), await put('x.provisionprofile', 'text')]) {
        const pr = await verifyPath(p)
        assert.equal(pr.kind, 'profile', p)
        assert.deepEqual(pr.findings.map(x => [x.id, x.fix]), [['profile.malformed', 'Download the profile again from the Apple Developer portal.']])
        assert.ok(pr.findings[0]!.message.startsWith(`${p}: not a readable provisioning profile (`), pr.findings[0]!.message)
      }
      const big = await put('big.provisionprofile', Buffer.alloc(1024 * 1024 + 1, 0x30))
      assert.deepEqual((await verifyPath(big)).findings, [f('profile.malformed', big, `${big}: ${1024 * 1024 + 1} bytes is far larger than any provisioning profile`, 'Point esdctl at the .provisionprofile downloaded from the Apple Developer portal.')])
      const limit = await put('limit.provisionprofile', Buffer.alloc(1024 * 1024, 0x30))
      assert.ok((await verifyPath(limit)).findings[0]!.message.includes('not a readable provisioning profile'))
      // A disk image by its koly trailer.
      const dmgBytes = Buffer.alloc(2048)
      dmgBytes.write('koly', 2048 - 512, 'latin1')
      const dmg = await put('x.dmg', dmgBytes)
      assert.deepEqual((await verifyPath(dmg)).findings, [f('input.unknown-kind', dmg, `${dmg}: a disk image (.dmg), which esdctl does not open`, `esdctl does not read disk images: mount it (hdiutil attach ${dmg}) and point esdctl at the .app or .pkg on the mounted volume.`)])
      const tiny = await put('tiny.dmg', Buffer.from('koly'.padEnd(511, '\0'), 'latin1'))
      assert.ok((await verifyPath(tiny)).findings[0]!.message.endsWith('(.tar.gz, .tgz)'))
      const exact = Buffer.alloc(512)
      exact.write('koly', 0, 'latin1')
      assert.ok((await verifyPath(await put('exact.dmg', exact))).findings[0]!.message.includes('a disk image'))
      // Large enough to carry a trailer, without one: not called a disk image.
      const plain = await put('notes.bin', Buffer.alloc(2048, 0x41))
      assert.deepEqual((await verifyPath(plain)).findings, [f('input.unknown-kind', plain, `${plain}: neither a Mach-O executable, an app bundle, a provisioning profile, an installer package (.pkg), a folder, a .zip nor a gzip'd tarball (.tar.gz, .tgz)`, POINT)])
      const fifo = join(dir, 'pipe')
      execFileSync('mkfifo', [fifo])
      assert.deepEqual((await verifyPath(fifo)).findings, [f('input.unknown-kind', fifo, `${fifo}: a named pipe, not a file esdctl can verify; esdctl does not read from it`, POINT)])
    })

    it('a real flat package: kind package, with what it installs, its stapled ticket and its code items', async function () {
      const pkg = join(REAL_PACKAGES_DIR, 'Karabiner-DriverKit-VirtualHIDDevice-6.10.0.pkg')
      if (!existsSync(pkg)) skipBecause(this, 'fixtures-absent')
      const r = await verifyPath(pkg, {now: NOW})
      assert.equal(r.kind, 'package')
      assert.equal(r.ok, true)
      assert.deepEqual(r.findings, [])
      assert.equal(r.package?.teamId, 'G43BCU2T37')
      assert.equal(r.notarization?.stapled, true)
      assert.equal(r.notarization?.verified, true)
      assert.equal(r.items?.length, 2)
    })

    it('a bundle\'s Contents folder is its bundle; any other folder is a folder of items', async () => {
      const {app, contents} = await handBundle(info(), {'MacOS/esd': 'x'})
      const r = await verifyPath(contents)
      assert.equal(r.kind, 'bundle')
      assert.deepEqual(r.findings.map(x => x.path), (await verifyPath(app)).findings.map(x => x.path))
      // Only a folder named Contents stands for its bundle: another one inside the bundle is a folder.
      await mkdir(join(app, 'Sidecar'))
      assert.equal((await verifyPath(join(app, 'Sidecar'))).kind, 'folder')
      // A Contents that is a link is no deep bundle's part (bundles are read without following links):
      // it is judged as what it holds.
      const shallow = join(await fresh(), 'x.dext')
      await mkdir(shallow)
      await writeFile(join(shallow, 'Info.plist'), info({CFBundleExecutable: '..'}))
      const held = join(shallow, '..', 'held')
      await mkdir(held)
      await writeFile(join(held, 'Info.plist'), info({CFBundleExecutable: '.'}))
      await symlink(held, join(shallow, 'Contents'))
      const linked = await verifyPath(join(shallow, 'Contents'))
      assert.equal(linked.kind, 'bundle')
      assert.deepEqual(linked.findings.map(x => [x.id, x.path]), [['bundle.bad-executable-name', join(shallow, 'Contents', 'Info.plist')]])
      const loose = join(await fresh(), 'loose')
      await mkdir(loose)
      await symlink(held, join(loose, 'Contents'))
      await writeFile(join(held, 'Info.plist'), 'not a plist')
      assert.deepEqual((await verifyPath(join(loose, 'Contents'))).findings.map(x => [x.id, x.path]), [['bundle.info-plist-malformed', join(loose, 'Contents', 'Info.plist')]])
      await rm(join(held, 'Info.plist'))
      assert.equal((await verifyPath(join(loose, 'Contents'))).kind, 'folder')
      const plain = join(await fresh(), 'stuff')
      await mkdir(plain)
      const pr = await verifyPath(plain)
      assert.equal(pr.kind, 'folder')
      assert.deepEqual(pr.findings, [f('input.unknown-kind', plain, `${plain}: a folder with no app-like bundle (no Contents/), no Mach-O file, no .pkg and no .provisionprofile in it`, 'Point esdctl at <name>.app, a Mach-O executable, a .provisionprofile, a .pkg, or a folder that holds them.')])
      assert.deepEqual(pr.items, [])
    })
  })

  describe('what kind a path is: the rarer inputs', () => {
    it('a socket is not opened but named; a device too; the kind of each is unknown', async () => {
      const dir = await fresh()
      const socket = join(dir, 'sock')
      const server = createServer()
      await new Promise<void>(done => server.listen(socket, done))
      try {
        assert.deepEqual(await verifyPath(socket), {ok: false, path: socket, kind: 'unknown', slices: [], findings: [f('input.unknown-kind', socket, `${socket}: a socket, not a file esdctl can verify; esdctl does not read from it`, POINT)]})
      } finally {
        await new Promise(done => server.close(done))
      }
      assert.deepEqual((await verifyPath('/dev/null')).findings.map(x => x.message), ['/dev/null: a device, not a file esdctl can verify; esdctl does not read from it'])
      const fifo = join(dir, 'pipe')
      execFileSync('mkfifo', [fifo])
      assert.equal((await verifyPath(fifo)).kind, 'unknown')
    })

    it('a disk image is of unknown kind; gzip needs both magic bytes, two are enough, and a zip\'s four', async () => {
      const dir = await fresh()
      const dmgBytes = Buffer.alloc(2048)
      dmgBytes.write('koly', 2048 - 512, 'latin1')
      await writeFile(join(dir, 'x.dmg'), dmgBytes)
      const dmg = await verifyPath(join(dir, 'x.dmg'))
      assert.deepEqual([dmg.kind, dmg.findings.map(x => x.id)], ['unknown', ['input.unknown-kind']])
      for (const [name, bytes, kind] of [['second.gz', [0x00, 0x8b, 1, 2], 'unknown'], ['first.gz', [0x1f, 0x00], 'unknown'], ['two.gz', [0x1f, 0x8b], 'archive'], ['four.zip', [0x50, 0x4b, 0x03, 0x04], 'archive']] as const) {
        await writeFile(join(dir, name), Buffer.from(bytes))
        assert.equal((await verifyPath(join(dir, name))).kind, kind, name)
      }
    })

    it('a zip is opened as a zip: its code is verified item by item', async () => {
      const dir = await fresh()
      const zip = new yazl.ZipFile()
      zip.addBuffer(await buildSignedMachO({arch: 'arm64', codeSize: 16 * 1024}, {identifier: 'zipped-tool'}), 'bin/tool', {mode: 0o100755})
      zip.end()
      const out = join(dir, 'tool.zip')
      await new Promise<void>((done, fail) => zip.outputStream.pipe(createWriteStream(out)).on('close', done).on('error', fail))
      const r = await verifyPath(out)
      assert.deepEqual([r.kind, r.ok, r.findings, r.items?.map(i => [i.path, i.kind, i.slices.map(x => x.identifier)])], ['archive', true, [], [['bin/tool', 'macho', ['zipped-tool']]]])
    })

    it('a file it may see but not open (an unprivileged user, mode 000): input.unreadable, the code named; in a folder, not judged', async function () {
      if (process.geteuid?.() !== 0) return skipBecause(this, 'needs-root')
      const dir = await fresh()
      for (let d = dir; d !== suite.work && d.length > suite.work.length; d = join(d, '..')) await chmod(d, 0o755)
      await chmod(suite.work, 0o755)
      const locked = join(dir, 'locked')
      await writeFile(locked, 'secret')
      await chmod(locked, 0o000)
      const lockedPkg = join(dir, 'locked.pkg')
      await writeFile(lockedPkg, 'xar!')
      await chmod(lockedPkg, 0o000)
      const module = new URL('../../src/verify/verify-path.js', import.meta.url).href
      const script = `const {verifyPath} = await import(${JSON.stringify(module)}); process.stdout.write(JSON.stringify([await verifyPath(${JSON.stringify(locked)}), await verifyPath(${JSON.stringify(dir)})]))`
      // Whether a child may run as nobody at all is asked apart: an EACCES of verifyPath's own must fail the test, not skip it.
      const probe = await execa(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(module)})`], {uid: NOBODY, gid: NOBODY, reject: false, cwd: '/'})
      if (probe.exitCode !== 0) return skipBecause(this, 'uid-switch-refused')
      const run = await execa(process.execPath, ['--input-type=module', '-e', script], {uid: NOBODY, gid: NOBODY, reject: false, cwd: '/'})
      assert.equal(run.exitCode, 0, run.stderr)
      const [file, folder] = JSON.parse(run.stdout) as VerifyReport[]
      assert.deepEqual(file, {ok: false, path: locked, kind: 'unknown', slices: [], findings: [f('input.unreadable', locked, `${locked}: cannot be read (EACCES)`, 'Check the path and that you may read it.')]})
      // In a folder, a file that cannot be read could be code: named, never silently left out (and the folder is then not called empty).
      assert.deepEqual([folder!.kind, folder!.ok, folder!.items], ['folder', false, []])
      assert.deepEqual(folder!.findings.sort((a, b) => a.path.localeCompare(b.path)), [locked, lockedPkg].map(p => f('input.unreadable', p, `${p}: cannot be read (EACCES), so esdctl cannot tell whether it is code`, 'Check the path and that you may read it.')))
    })
  })

  describe('a folder of items', () => {
    it('each outermost bundle once, each Mach-O file, .pkg and profile below it; links not followed; unknown items flagged', async () => {
      const root = await fresh()
      await bundle({dir: join(root, 'apps'), profile: 'none', entitlements: {}})
      await mkdir(join(root, 'bin'))
      const tool = join(root, 'bin', 'tool')
      await writeFile(tool, await buildSignedMachO({arch: 'arm64', codeSize: 16 * 1024}, {identifier: 'adhoc-tool'}))
      await writeFile(join(root, 'bin', 'small'), Buffer.from([0xcf, 0xfa, 0xed]))
      await writeFile(join(root, 'bin', 'magic'), Buffer.from([0xcf, 0xfa, 0xed, 0xfe]))
      await writeFile(join(root, 'bin', 'fake.PKG'), 'not a xar')
      await writeFile(join(root, 'bin', 'meta.mpkg'), 'not a xar')
      await writeFile(join(root, 'bin', 'p.provisionprofile'), 'not a profile')
      const profile = await signProfile(buildProfilePlist({teamId: TEAM, appId: `${TEAM}.${BUNDLE_ID}`, kind: 'developer-id', expires: new Date('2027-11-26T12:00:00Z'), developerCertificates: [suite.leaf.certDer]}), suite.pki.profileSigner)
      await writeFile(join(root, 'bin', 'good.PROVISIONPROFILE'), profile)
      // Names that only look like packages, profiles or bundles.
      for (const name of ['notes.pkg.txt', 'xpkg', 'p.provisionprofile.bak', 'xprovisionprofile', 'lone.app']) await writeFile(join(root, 'bin', name), 'text')
      await writeFile(join(root, 'readme.txt'), 'text')
      await symlink(tool, join(root, 'bin', 'link'))
      await mkdir(join(root, 'bundle-style.pkg'))
      // A folder or a link named like a profile is not a profile.
      await mkdir(join(root, 'bin', 'folder.provisionprofile'))
      await symlink(join(root, 'bin', 'good.PROVISIONPROFILE'), join(root, 'bin', 'link.provisionprofile'))
      const r = await verifyPath(root, suite.opts)
      assert.equal(r.kind, 'folder')
      assert.deepEqual(r.items!.map(i => [i.path, i.kind, i.slices.length, i.findings.map(x => x.id), 'profile' in i, 'notarization' in i]), [
        ['apps/esd.app', 'bundle', 1, [], false, true],
        ['bin/fake.PKG', 'package', 0, ['input.item-unchecked'], false, false],
        ['bin/good.PROVISIONPROFILE', 'profile', 0, [], true, false],
        ['bin/magic', 'macho', 0, ['macho.not-macho'], false, false],
        ['bin/meta.mpkg', 'package', 0, ['input.item-unchecked'], false, false],
        ['bin/p.provisionprofile', 'profile', 0, ['profile.malformed'], false, false],
        ['bin/tool', 'macho', 1, [], false, false],
      ])
      const unchecked = r.findings.find(x => x.id === 'input.item-unchecked')!
      const fake = join(root, 'bin', 'fake.PKG')
      assert.equal(unchecked.path, fake)
      assert.equal(unchecked.message, `${fake}: esdctl cannot verify this kind of item yet (${(await verifyPath(fake)).findings.map(x => x.message).join('; ')})`)
      assert.equal(unchecked.fix, 'Check it on a Mac: codesign --verify --deep --strict <path>.')
      assert.equal(unchecked.severity, 'warning')
      assert.deepEqual(r.findings.map(x => x.id).sort(), ['input.item-unchecked', 'input.item-unchecked', 'macho.not-macho', 'profile.malformed'])
      assert.equal(r.ok, false)
    })

    it('a package below a folder: its contained code\'s slices, what kinds it contains, and its ticket', async function () {
      const pkg = join(REAL_PACKAGES_DIR, 'Karabiner-DriverKit-VirtualHIDDevice-6.10.0.pkg')
      if (!existsSync(pkg)) return skipBecause(this, 'fixtures-absent')
      const root = await fresh()
      await copyFile(pkg, join(root, 'driver.pkg'))
      const alone = await verifyPath(pkg, {now: NOW})
      const r = await verifyPath(root, {now: NOW})
      assert.equal(r.items!.length, 1)
      const item = r.items![0]!
      assert.deepEqual([item.path, item.kind, item.findings], ['driver.pkg', 'package', []])
      assert.deepEqual(item.slices, alone.items!.flatMap(i => i.slices))
      assert.ok(item.slices.length > 0)
      assert.deepEqual(item.contains, [...new Set(alone.items!.map(i => i.kind))])
      assert.deepEqual(item.notarization, alone.notarization)
      assert.equal('profile' in item, false)
    })

    it('what the folder report takes from each item: unchecked kinds with every reason, an unread item keeps its own error, the code kinds a package contains', async () => {
      const root = await fresh()
      await writeFile(join(root, 'a.pkg'), 'xar!')
      await writeFile(join(root, 'b.pkg'), 'xar!')
      const item = (path: string, kind: 'bundle' | 'macho' | 'profile') => ({path, kind, slices: [], findings: []})
      await writeFile(join(root, 'c.pkg'), 'xar!')
      const c = join(root, 'c.pkg')
      const unread = f('input.unreadable', c, `${c}: cannot be read (EACCES)`, 'Check the path and that you may read it.')
      const r = await verifyFolder(root, async (path): Promise<VerifyReport> => path.endsWith('a.pkg')
        ? {ok: false, path, kind: 'unknown', slices: [], findings: [f('input.unknown-kind', path, 'first reason'), f('input.unknown-kind', path, 'second reason')]}
        : path.endsWith('c.pkg')
          ? {ok: false, path, kind: 'unknown', slices: [], findings: [unread]}
          : {ok: true, path, kind: 'package', slices: [], findings: [], items: [item('x.app', 'bundle'), item('tool', 'macho'), item('y.app', 'bundle'), item('p.provisionprofile', 'profile')]})
      const a = join(root, 'a.pkg')
      assert.deepEqual(r.findings.map(x => [x.id, x.message]), [['input.item-unchecked', `${a}: esdctl cannot verify this kind of item yet (first reason; second reason)`], ['input.unreadable', unread.message]])
      assert.deepEqual(r.items.map(i => [i.path, i.contains, i.slices, i.findings.map(x => x.id)]), [['a.pkg', undefined, [], ['input.item-unchecked']], ['b.pkg', ['bundle', 'macho'], [], []], ['c.pkg', undefined, [], ['input.unreadable']]])
    })

    it('a verified item with an unreadable part keeps all its findings; a folder of clean items has no finding at all', async () => {
      const root = await fresh()
      await writeFile(join(root, 'd.pkg'), 'xar!')
      const d = join(root, 'd.pkg')
      const slice = {arch: 'arm64', flags: [], signer: 'developer-id' as const, entitlements: {}}
      const partly = [f('input.unreadable', `${d}:x`, 'cannot be read (EACCES)'), f('seal.modified', `${d}:y`, 'modified')]
      const r = await verifyFolder(root, async (path): Promise<VerifyReport> => ({ok: false, path, kind: 'package', slices: [slice], findings: partly}))
      assert.deepEqual(r.items.map(i => [i.slices.length, i.findings.map(x => x.id)]), [[1, ['input.unreadable', 'seal.modified']]])
      const clean = await verifyFolder(root, async (path): Promise<VerifyReport> => ({ok: true, path, kind: 'package', slices: [slice], findings: []}))
      assert.deepEqual([clean.findings, clean.items.length], [[], 1])
    })

    it('a read refusal is an fs error naming its system call, neither absent nor a kind of file', () => {
      const fsError = (code: string, syscall?: string) => Object.assign(new Error(code), {code, ...(syscall ? {syscall} : {})})
      assert.equal(isReadRefusal(fsError('EACCES', 'open')), true)
      assert.equal(isReadRefusal(fsError('EIO', 'read')), true)
      for (const absent of [fsError('ENOENT', 'open'), fsError('ENOTDIR', 'open')]) assert.equal(isReadRefusal(absent), false, absent.message)
      assert.equal(isReadRefusal(fsError('EACCES')), false)
      assert.equal(isReadRefusal({code: 'EACCES', syscall: 'open'}), false)
      assert.equal(isReadRefusal(new NotRegularFileError('/p', 'a named pipe')), false)
      assert.equal(isReadRefusal(undefined), false)
    })

    it('a folder nested too deep to walk: input.unreadable naming it', async () => {
      const root = await fresh()
      await mkdir(join(root, ...Array.from({length: 70}, (_, i) => `d${i}`)), {recursive: true})
      const r = await verifyPath(root)
      assert.equal(r.kind, 'folder')
      assert.deepEqual(r.items, [])
      assert.deepEqual(r.findings.map(x => [x.id, x.path, x.fix]), [['input.unreadable', root, 'Check the path and that you may read it.']])
      assert.match(r.findings[0]!.message, new RegExp(`^${root}: the folder cannot be walked \\(.*nested more than 64 levels deep\\)$`))
    })
  })

  describe('findings and words', () => {
    it('a finding takes severity and default fix from the catalogue; a given fix or field wins; errors decide', () => {
      assert.deepEqual(finding('seal.absent', '/p', 'm'), {id: 'seal.absent', severity: 'error', path: '/p', message: 'm', fix: FINDING_CATALOGUE['seal.absent'].fix})
      assert.deepEqual(finding('seal.absent', '/p', 'm', 'do this', 'Key'), {id: 'seal.absent', severity: 'error', path: '/p', message: 'm', fix: 'do this', field: 'Key'})
      const noFix = Object.entries(FINDING_CATALOGUE).find(([, d]) => !('fix' in d))
      if (noFix) assert.equal('fix' in finding(noFix[0] as keyof typeof FINDING_CATALOGUE, '/p', 'm'), false)
      assert.equal('field' in finding('seal.absent', '/p', 'm'), false)
      const warning = finding('input.item-unchecked', '/p', 'm')
      assert.equal(warning.severity, 'warning')
      assert.equal(hasErrors([warning]), false)
      assert.equal(hasErrors([warning, finding('seal.absent', '/p', 'm')]), true)
      assert.equal(hasErrors([]), false)
    })

    it('a message names its path once', () => {
      assert.equal(namingPath('/a/b', '/a/b: broken'), '/a/b: broken')
      assert.equal(namingPath('/a/b', '/a/b is a directory'), '/a/b is a directory')
      assert.equal(namingPath('/a/b', 'broken'), '/a/b: broken')
      assert.equal(namingPath('/a/b', '/a/bc: broken'), '/a/b: /a/bc: broken')
      assert.equal(namingPath('/a/b', '/a/bc broken'), '/a/b: /a/bc broken')
    })

    it('a or an by the first letter', () => {
      assert.equal(withArticle('ad-hoc'), 'an ad-hoc')
      assert.equal(withArticle('Enterprise'), 'an Enterprise')
      assert.equal(withArticle('unknown'), 'an unknown')
      assert.equal(withArticle('app-store'), 'an app-store')
      assert.equal(withArticle('development'), 'a development')
      assert.equal(withArticle('x-ray'), 'a x-ray')
    })

    it('options default to Apple\'s roots, now and automatic page hashing; given ones are kept', () => {
      const before = Date.now()
      const d = resolveVerifyOptions()
      assert.ok(d.now.getTime() >= before && d.now.getTime() <= Date.now())
      assert.deepEqual(d.pageHashing, {parallel: 'auto'})
      assert.ok(d.trust.anchors.length > 0)
      const given = resolveVerifyOptions({now: NOW, pageHashing: {parallel: 'off'}, trust: suite.pki.trust})
      assert.equal(given.now, NOW)
      assert.deepEqual(given.pageHashing, {parallel: 'off'})
      assert.equal(given.trust, suite.pki.trust)
    })
  })

})

