import assert from 'node:assert/strict'
import {cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import * as plist from 'plist'
import {CodesignAdapter} from '../../src/adapters/codesign.js'
import {RootFs} from '../../src/adapters/root-fs.js'
import {PrefixLayout} from '../../src/layout/prefix-layout.js'
import type {LifecycleContext} from '../../src/lifecycle/context.js'
import {bundleExecutableName, judgePayload, type JudgeOptions, type PayloadJudgement} from '../../src/lifecycle/judge-payload.js'
import {layoutOptionsOf, type Manifest} from '../../src/manifest/manifest.js'
import type {Finding} from '../../src/verify/finding.js'
import type {TrustStore} from '../../src/trust/trust-store.js'
import {designatedRequirement} from '../doubles/codesign/requirement.js'
import {buildBundle} from '../support/bundle-builder.js'
import {buildPayload, testContext, testIdentity, TEAM} from '../support/lifecycle-fixture.js'
import {replayTool} from '../support/replay-tool.js'
import {buildSignedMachO} from '../support/macho-writer.js'
import {FLAG} from '../support/signature-writer.js'
import {signCodeDirectories, type TestIdentity} from '../support/test-pki.js'

const NAME = 'thed'
const LABEL = 'com.example.thed.judge'
const BUNDLE_ID = `com.example.${NAME}`
const NO_CODESIGN = "codesign is not available on this platform: the second opinion (codesign --verify --strict --deep) was not asked; only esdctl's own verifier judged the bundle"

/**
 * judgePayload, the decision install, upgrade and rollback act on, called directly on payloads the
 * test PKI signs (a few milliseconds each, so the mutation run of the judge area ends most mutants
 * here): every finding with its exact text, and the receipt a good payload yields.
 */
describe('judgePayload: the findings that refuse a payload, and the record a good one yields', function () {
  this.timeout(60_000)
  let dir: string
  let identity: TestIdentity
  let trust: TrustStore
  let good: string
  let manifest: Manifest
  let ctx: LifecycleContext
  let n = 0

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'esdctl-judge-'))
    ;({identity, trust} = await testIdentity())
    good = await buildPayload({dir: join(dir, 'good'), name: NAME, label: LABEL, version: '1.2.3', identity, etc: {'thed.conf': 'x\n', 'sub/a.conf': 'y\n'}})
    manifest = JSON.parse(readFileSync(join(good, 'esdctl.json'), 'utf8')) as Manifest
    ctx = testContext({root: join(dir, 'root'), launchctlPath: join(dir, 'no-launchctl'), trust})
  })
  after(() => rmSync(dir, {recursive: true, force: true}))

  /** A copy of the good payload to damage. */
  const copy = (): string => {
    const to = join(dir, `p${n++}`)
    cpSync(good, to, {recursive: true, verbatimSymlinks: true})
    return to
  }
  /** A payload whose bundle is signed (validly) from these Info.plist facts. */
  const signedWith = async (spec: {version?: string; executableName?: string; bundleId?: string; arch?: string[]; requirementsBlob?: Buffer; infoPlist?: Record<string, string>; unentitled?: boolean}): Promise<string> => {
    const to = join(dir, `p${n++}`)
    mkdirSync(to)
    // An Info.plist of our own is both the file and what the signature binds (slot 1), so it stays valid.
    const info = spec.infoPlist === undefined ? undefined : Buffer.from(plist.build(spec.infoPlist))
    await buildBundle({
      dir: to, name: NAME, bundleId: spec.bundleId ?? BUNDLE_ID, teamId: TEAM, identity, version: spec.version ?? '1.2.3',
      ...(spec.executableName ? {executableName: spec.executableName} : {}),
      ...(spec.arch ? {arch: spec.arch} : {}),
      ...(info ? {extraFiles: {'Info.plist': info}} : {}),
      ...(spec.unentitled ? {entitlements: {}, profile: 'none' as const} : {}),
      signOverrides: {...(spec.requirementsBlob ? {requirementsBlob: spec.requirementsBlob} : {}), ...(info ? {infoPlist: info} : {})},
    })
    return to
  }
  const judge = (payload: string, edits: Partial<Manifest> = {}, context: Partial<LifecycleContext> = {}, opts: JudgeOptions = {}): Promise<PayloadJudgement> => {
    const m = {...manifest, ...edits}
    return judgePayload({...ctx, ...context}, new RootFs(), payload, m, new PrefixLayout({...layoutOptionsOf(m), root: ctx.root}), opts)
  }
  const app = (payload: string): string => join(payload, `${NAME}.app`)
  const ids = (j: PayloadJudgement): string[] => j.findings.map((f) => f.id)
  const only = (j: PayloadJudgement, id: string): Finding => {
    const found = j.findings.filter((f) => f.id === id)
    assert.equal(found.length, 1, `one ${id} among ${ids(j).join(', ') || 'none'}`)
    return found[0]!
  }
  const editInfo = (payload: string, edit: (info: Record<string, unknown>) => void): void => {
    const path = join(app(payload), 'Contents', 'Info.plist')
    const info = plist.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
    edit(info)
    writeFileSync(path, plist.build(info as Parameters<typeof plist.build>[0]))
  }

  it('a good payload: ok, no findings, the version and build from Info.plist, and the whole record install writes', async () => {
    const j = await judge(good)
    assert.deepEqual(j.findings, [])
    assert.deepEqual(j.notes, [NO_CODESIGN])
    assert.equal(j.ok, true)
    assert.equal(j.version, '1.2.3')
    assert.equal(j.build, '1.2.3')
    assert.equal(j.executableName, NAME)
    assert.equal(j.layout?.executableName, NAME)
    assert.equal(j.layout?.bundle, `${NAME}.app`)
    const record = j.record!
    assert.equal(record.cdhashes.length, 1)
    assert.equal(record.cdhashes[0]!.arch, 'arm64')
    assert.match(record.cdhashes[0]!.cdhash, /^[0-9a-f]{40}$/)
    assert.match(record.signer.leafSha256 ?? '', /^[0-9A-F]{64}$/)
    assert.ok(record.profile !== undefined)
    assert.match(record.profile.uuid, /^[0-9a-f-]{36}$/)
    assert.match(record.profile.expires, /^\d{4}-\d\d-\d\dT/)
    assert.deepEqual({...record, cdhashes: [], signer: {...record.signer, leafSha256: ''}, profile: {...record.profile, uuid: '', expires: ''}}, {
      schemaVersion: 1,
      name: NAME,
      label: LABEL,
      bundleId: BUNDLE_ID,
      teamId: TEAM,
      version: '1.2.3',
      build: '1.2.3',
      cdhashes: [],
      signer: {kind: 'developer-id', commonName: `Developer ID Application: esdctl Test Developer (${TEAM})`, leafSha256: ''},
      profile: {uuid: '', name: `Developer ID ${BUNDLE_ID}`, expires: '', kind: 'developer-id'},
      configHashes: {
        'sub/a.conf': '3bb2abb69ebb27fbfe63c7639624c6ec5e331b841a5bc8c3ebc10b9285e90877',
        'thed.conf': '73cb3858a687a8494ca3323053016282f3dad39d42cf62ca4e79dda2aac7d9ac',
      },
      plistPath: `/Library/LaunchDaemons/${LABEL}.plist`,
      executable: `/opt/${NAME}/${NAME}.app/Contents/MacOS/${NAME}`,
      bundle: `${NAME}.app`,
      links: [{path: `bin/${NAME}`, target: `Contents/MacOS/${NAME}`}],
    })
  })

  it('the health check and links of the manifest reach the record; a probe without a command records none', async () => {
    const withProbe = await judge(good, {healthCheck: {runningSeconds: 3, command: ['{bundle}/Contents/MacOS/thed', '--ping']}, links: [{path: 'sbin/thed'}, {path: 'bin/thedctl', target: 'Contents/MacOS/thed'}]})
    assert.equal(withProbe.ok, true, ids(withProbe).join(', '))
    assert.deepEqual(withProbe.record?.healthCheck, {runningSeconds: 3, command: ['{bundle}/Contents/MacOS/thed', '--ping']})
    assert.deepEqual(withProbe.record?.links, [{path: 'sbin/thed', target: 'Contents/MacOS/thed'}, {path: 'bin/thedctl', target: 'Contents/MacOS/thed'}])
    const bare = await judge(good, {healthCheck: {runningSeconds: 5}})
    assert.deepEqual(bare.record?.healthCheck, {runningSeconds: 5})
    assert.equal('healthCheck' in (await judge(good)).record!, false)
  })

  it('a designated requirement in the signature is recorded; every slice of a universal binary is judged and its cdhash recorded', async () => {
    const dr = designatedRequirement(BUNDLE_ID, {kind: 'developer-id', teamId: TEAM})
    const payload = await signedWith({requirementsBlob: dr.blob, arch: ['arm64', 'x86_64']})
    const j = await judge(payload)
    assert.equal(j.ok, true, ids(j).join(', '))
    assert.equal(j.record?.designatedRequirement, dr.text)
    assert.deepEqual(j.record?.cdhashes.map((c) => c.arch), ['arm64', 'x86_64'])
    const other = await judge(payload, {teamId: 'ZYXWV98765', bundleId: 'com.example.other'})
    assert.deepEqual(other.findings.filter((f) => f.id !== 'install.info-bundle-id').map((f) => f.message.slice(app(payload).length)), [
      ' (arm64) is signed for team ABCDE12345, but the manifest says teamId ZYXWV98765',
      ' (arm64) is signed with identifier com.example.thed, but the manifest says bundleId com.example.other',
      ' (x86_64) is signed for team ABCDE12345, but the manifest says teamId ZYXWV98765',
      ' (x86_64) is signed with identifier com.example.thed, but the manifest says bundleId com.example.other',
    ])
  })

  it('a bundle whose Info.plist has no CFBundleVersion: no build, in the judgement or the record', async () => {
    const j = await judge(await signedWith({infoPlist: {CFBundleExecutable: NAME, CFBundleIdentifier: BUNDLE_ID, CFBundlePackageType: 'APPL', CFBundleShortVersionString: '2.0'}}))
    assert.equal(j.ok, true, j.findings.map((f) => `${f.id}: ${f.message}`).join('; '))
    assert.equal(j.version, '2.0')
    assert.equal(j.build, undefined)
    assert.equal('build' in j.record!, false)
  })

  it('a bundle without entitlements or profile: installed with no profile in the record', async () => {
    const j = await judge(await signedWith({unentitled: true}))
    assert.equal(j.ok, true, j.findings.map((f) => `${f.id}: ${f.message}`).join('; '))
    assert.equal('profile' in j.record!, false)
  })

  it("a CodeDirectory without a team id: install.team-mismatch says it is signed for team (none)", async () => {
    const to = join(dir, `p${n++}`)
    mkdirSync(to)
    await buildBundle({dir: to, name: NAME, bundleId: BUNDLE_ID, teamId: TEAM, identity, signOverrides: {teamId: undefined}})
    const j = await judge(to)
    assert.equal(only(j, 'install.team-mismatch').message, `${app(to)} (arm64) is signed for team (none), but the manifest says teamId ${TEAM}`)
    assert.equal(j.ok, false)
  })

  it('ad-hoc signed without a team id: install.team-unvouched says team (none), and its fix names the certificate to sign with', async () => {
    const to = join(dir, `p${n++}`)
    mkdirSync(to)
    await buildBundle({dir: to, name: NAME, bundleId: BUNDLE_ID, teamId: TEAM, identity, entitlements: {}, profile: 'none', signOverrides: {cms: undefined, flags: FLAG.adhoc, teamId: undefined}})
    const j = await judge(to)
    const f = only(j, 'install.team-unvouched')
    assert.equal(f.message, `${app(to)} (arm64) is ad-hoc signed: no certificate vouches for its team (none), so nothing shows that team ${TEAM} signed it`)
    assert.equal(f.fix, `Sign the daemon with team ${TEAM}'s Developer ID Application certificate (codesign --sign "Developer ID Application: …" --options runtime).`)
    assert.equal(j.ok, false)
  })

  it('an unsigned main executable: install.identifier-mismatch says it is signed with identifier (none)', async () => {
    const payload = copy()
    const exe = join(app(payload), 'Contents', 'MacOS', NAME)
    const b = readFileSync(exe)
    // LC_CODE_SIGNATURE (0x1d) turned into LC_DYLIB_CODE_SIGN_DRS (0x2b): the slice keeps its bytes but has no signature.
    let at = 32
    for (let i = 0; i < b.readUInt32LE(16) && b.readUInt32LE(at) !== 0x1d; i++) at += b.readUInt32LE(at + 4)
    assert.equal(b.readUInt32LE(at), 0x1d, 'the test bundle has an LC_CODE_SIGNATURE')
    b.writeUInt32LE(0x2b, at)
    writeFileSync(exe, b)
    const j = await judge(payload)
    assert.equal(only(j, 'install.identifier-mismatch').message, `${app(payload)} (arm64) is signed with identifier (none), but the manifest says bundleId ${BUNDLE_ID}`)
    assert.equal(j.ok, false)
  })

  it('an Info.plist is read up to 1 MiB: one byte more is install.info-plist, refused unread', async () => {
    const sized = (size: number): Record<string, string> => {
      const info: Record<string, string> = {CFBundleExecutable: NAME, CFBundleIdentifier: BUNDLE_ID, CFBundleShortVersionString: '1.2.3', CFBundleVersion: '1.2.3', Padding: 'x'}
      info['Padding'] = 'x'.repeat(size - Buffer.byteLength(plist.build(info)) + 1)
      assert.equal(Buffer.byteLength(plist.build(info)), size)
      return info
    }
    const fits = await judge(await signedWith({infoPlist: sized(1024 * 1024)}))
    assert.equal(fits.ok, true, ids(fits).join(', '))
    const over = await signedWith({infoPlist: sized(1024 * 1024 + 1)})
    const j = await judge(over)
    assert.match(only(j, 'install.info-plist').message, /cannot be read as a property list \(.*more than the 1048576 allowed\)$/)
    assert.equal(j.version, undefined)
  })

  it('a build number that is not a string is left out; the version must be one', async () => {
    const payload = copy()
    editInfo(payload, (info) => {
      info['CFBundleVersion'] = 7
    })
    const j = await judge(payload)
    assert.equal(j.build, undefined)
    assert.equal(j.version, '1.2.3')
  })

  it('no bundle where the layout says: install.no-bundle naming the manifest name, or its bundle when set; nothing else is judged', async () => {
    const missing = copy()
    rmSync(app(missing), {recursive: true})
    const j = await judge(missing)
    assert.deepEqual(j, {ok: false, notes: [], findings: [{
      id: 'install.no-bundle', severity: 'error', path: app(missing),
      message: `${app(missing)}: the payload has no ${NAME}.app directory (the manifest's name is ${NAME}; set "bundle" if it lives elsewhere)`,
      fix: `Put the daemon's bundle at ${NAME}.app in the payload.`,
    }]})
    const elsewhere = await judge(good, {bundle: 'lib/thed.app'})
    assert.deepEqual(ids(elsewhere), ['install.no-bundle'])
    assert.equal(elsewhere.findings[0]!.message, `${join(good, 'lib', 'thed.app')}: the payload has no lib/thed.app directory (the manifest's bundle is lib/thed.app)`)
  })

  it('a bundle that is a file, a link to the bundle, or below a linked directory: install.no-bundle', async () => {
    const file = copy()
    rmSync(app(file), {recursive: true})
    writeFileSync(app(file), 'not a bundle')
    assert.deepEqual(ids(await judge(file)), ['install.no-bundle'])
    const linked = copy()
    renameSync(app(linked), join(linked, 'real.app'))
    symlinkSync('real.app', app(linked))
    assert.deepEqual(ids(await judge(linked)), ['install.no-bundle'])
    const under = copy()
    mkdirSync(join(under, 'real'))
    renameSync(app(under), join(under, 'real', `${NAME}.app`))
    symlinkSync('real', join(under, 'lib'))
    assert.deepEqual(ids(await judge(under, {bundle: `lib/${NAME}.app`})), ['install.no-bundle'])
    mkdirSync(join(under, 'opt'))
    renameSync(join(under, 'real', `${NAME}.app`), join(under, 'opt', `${NAME}.app`))
    const inPlace = await judge(under, {bundle: `opt/${NAME}.app`})
    assert.equal(inPlace.ok, true, ids(inPlace).join(', '))
  })

  it("signed for another team than the manifest's: install.team-mismatch naming the slice, both teams and the fix", async () => {
    const j = await judge(good, {teamId: 'ZYXWV98765'})
    assert.equal(j.ok, false)
    assert.equal(j.record, undefined)
    const f = only(j, 'install.team-mismatch')
    assert.equal(f.severity, 'error')
    assert.equal(f.path, app(good))
    assert.equal(f.message, `${app(good)} (arm64) is signed for team ${TEAM}, but the manifest says teamId ZYXWV98765`)
    assert.equal(f.fix, 'Sign the daemon with the team the manifest names, or correct teamId in esdctl.json.')
    assert.deepEqual(ids(j), ['install.team-mismatch'])
  })

  it("signed and described as another identifier than the manifest's bundleId: install.identifier-mismatch and install.info-bundle-id", async () => {
    const j = await judge(good, {bundleId: 'com.example.other'})
    assert.equal(j.ok, false)
    assert.deepEqual(ids(j), ['install.identifier-mismatch', 'install.info-bundle-id'])
    const id = only(j, 'install.identifier-mismatch')
    assert.equal(id.path, app(good))
    assert.equal(id.message, `${app(good)} (arm64) is signed with identifier ${BUNDLE_ID}, but the manifest says bundleId com.example.other`)
    assert.equal(id.fix, 'Sign with the bundle identifier as the code identifier, or correct bundleId in esdctl.json.')
    const info = only(j, 'install.info-bundle-id')
    assert.equal(info.path, app(good))
    assert.equal(info.message, `${app(good)}/Contents/Info.plist: CFBundleIdentifier is "${BUNDLE_ID}", but the manifest says bundleId com.example.other`)
    assert.equal(info.fix, 'Make Info.plist and esdctl.json agree.')
  })

  it('a plain folder around signed code: install.no-code; an empty bundle is refused by the verifier without it', async () => {
    const empty = copy()
    rmSync(app(empty), {recursive: true})
    mkdirSync(app(empty))
    const j = await judge(empty)
    assert.equal(j.ok, false)
    assert.ok(j.findings.some((f) => f.severity === 'error' && f.id !== 'install.no-code'), ids(j).join(', '))
    assert.equal(ids(j).includes('install.no-code'), false)
    const plain = copy()
    rmSync(app(plain), {recursive: true})
    mkdirSync(app(plain))
    const code = await buildSignedMachO({arch: 'arm64', codeSize: 16 * 1024}, {identifier: BUNDLE_ID, teamId: TEAM, flags: 0x10000, cms: (cds) => signCodeDirectories({codeDirectories: cds, identity})})
    writeFileSync(join(app(plain), NAME), code, {mode: 0o755})
    const k = await judge(plain)
    const f = only(k, 'install.no-code')
    assert.equal(f.message, `${app(plain)}: the verifier found no signed code to install`)
    assert.equal(f.fix, 'Check the bundle.')
    assert.equal(k.ok, false)
  })

  it('an Info.plist that is no property list, or not a file: install.info-plist naming it and why, nothing read from it', async () => {
    const payload = copy()
    const info = join(app(payload), 'Contents', 'Info.plist')
    writeFileSync(info, 'not a plist')
    const j = await judge(payload)
    const f = only(j, 'install.info-plist')
    assert.equal(f.path, info)
    assert.match(f.message, new RegExp(`^${info.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: cannot be read as a property list \\(.+\\)$`))
    assert.equal(f.fix, 'Rebuild the bundle; Info.plist must be a valid property list.')
    assert.equal(j.version, undefined)
    assert.equal(j.ok, false)
    unlinkSync(info)
    mkdirSync(info)
    assert.ok(ids(await judge(payload)).includes('install.info-plist'))
    assert.equal(await bundleExecutableName(new RootFs(), app(payload)), undefined)
  })

  it('bundleExecutableName reads CFBundleExecutable when it is a valid file name', async () => {
    assert.equal(await bundleExecutableName(new RootFs(), app(good)), NAME)
    const payload = copy()
    editInfo(payload, (info) => {
      info['CFBundleExecutable'] = '../evil'
    })
    assert.equal(await bundleExecutableName(new RootFs(), app(payload)), undefined)
  })

  it('CFBundleExecutable that is no file name, or names no regular file in Contents/MacOS: install.info-executable, no layout', async () => {
    const bad = copy()
    editInfo(bad, (info) => {
      info['CFBundleExecutable'] = '../evil'
    })
    const j = await judge(bad)
    const f = only(j, 'install.info-executable')
    assert.equal(f.path, app(bad))
    assert.equal(f.message, `${app(bad)}/Contents/Info.plist: CFBundleExecutable is "../evil", which is not a file name in Contents/MacOS`)
    assert.equal(f.fix, "Set CFBundleExecutable to the main executable's file name (letters, digits, ' ', '.', '_', '+' or '-').")
    assert.equal(j.executableName, undefined)
    assert.equal(j.layout, undefined)
    const absent = await signedWith({executableName: 'thed-main'})
    // The builder writes the executable under that name; take it away (the seal then fails too).
    rmSync(join(app(absent), 'Contents', 'MacOS', 'thed-main'))
    mkdirSync(join(app(absent), 'Contents', 'MacOS', 'thed-main'))
    const k = await judge(absent)
    const g = only(k, 'install.info-executable')
    assert.equal(g.message, `${app(absent)}/Contents/Info.plist: CFBundleExecutable is "thed-main", but Contents/MacOS/thed-main is not a regular file`)
    assert.equal(g.fix, 'Put the main executable at Contents/MacOS/<CFBundleExecutable>.')
    assert.equal(k.executableName, undefined)
    // Without an executable there is no layout: the links (to the default bin/thed -> Contents/MacOS/thed, absent here) are not judged.
    assert.equal(ids(k).includes('install.link-target'), false, ids(k).join(', '))
    const gone = copy()
    rmSync(join(app(gone), 'Contents', 'MacOS', NAME))
    const m = await judge(gone)
    assert.equal(only(m, 'install.info-executable').message, `${app(gone)}/Contents/Info.plist: CFBundleExecutable is "${NAME}", but Contents/MacOS/${NAME} is not a regular file`)
    assert.equal(ids(m).includes('install.link-target'), false, ids(m).join(', '))
  })

  it('a CFBundleExecutable other than the name: the layout, links and record follow it', async () => {
    const payload = await signedWith({executableName: 'thed-main'})
    const j = await judge(payload)
    assert.equal(j.ok, true, ids(j).join(', '))
    assert.equal(j.executableName, 'thed-main')
    assert.equal(j.record?.executable, `/opt/${NAME}/${NAME}.app/Contents/MacOS/thed-main`)
    assert.deepEqual(j.record?.links, [{path: `bin/${NAME}`, target: 'Contents/MacOS/thed-main'}])
  })

  it('a version that is missing or no version: install.no-version, and no version is returned', async () => {
    for (const [version, shown] of [[undefined, 'undefined'], [3, '3'], ['1.0 beta', '"1.0 beta"'], ['', '""'], ['1'.repeat(65), `"${'1'.repeat(65)}"`], ['1.0-2', '"1.0-2"'], ['1.2.3.4', '"1.2.3.4"']] as const) {
      const payload = copy()
      editInfo(payload, (info) => {
        if (version === undefined) delete info['CFBundleShortVersionString']
        else info['CFBundleShortVersionString'] = version
      })
      const j = await judge(payload)
      const f = only(j, 'install.no-version')
      assert.equal(f.message, `${app(payload)}/Contents/Info.plist: CFBundleShortVersionString is missing or not one to three period-separated integers (${shown})`)
      assert.equal(f.fix, 'Set CFBundleShortVersionString to one to three period-separated integers, e.g. 1.2.3 (esdctl bundle --version writes it); esdctl compares versions to refuse downgrades.')
      assert.equal(j.version, undefined)
      assert.equal(j.ok, false)
    }
  })

  it('the longest bundle version (three nine-digit integers) and the shortest (one) install', async () => {
    for (const version of ['999999999.999999999.999999999', '0']) {
      const j = await judge(await signedWith({version}))
      assert.equal(j.ok, true, ids(j).join(', '))
      assert.equal(j.version, version)
      assert.equal(j.record?.version, version)
    }
  })

  it('a 64-character version of letters, digits and . + - (accepted before the format was enforced) is refused', async () => {
    const version = `1.2.3-beta+${'a'.repeat(53)}`
    const j = await judge(await signedWith({version}))
    assert.match(only(j, 'install.no-version').message, /CFBundleShortVersionString is missing or not one to three period-separated integers/)
    assert.equal(j.ok, false)
    assert.equal(j.version, undefined)
  })

  it('a link whose target is missing, a directory, or reached through a link inside the bundle: install.link-target', async () => {
    const payload = copy()
    mkdirSync(join(app(payload), 'Contents', 'Resources'), {recursive: true})
    symlinkSync('MacOS', join(app(payload), 'Contents', 'Through'))
    for (const target of ['Contents/MacOS/missing', 'Contents/Resources', 'Contents/Through/thed']) {
      const j = await judge(payload, {links: [{path: 'bin/thed', target}]})
      const f = only(j, 'install.link-target')
      const full = join(app(payload), target)
      assert.equal(f.path, full)
      assert.equal(f.message, `${full}: the link bin/thed must point at a regular file inside the bundle, but ${target} is not one`)
      assert.equal(f.fix, 'Correct links[].target in esdctl.json, or ship the file in the bundle.')
      assert.equal(j.ok, false)
    }
  })

  it("a link or special file in the payload's etc/: install.etc-not-a-file naming it; regular files are hashed", async () => {
    const payload = copy()
    symlinkSync('/etc/passwd', join(payload, 'etc', 'sub', 'link.conf'))
    const j = await judge(payload)
    const f = only(j, 'install.etc-not-a-file')
    assert.equal(f.path, join(payload, 'etc', 'sub', 'link.conf'))
    assert.equal(f.message, `${join(payload, 'etc', 'sub', 'link.conf')} is not a regular file; the payload's etc/ may hold only files and directories`)
    assert.equal(f.fix, 'Replace the link or special file with a regular file.')
    assert.equal(j.ok, false)
    const none = copy()
    rmSync(join(none, 'etc'), {recursive: true})
    assert.deepEqual((await judge(none)).record?.configHashes, {})
  })

  it('code already in place is judged without its etc/ (config: false): the admin\'s links there refuse nothing, and nothing is hashed', async () => {
    const payload = copy()
    symlinkSync('/etc/passwd', join(payload, 'etc', 'sub', 'link.conf'))
    const j = await judge(payload, {}, {}, {config: false})
    assert.deepEqual(ids(j), [])
    assert.equal(j.ok, true)
    assert.deepEqual(j.record?.configHashes, {})
    assert.deepEqual(Object.keys((await judge(good, {}, {}, {config: true})).record?.configHashes ?? {}).sort(), ['sub/a.conf', 'thed.conf'])
  })

  it("codesign's second opinion: asked with the bundle; a rejection is install.codesign-rejected with its reasons or its output; no note then", async () => {
    const accepts = replayTool({'--verify': [{stderr: `${app(good)}: valid on disk\n`, status: 0}]})
    const rejects = replayTool({'--verify': [{stderr: 'something codesign says\n', status: 1}]})
    const reasons = replayTool({'--verify': [{stderr: `${app(good)}: code has no resources but signature indicates they must be present\n`, status: 1}]})
    try {
      const yes = await judge(good, {}, {codesign: new CodesignAdapter({executable: accepts.path})})
      assert.deepEqual(yes.findings, [])
      assert.deepEqual(yes.notes, [])
      assert.equal(yes.ok, true)
      assert.deepEqual(accepts.calls(), [['--verify', '--strict', '--deep', '-vvvv', app(good)]])
      const no = await judge(good, {}, {codesign: new CodesignAdapter({executable: rejects.path})})
      const f = only(no, 'install.codesign-rejected')
      assert.equal(f.path, app(good))
      assert.equal(f.message, `codesign --verify --strict rejected ${app(good)}: something codesign says`)
      assert.equal(f.fix, 'Re-sign the bundle; macOS would refuse to run it.')
      assert.equal(no.ok, false)
      const why = await judge(good, {}, {codesign: new CodesignAdapter({executable: reasons.path})})
      assert.match(only(why, 'install.codesign-rejected').message, new RegExp(`^codesign --verify --strict rejected ${app(good).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: .*code has no resources but signature indicates they must be present`))
      assert.notEqual(only(why, 'install.codesign-rejected').message, `codesign --verify --strict rejected ${app(good)}: ${app(good)}: code has no resources but signature indicates they must be present`)
    } finally {
      accepts.remove()
      rejects.remove()
      reasons.remove()
    }
  })

  it('staged into an image (offline): the judgement claims nothing about staging, which only the outcome can say', async () => {
    const j = await judge(good, {}, {offline: true})
    assert.deepEqual(j.notes, [NO_CODESIGN])
    assert.equal(j.ok, true)
  })
})
