// Fast tests of the nested-code looker of verify-bundle.ts (issue 14): what each nested item's
// entry in the report says, and what the parent's seal judges nested code by (its identity: the
// cdhashes, whether every slice is intact and signed, whether Apple signed it). Each asserts whole
// entries and whole findings, so changing a condition or a value there fails one of them.
import {strict as assert} from 'node:assert'
import {chmod, mkdir, rm, writeFile} from 'node:fs/promises'
import {execa} from 'execa'
import * as plist from 'plist'
import {join} from 'node:path'
import {finding, type Finding} from '../../src/verify/finding.js'
import type {VerifyReport} from '../../src/verify/report.js'
import {verifyPath} from '../../src/verify/verify-path.js'
import {buildBundle, type BundleSpec} from '../support/bundle-builder.js'
import {buildCodeResources} from '../support/code-resources-writer.js'
import {buildSignedMachO, buildSignedMachOSlice, buildUniversal} from '../support/macho-writer.js'
import {cdhashOf, FLAG} from '../support/signature-writer.js'
import {signCodeDirectories, type TestIdentity} from '../support/test-pki.js'
import {signingKitSuite} from '../support/signing-kit-suite.js'
import {skipBecause} from '../support/skip.js'

const TEAM = 'ESDTEST001'
const BUNDLE_ID = 'com.example.esd'
const NOW = new Date('2026-11-26T12:00:00Z')
const CODE_SIZE = 16 * 1024
const NOBODY = 65534

/** The findings whose path is `path`, in report order. */
const about = (r: VerifyReport, path: string): Finding[] => r.findings.filter(x => x.path === path)
/** The cdhash the parent's seal recorded for `path`, as its seal.nested-modified finding names it. */
const sealedCdhash = (r: VerifyReport, path: string): string => /sealed with cdhash ([0-9a-f]{40})/.exec(r.findings.find(x => x.id === 'seal.nested-modified' && x.path === path)?.message ?? '')?.[1] ?? 'none'

describe('verify: the nested-code looker (what a parent judges nested code by, and its report)', function () {
  this.timeout(60_000)
  const suite = signingKitSuite(TEAM, NOW, 'esdctl-vbm-')
  let n = 0
  const bundle = (spec: Partial<BundleSpec> = {}): Promise<string> =>
    buildBundle({dir: join(suite.work, `b${n++}`), name: 'esd', bundleId: BUNDLE_ID, teamId: TEAM, codeSize: CODE_SIZE, identity: suite.leaf, signedAt: NOW, profile: 'none', entitlements: {}, ...spec})
  const contents = (app: string, rel: string) => join(app, 'Contents', rel)

  /**
   * A bundle built by hand around nested executables signed in ways the bundle builder does not
   * sign them (ad-hoc, by another identity, mixed slices): each is sealed by the cdhash of its first
   * slice and the requirement given, so the parent's seal goes on to judge the requirement.
   */
  async function bundleSealing(items: {name: string; slices: Buffer[]; cdhash: Buffer; requirement: string}[]): Promise<string> {
    const app = join(suite.work, `h${n++}`, 'esd.app')
    const infoPlist = Buffer.from(plist.build({CFBundleExecutable: 'esd', CFBundleIdentifier: BUNDLE_ID, CFBundleShortVersionString: '1.0', CFBundleVersion: '1'}))
    await mkdir(contents(app, 'MacOS'), {recursive: true})
    await mkdir(contents(app, '_CodeSignature'))
    await writeFile(contents(app, 'Info.plist'), infoPlist)
    for (const item of items) await writeFile(contents(app, `MacOS/${item.name}`), item.slices.length === 1 ? item.slices[0]! : buildUniversal(item.slices.map((bytes, i) => ({arch: i === 0 ? 'arm64' : 'x86_64', bytes}))), {mode: 0o755})
    const codeResources = buildCodeResources(items.map(i => ({path: `MacOS/${i.name}`, nested: {cdhash: i.cdhash, requirement: i.requirement}})))
    await writeFile(contents(app, '_CodeSignature/CodeResources'), codeResources)
    await writeFile(contents(app, 'MacOS/esd'), await buildSignedMachO({arch: 'arm64', codeSize: CODE_SIZE}, {identifier: BUNDLE_ID, teamId: TEAM, flags: FLAG.runtime, infoPlist, codeResources, cms: sign(suite.leaf)}), {mode: 0o755})
    return app
  }
  const sign = (identity: TestIdentity) => (codeDirectories: Buffer[]) => signCodeDirectories({codeDirectories, identity, signingTime: NOW})
  /** One slice of `arch` signed as `identifier` (by `identity` for `team`, or ad-hoc without one), and the cdhash a seal records for it. */
  async function slice(arch: 'arm64' | 'x86_64', identifier: string, identity?: TestIdentity, team: string | null = TEAM): Promise<{bytes: Buffer; cdhash: Buffer}> {
    const built = await buildSignedMachOSlice({arch, codeSize: CODE_SIZE}, {identifier, ...(identity ? {...(team ? {teamId: team} : {}), flags: FLAG.runtime, cms: sign(identity)} : {})})
    return {bytes: built.bytes, cdhash: cdhashOf(built.codeDirectories.at(-1)!)}
  }
  const unmet = (path: string, clauses: string[], requirement: string, signedAs: string): Finding =>
    finding('seal.nested-requirement-unmet', path, `${path} does not satisfy the requirement its parent sealed for it (${clauses.join('; ')}): sealed "${requirement}", signed as ${signedAs}`)

  it('nested items\' entries: a bundle with no nested code has no nested key, a script no findings of its own, a damaged Mach-O judged as code in a bundle, ad-hoc code no team', async () => {
    const app = await bundle({nestedBundles: ['Frameworks/Kit.framework'], xattrSignedFiles: {'Resources/run.sh': Buffer.from('#!/bin/sh\n')}, extraExecutables: [{name: 'tool'}, {name: 'adhoc'}, {name: 'blank'}]})
    await writeFile(contents(app, 'MacOS/tool'), Buffer.from([0xcf, 0xfa, 0xed, 0xfe, 0, 0, 0, 0]))
    const adhoc = await slice('arm64', 'adhoc')
    await writeFile(contents(app, 'MacOS/adhoc'), adhoc.bytes)
    // A slice whose signature was wiped: no identifier, team or cdhash to show.
    await writeFile(contents(app, 'MacOS/blank'), Buffer.concat([adhoc.bytes.subarray(0, CODE_SIZE), Buffer.alloc(adhoc.bytes.length - CODE_SIZE)]))
    const r = await verifyPath(app, suite.opts)
    const kit = r.nested![0]!
    assert.match(kit.cdhash ?? '', /^[0-9a-f]{40}$/)
    assert.deepEqual(r.nested, [
      {path: 'Frameworks/Kit.framework', kind: 'bundle', signer: 'developer-id', identifier: `${BUNDLE_ID}.Kit`, teamId: TEAM, cdhash: kit.cdhash, ok: true},
      {path: 'MacOS/adhoc', kind: 'macho', signer: 'adhoc', identifier: 'adhoc', cdhash: adhoc.cdhash.toString('hex'), ok: false},
      {path: 'MacOS/blank', kind: 'macho', signer: 'unsigned', ok: false},
      {path: 'MacOS/tool', kind: 'macho', ok: false},
      {path: 'Resources/run.sh', kind: 'xattr-signed', ok: true},
    ])
    const tool = contents(app, 'MacOS/tool')
    const script = contents(app, 'Resources/run.sh')
    assert.deepEqual(about(r, tool), [
      finding('seal.nested-modified', tool, `${tool} is nested code sealed with cdhash ${sealedCdhash(r, tool)} but its signature now has no readable cdhash`),
      finding('macho.not-macho', tool, `${tool}: thin Mach-O of 8 bytes ends inside its header`, 'The file is damaged or truncated, not a Mach-O executable: build it again, put it back in the bundle and sign the bundle again.'),
    ])
    assert.deepEqual(about(r, script).map(x => x.id), ['seal.nested-code-in-xattrs'])
    // Nothing but findings: a made-up entry among a script's own findings would show here.
    assert.ok(r.findings.every(x => typeof x === 'object' && typeof x.id === 'string'), JSON.stringify(r.findings))
  })

  it('a nested bundle with no Info.plist has no code: the seal finds no readable cdhash, and its entry names nothing', async () => {
    const app = await bundle({nestedBundles: ['Helpers/Gone.app']})
    await rm(contents(app, 'Helpers/Gone.app/Contents/Info.plist'))
    const r = await verifyPath(app, suite.opts)
    const gone = contents(app, 'Helpers/Gone.app')
    const info = join(gone, 'Contents/Info.plist')
    assert.deepEqual(r.nested, [{path: 'Helpers/Gone.app', kind: 'bundle', ok: false}])
    assert.deepEqual(r.findings, [
      finding('seal.nested-modified', gone, `${gone} is nested code sealed with cdhash ${sealedCdhash(r, gone)} but its signature now has no readable cdhash`),
      finding('bundle.info-plist-missing', info, `${info} is missing; without it macOS cannot tell which executable the bundle runs`, 'Give the bundle a Contents/Info.plist with CFBundleExecutable, CFBundleIdentifier, CFBundleShortVersionString and CFBundleVersion (esdctl bundle writes one).'),
    ])
  })

  it('anchor apple: met by code Apple signed, unmet by Developer ID code', async () => {
    const apple = await suite.pki.appleSoftwareSigning()
    // Apple's own code names no team in its CodeDirectory.
    const byApple = await slice('arm64', 'com.apple.tool', apple, null)
    const byDeveloper = await slice('arm64', 'devtool', suite.leaf)
    const app = await bundleSealing([
      {name: 'appletool', slices: [byApple.bytes], cdhash: byApple.cdhash, requirement: 'anchor apple'},
      {name: 'devtool', slices: [byDeveloper.bytes], cdhash: byDeveloper.cdhash, requirement: 'anchor apple'},
    ])
    const r = await verifyPath(app, suite.opts)
    const dev = contents(app, 'MacOS/devtool')
    assert.deepEqual(r.findings.filter(x => x.id.startsWith('seal.')), [unmet(dev, ['anchor apple'], 'anchor apple', `devtool by team ${TEAM}`)])
    assert.deepEqual(r.nested?.map(x => [x.path, x.signer, x.ok]), [['MacOS/appletool', 'apple', true], ['MacOS/devtool', 'developer-id', false]])
  })

  it('anchor apple generic: code is trusted only when every slice is intact and signed by a certificate (ad-hoc is not)', async () => {
    const adhoc = await slice('arm64', 'adhoc')
    const first = await slice('arm64', 'mixed', suite.leaf)
    const second = await slice('x86_64', 'mixed')
    const requirement = 'identifier "REQ" and anchor apple generic'
    const app = await bundleSealing([
      {name: 'adhoc', slices: [adhoc.bytes], cdhash: adhoc.cdhash, requirement: requirement.replace('REQ', 'adhoc')},
      {name: 'mixed', slices: [first.bytes, second.bytes], cdhash: first.cdhash, requirement: requirement.replace('REQ', 'mixed')},
      {name: 'signed', slices: [first.bytes], cdhash: first.cdhash, requirement: requirement.replace('REQ', 'mixed')},
    ])
    const r = await verifyPath(app, suite.opts)
    const at = (name: string) => contents(app, `MacOS/${name}`)
    assert.deepEqual(r.findings.filter(x => x.id === 'seal.nested-requirement-unmet'), [
      unmet(at('adhoc'), ['anchor apple generic'], requirement.replace('REQ', 'adhoc'), 'adhoc'),
      unmet(at('mixed'), ['anchor apple generic'], requirement.replace('REQ', 'mixed'), `mixed by team ${TEAM}`),
    ])
  })
  it('nested code esdctl may not read: its own finding, and an entry of Mach-O code that is not ok (run as nobody)', async function () {
    const app = await bundle({xattrSignedFiles: {'Helpers/tool': Buffer.from('#!/bin/sh\n')}})
    const tool = contents(app, 'Helpers/tool')
    await chmod(suite.work, 0o755)
    await chmod(tool, 0o000)
    const module = new URL('../../src/verify/verify-path.js', import.meta.url).href
    // Whether a child may run as nobody at all is asked apart: an EACCES of verifyPath's own must fail the test, not skip it.
    const probe = await execa(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(module)})`], {uid: NOBODY, gid: NOBODY, reject: false, cwd: '/'})
    if (probe.exitCode !== 0) return skipBecause(this, 'uid-switch-refused')
    const script = `const {verifyPath} = await import(${JSON.stringify(module)}); process.stdout.write(JSON.stringify(await verifyPath(${JSON.stringify(app)})))`
    const run = await execa(process.execPath, ['--input-type=module', '-e', script], {uid: NOBODY, gid: NOBODY, reject: false, cwd: '/'})
    assert.equal(run.exitCode, 0, run.stderr)
    const r = JSON.parse(run.stdout) as VerifyReport
    // The refusal, and no signer: what could not be read is never called unsigned.
    assert.deepEqual(r.nested, [{path: 'Helpers/tool', kind: 'macho', unreadable: 'EACCES', ok: false}])
    assert.deepEqual(about(r, tool), [finding('input.unreadable', tool, `${tool}: cannot be read (EACCES), so esdctl cannot judge the bundle; macOS reads it as root`,
      'Run esdctl as a user who may read every file of the bundle (sudo for an installed one), or make its files readable (0644 files, 0755 folders and executables, as installers lay them down).')])
  })
})
