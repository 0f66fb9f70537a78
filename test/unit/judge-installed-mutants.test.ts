import assert from 'node:assert/strict'
import {chmodSync, chownSync, cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {RootFs} from '../../src/adapters/root-fs.js'
import {ExitCode} from '../../src/exit-codes.js'
import {PrefixLayout} from '../../src/layout/prefix-layout.js'
import type {LifecycleContext} from '../../src/lifecycle/context.js'
import type {Journal} from '../../src/lifecycle/journal.js'
import type {LegacyInstall} from '../../src/lifecycle/adopt-legacy.js'
import {adoptedFiles, judgeLegacy, legacyFilesInSlot, type LegacyFileAt} from '../../src/lifecycle/judge-legacy.js'
import {installedDamage} from '../../src/lifecycle/installed-damage.js'
import {judgePayload} from '../../src/lifecycle/judge-payload.js'
import {judgeRolledForward} from '../../src/lifecycle/judge-rolled-forward.js'
import {judgeSlot} from '../../src/lifecycle/judge-slot.js'
import {StepFailure} from '../../src/lifecycle/lifecycle-error.js'
import {layoutOptionsOf, type Manifest} from '../../src/manifest/manifest.js'
import type {InstallRecord} from '../../src/records/install-record.js'
import type {Finding} from '../../src/verify/finding.js'
import {verifyPath} from '../../src/verify/verify-path.js'
import * as plist from 'plist'
import {buildBundle} from '../support/bundle-builder.js'
import {buildSignedMachO} from '../support/macho-writer.js'
import {buildPayload, makeRoot, testContext, testIdentity, TEAM} from '../support/lifecycle-fixture.js'
import {signCodeDirectories, type TestIdentity} from '../support/test-pki.js'

const NAME = 'thed'
const LABEL = 'com.example.thed.judged'
const NOW = new Date()
/** A byte inside the code pages of the 16 KiB test executable. */
const BROKEN_AT = 12_000

/**
 * The judgements of code already on the Mac that a rollback puts back and esdctl then starts as
 * root: the legacy install adoption recorded (judgeLegacy), the bundle in the rollback slot
 * (judgeSlot), and a committed rollback finished by the next run (judgeRolledForward). Called
 * directly on files written here, a few milliseconds each, so that their mutants die here rather
 * than in the lifecycle suites that reach them through whole runs.
 */
describe('judging installed code: the legacy files, the rollback slot, a rollback finished from its journal', function () {
  this.timeout(60_000)
  let identity: TestIdentity
  let ctx: LifecycleContext
  let root: string
  let payload: string
  let record: InstallRecord
  let n = 0
  const fs = new RootFs()

  before(async () => {
    let trust
    ;({identity, trust} = await testIdentity())
    root = makeRoot()
    ctx = testContext({root, launchctlPath: join(root, 'no-launchctl'), trust})
    payload = await buildPayload({dir: join(root, 'payload'), name: NAME, label: LABEL, version: '1.0.0', identity})
    const manifest: Manifest = {name: NAME, label: LABEL, bundleId: `com.example.${NAME}`, teamId: TEAM}
    const judged = await judgePayload(ctx, fs, payload, manifest, new PrefixLayout({...layoutOptionsOf(manifest), root}))
    assert.ok(judged.ok && judged.record, JSON.stringify(judged.findings))
    // What install writes on top of the judgement: when it placed the version.
    record = {...judged.record, installedAt: '2026-11-30T12:00:00.000Z'} as InstallRecord
  })
  after(() => rmSync(root, {recursive: true, force: true}))

  /** A layout of its own under the shared root (each test writes a prefix of its own). */
  const freshLayout = (): PrefixLayout => new PrefixLayout({name: `${NAME}${n++}`, label: LABEL, root})

  describe('judgeLegacy', () => {
    /** Writes `text` at `path` root-owned, mode 0755. */
    const put = (path: string, text: string | Buffer): string => {
      mkdirSync(dirname(path), {recursive: true})
      writeFileSync(path, text)
      chmodSync(path, 0o755)
      return path
    }
    const sha256 = (path: string) => fs.sha256(path)
    /** The legacy files in the slot (a script executable and the job's plist), and a receipt that recorded them. */
    async function adopted(layout: PrefixLayout, executable: string | Buffer = '#!/bin/sh\nexec sleep 1\n'): Promise<{files: LegacyFileAt[]; record: InstallRecord}> {
      const files = legacyFilesInSlot(layout, [layout.label])
      for (const f of files) put(f.at, f.recorded.endsWith('.plist') ? '<plist/>' : executable)
      const recorded = await Promise.all(files.map(async (f) => ({path: f.recorded, sha256: await sha256(f.at)})))
      return {files, record: {...record, adopted: {files: recorded}}}
    }
    const messages = (findings: Finding[]) => findings.map((f) => `${f.id} ${f.path} ${f.message}`)

    it('legacyFilesInSlot: the executable under legacy/bin, the daemon\'s own plist at the top of the slot, others under legacy/', () => {
      const layout = freshLayout()
      assert.deepEqual(legacyFilesInSlot(layout, [layout.label, 'com.example.helper']), [
        {recorded: `legacy/bin/${layout.name}`, at: join(layout.rollbackSlot, 'legacy', 'bin', layout.name)},
        {recorded: `${layout.label}.plist`, at: join(layout.rollbackSlot, `${layout.label}.plist`)},
        {recorded: 'legacy/com.example.helper.plist', at: join(layout.rollbackSlot, 'legacy', 'com.example.helper.plist')},
      ])
    })

    it('adoptedFiles records the executable and every job\'s plist by their place in the slot, with their SHA-256; a job without a plist adds nothing', async () => {
      const layout = freshLayout()
      const exe = put(join(root, `legacy${n++}`, 'thed'), '#!/bin/sh\n')
      const own = put(join(root, `legacy${n++}`, 'own.plist'), '<plist>own</plist>')
      const helper = put(join(root, `legacy${n++}`, 'helper.plist'), '<plist>helper</plist>')
      const legacy: LegacyInstall = {executable: exe, jobs: [{label: layout.label, loaded: true, plist: own}, {label: 'com.example.unloaded', loaded: false}, {label: 'com.example.helper', loaded: false, plist: helper}]}
      assert.deepEqual(await adoptedFiles(fs, layout, legacy), [
        {path: `legacy/bin/${layout.name}`, sha256: await sha256(exe)},
        {path: `${layout.label}.plist`, sha256: await sha256(own)},
        {path: 'legacy/com.example.helper.plist', sha256: await sha256(helper)},
      ])
    })

    it('files as adopted, with a script executable: nothing found (a script has no signature to verify)', async () => {
      const layout = freshLayout()
      const {files, record: adoptedRecord} = await adopted(layout)
      assert.deepEqual(await judgeLegacy(ctx, fs, layout, adoptedRecord, files), [])
    })

    it('a receipt that recorded nothing of the adoption: rollback.legacy-not-recorded naming the receipt and the slot', async () => {
      const layout = freshLayout()
      const {files} = await adopted(layout)
      const found = await judgeLegacy(ctx, fs, layout, record, files, '/r/receipt.json')
      assert.deepEqual(messages(found), [`rollback.legacy-not-recorded /r/receipt.json /r/receipt.json records no files of the legacy install kept in ${layout.rollbackSlot} (the adoption was made by an esdctl that did not record them), so nothing shows they are still what was adopted`])
      assert.equal((await judgeLegacy(ctx, fs, layout, record, files))[0]!.path, layout.receipt, 'the receipt defaults to the layout\'s')
    })

    it('each way a kept file can differ from what adoption recorded is rollback.legacy-changed, naming the file and why', async () => {
      const layout = freshLayout()
      const {files, record: adoptedRecord} = await adopted(layout)
      const [exe, plistFile] = files as [LegacyFileAt, LegacyFileAt]
      const judge = (list: LegacyFileAt[], rec = adoptedRecord) => judgeLegacy(ctx, fs, layout, rec, list).then(messages)
      const why = (at: string, text: string) => `rollback.legacy-changed ${at} ${at} ${text}, so it is not the legacy file adopted into the rollback slot`

      const extra = {recorded: 'legacy/extra.plist', at: put(join(layout.rollbackSlot, 'legacy', 'extra.plist'), 'x')}
      assert.deepEqual(await judge([extra]), [why(extra.at, `was not recorded at adoption (${layout.receipt} lists legacy/bin/${layout.name}, ${layout.label}.plist)`)])

      rmSync(plistFile.at)
      assert.deepEqual(await judge([plistFile]), [why(plistFile.at, 'is missing')])
      mkdirSync(plistFile.at)
      assert.deepEqual(await judge([plistFile]), [why(plistFile.at, 'is no longer a regular file')])

      for (const mode of [0o775, 0o757]) {
        chmodSync(exe.at, mode)
        assert.deepEqual(await judge([exe]), [why(exe.at, `is now owned by uid 0 with mode ${mode.toString(8)}, not root-owned and writable only by root as adopted`)])
      }
      chmodSync(exe.at, 0o4755)
      assert.deepEqual(await judge([exe]), [], 'mode bits other than group and other write are no concern')
      chmodSync(exe.at, 0o755)
      chownSync(exe.at, 501, 0)
      assert.deepEqual(await judge([exe]), [why(exe.at, 'is now owned by uid 501 with mode 755, not root-owned and writable only by root as adopted')])
      chownSync(exe.at, 0, 0)
      chmodSync(exe.at, 0o755)

      const before = await sha256(exe.at)
      writeFileSync(exe.at, '#!/bin/sh\nexec evil\n')
      assert.deepEqual(await judge([exe]), [why(exe.at, `has SHA-256 ${await sha256(exe.at)}; adoption recorded ${before}`)])
    })

    it('a kept Mach-O is verified as a bare binary: its errors refuse it, its warnings do not; a changed file is refused before any verifying', async () => {
      const layout = freshLayout()
      const macho = (flags: number) => buildSignedMachO({arch: 'arm64', codeSize: 16_384}, {identifier: 'com.example.thed', teamId: TEAM, flags, cms: (cds) => signCodeDirectories({codeDirectories: cds, identity, signingTime: NOW})})
      const good = await adopted(layout, await macho(0x10000))
      assert.deepEqual(await judgeLegacy(ctx, fs, layout, good.record, good.files), [])
      // Without the hardened runtime the verifier warns (signature.hardened-runtime-missing): not a reason to refuse.
      const unhardened = await macho(0)
      const warnedLayout = freshLayout()
      const warned = await adopted(warnedLayout, unhardened)
      assert.deepEqual(await judgeLegacy(ctx, fs, warnedLayout, warned.record, warned.files), [])

      const broken = Buffer.from(unhardened)
      broken.writeUInt8(broken[BROKEN_AT]! ^ 0xff, BROKEN_AT)
      const badLayout = freshLayout()
      const bad = await adopted(badLayout, broken)
      const refused = await judgeLegacy(ctx, fs, badLayout, bad.record, bad.files)
      assert.deepEqual(refused.map((f) => [f.id, f.severity]), [['signature.code-modified', 'error']], 'the errors alone, without the warning')
      assert.deepEqual(await judgeLegacy(ctx, fs, badLayout, bad.record, [bad.files[1]!]), [], 'without the executable among the files, nothing is verified')
      assert.deepEqual((await judgeLegacy(ctx, fs, badLayout, bad.record, [bad.files[1]!, bad.files[0]!])).map((f) => f.id), ['signature.code-modified'], 'the executable is found wherever it is in the list')
      writeFileSync(bad.files[1]!.at, '<plist>changed</plist>')
      assert.deepEqual((await judgeLegacy(ctx, fs, badLayout, bad.record, bad.files)).map((f) => f.id), ['rollback.legacy-changed'], 'the broken signature is not looked at once a file differs')
    })
  })

  describe('judgeSlot', () => {
    /** The payload's bundle copied into `dir` under the layout's bundle name. */
    const slotWithBundle = (layout: PrefixLayout, dir = layout.rollbackSlot): string => {
      mkdirSync(dir, {recursive: true})
      cpSync(join(payload, `${NAME}.app`), join(dir, layout.bundle), {recursive: true, verbatimSymlinks: true})
      return dir
    }
    const layoutOf = (rec: InstallRecord) => PrefixLayout.ofRecord(rec, root)

    it('the recorded build in the slot: nothing found; its etc/ is not judged', async () => {
      const layout = layoutOf(record)
      const dir = slotWithBundle(layout, join(root, `slot${n++}`))
      mkdirSync(join(dir, 'etc'))
      symlinkSync('/etc/hosts', join(dir, 'etc', 'link.conf'))
      assert.deepEqual(await judgeSlot(ctx, fs, layout, record, {dir, receipt: '/r.json'}), [])
    })

    it('another build than the receipt recorded: rollback.slot-not-recorded with both cdhash lists', async () => {
      const layout = layoutOf(record)
      const dir = slotWithBundle(layout, join(root, `slot${n++}`))
      const found = record.cdhashes.map((c) => `${c.arch}:${c.cdhash}`).join(' ')
      const other = {...record, cdhashes: [{arch: 'arm64', cdhash: '00'.repeat(20)}, {arch: 'x86_64', cdhash: '11'.repeat(20)}]}
      const [f, ...rest] = await judgeSlot(ctx, fs, layout, other, {dir, receipt: '/r.json'})
      assert.deepEqual(rest, [])
      assert.equal(f!.id, 'rollback.slot-not-recorded')
      assert.equal(f!.path, dir)
      assert.equal(f!.message, `${dir}/${layout.bundle} is validly signed, but it is not the code the receipt /r.json recorded (cdhashes ${found}, recorded arm64:${'00'.repeat(20)} x86_64:${'11'.repeat(20)})`)
      const none = await judgeSlot(ctx, fs, layout, {...record, cdhashes: []}, {dir, receipt: '/r.json'})
      assert.match(none[0]!.message, /, recorded none\)$/)
    })

    it('a universal bundle: the cdhashes are compared as sets, in any order, and shown sorted, one per slice', async () => {
      const dir = join(root, `slot${n++}`)
      mkdirSync(dir)
      // Slices in the file as x86_64 then arm64: the judgement lists them in that order.
      await buildBundle({dir, name: NAME, bundleId: `com.example.${NAME}`, teamId: TEAM, identity, version: '1.0.0', arch: ['x86_64', 'arm64']})
      const manifest: Manifest = {name: NAME, label: LABEL, bundleId: `com.example.${NAME}`, teamId: TEAM}
      const judged = await judgePayload(ctx, fs, dir, manifest, new PrefixLayout({...layoutOptionsOf(manifest), root}))
      const cdhashes = judged.record!.cdhashes
      assert.deepEqual(cdhashes.map((c) => c.arch), ['x86_64', 'arm64'])
      const universal = {...record, cdhashes}
      const layout = layoutOf(universal)
      const where = {dir, receipt: '/r.json'}
      assert.deepEqual(await judgeSlot(ctx, fs, layout, universal, where), [])
      assert.deepEqual(await judgeSlot(ctx, fs, layout, {...universal, cdhashes: [...cdhashes].reverse()}, where), [])
      const sorted = [...cdhashes].reverse().map((c) => `${c.arch}:${c.cdhash}`).join(' ')
      const other = {...universal, cdhashes: [{arch: 'x86_64', cdhash: '11'.repeat(20)}, {arch: 'arm64', cdhash: '00'.repeat(20)}]}
      assert.match((await judgeSlot(ctx, fs, layout, other, where))[0]!.message, new RegExp(`\\(cdhashes ${sorted}, recorded arm64:${'00'.repeat(20)} x86_64:${'11'.repeat(20)}\\)$`))
    })

    it('code signed with SHA-1 and SHA-256: receipts hold the SHA-256 cdhash, and one written before (the SHA-1 one) still names the same code', async () => {
      const dir = join(root, `slot${n++}`)
      mkdirSync(dir)
      await buildBundle({dir, name: NAME, bundleId: `com.example.${NAME}`, teamId: TEAM, identity, version: '1.0.0', signOverrides: {hashTypes: [1, 2]}})
      const manifest: Manifest = {name: NAME, label: LABEL, bundleId: `com.example.${NAME}`, teamId: TEAM}
      const judged = await judgePayload(ctx, fs, dir, manifest, new PrefixLayout({...layoutOptionsOf(manifest), root}))
      assert.ok(judged.ok, JSON.stringify(judged.findings))
      const [sha1, sha256] = judged.slices![0]!.candidateCdhashes!
      assert.deepEqual([sha1!.hashType, sha256!.hashType], ['sha1', 'sha256'])
      assert.deepEqual(judged.record!.cdhashes, [{arch: 'arm64', cdhash: sha256!.cdhash}])
      const where = {dir, receipt: '/r.json'}
      const layout = layoutOf(record)
      assert.deepEqual(await judgeSlot(ctx, fs, layout, {...record, cdhashes: [{arch: 'arm64', cdhash: sha256!.cdhash}]}, where), [])
      assert.deepEqual(await judgeSlot(ctx, fs, layout, {...record, cdhashes: [{arch: 'arm64', cdhash: sha1!.cdhash}]}, where), [])
      const [refused] = await judgeSlot(ctx, fs, layout, {...record, cdhashes: [{arch: 'x86_64', cdhash: sha1!.cdhash}]}, where)
      assert.match(refused!.message, new RegExp(`\\(cdhashes arm64:${sha256!.cdhash}, recorded x86_64:${sha1!.cdhash}\\)$`))
    })

    it('by default the rollback slot against the slot receipt; a slot without the bundle: the judgement\'s own findings', async () => {
      const layout = layoutOf(record)
      rmSync(layout.rollbackSlot, {recursive: true, force: true})
      const missing = await judgeSlot(ctx, fs, layout, record)
      assert.deepEqual(missing.map((f) => [f.id, f.path]), [['install.no-bundle', join(layout.rollbackSlot, layout.bundle)]])
      slotWithBundle(layout)
      assert.deepEqual(await judgeSlot(ctx, fs, layout, record), [])
      const other = {...record, cdhashes: []}
      assert.match((await judgeSlot(ctx, fs, layout, other))[0]!.message, new RegExp(`the receipt ${layout.slotReceipt.replace(/[.]/g, '\\.')} recorded`))
      rmSync(layout.rollbackSlot, {recursive: true, force: true})
    })
  })

  describe('installedDamage', () => {
    it('an intact install whose receipt holds any of its cdhashes is not damaged; another build or a missing bundle is', async () => {
      const src = join(root, `dual${n++}`)
      mkdirSync(src)
      await buildBundle({dir: src, name: NAME, bundleId: `com.example.${NAME}`, teamId: TEAM, identity, version: '1.0.0', signOverrides: {hashTypes: [1, 2]}})
      const installed = {...record, name: `${NAME}${n++}`}
      const app = PrefixLayout.ofRecord(installed, root).app
      assert.equal(await installedDamage(ctx, installed), `${app} is missing`)
      mkdirSync(dirname(app), {recursive: true})
      cpSync(join(src, `${NAME}.app`), app, {recursive: true, verbatimSymlinks: true})
      const report = await verifyPath(app, ctx.verifyOptions)
      const [sha1, sha256] = report.slices[0]!.candidateCdhashes!
      assert.equal(await installedDamage(ctx, {...installed, cdhashes: [{arch: 'arm64', cdhash: sha256!.cdhash}]}), undefined)
      assert.equal(await installedDamage(ctx, {...installed, cdhashes: [{arch: 'arm64', cdhash: sha1!.cdhash}]}), undefined, 'a receipt written before esdctl reported the strongest cdhash')
      assert.equal(await installedDamage(ctx, {...installed, cdhashes: [{arch: 'arm64', cdhash: '00'.repeat(20)}]}),
        `${app} is not the code the receipt recorded (cdhashes arm64:${sha256!.cdhash}, recorded arm64:${'00'.repeat(20)})`)
      assert.equal(await installedDamage(ctx, {...installed, cdhashes: []}), `${app} is not the code the receipt recorded (cdhashes arm64:${sha256!.cdhash}, recorded none)`)
    })

    it('a bundle that no longer verifies: the first error is the reason, past any warning before it', async () => {
      const src = join(root, `nort${n++}`)
      mkdirSync(src)
      // Without the hardened runtime a Developer ID build draws a warning, which comes before the seal's error.
      await buildBundle({dir: src, name: NAME, bundleId: `com.example.${NAME}`, teamId: TEAM, identity, version: '1.0.0', signOverrides: {flags: 0}})
      const installed = {...record, name: `${NAME}${n++}`}
      const app = PrefixLayout.ofRecord(installed, root).app
      mkdirSync(dirname(app), {recursive: true})
      cpSync(join(src, `${NAME}.app`), app, {recursive: true, verbatimSymlinks: true})
      writeFileSync(join(app, 'Contents', 'added.txt'), 'not sealed')
      const report = await verifyPath(app, ctx.verifyOptions)
      assert.deepEqual(report.findings.map((f) => f.severity), ['warning', 'error'], JSON.stringify(report.findings))
      const [, error] = report.findings
      assert.equal(await installedDamage(ctx, installed), `${app} no longer verifies (${error!.message})`)
    })
  })

  describe('judgeRolledForward', () => {
    const journal = (fields: Partial<Journal>): Journal => ({action: 'rollback', phase: 'committed', steps: [], ...fields}) as Journal
    const refusal = (p: Promise<void>) => p.then(() => undefined, (e: unknown) => e)

    /** A root of its own with the bundle in place at the prefix and the live receipt `rec` (or none). */
    function installed(rec: InstallRecord | undefined, tamper = false, bundle = join(payload, `${NAME}.app`)): {c: LifecycleContext; layout: PrefixLayout} {
      const r = makeRoot()
      const c = {...ctx, root: r}
      const layout = PrefixLayout.ofRecord(record, r)
      mkdirSync(layout.prefix, {recursive: true})
      cpSync(bundle, join(layout.prefix, layout.bundle), {recursive: true, verbatimSymlinks: true})
      if (tamper) {
        const exe = join(layout.prefix, layout.bundle, 'Contents', 'MacOS', NAME)
        const bytes = readFileSync(exe)
        bytes.writeUInt8(bytes[bytes.length >> 2]! ^ 0xff, bytes.length >> 2)
        writeFileSync(exe, bytes)
      }
      if (rec) {
        mkdirSync(dirname(layout.receipt), {recursive: true})
        writeFileSync(layout.receipt, JSON.stringify(rec))
      }
      after(() => rmSync(r, {recursive: true, force: true}))
      return {c, layout}
    }

    it('only a committed rollback is judged: other actions and phases pass untouched, even over broken code', async () => {
      const {c, layout} = installed(record, true)
      for (const j of [journal({action: 'upgrade'}), journal({phase: 'prepared' as Journal['phase']}), journal({action: 'install', phase: 'committed'})]) {
        await judgeRolledForward(c, fs, layout, j)
      }
      const e = await refusal(judgeRolledForward(c, fs, layout, journal({})))
      assert.ok(e instanceof StepFailure, String(e))
    })

    it('the restored bundle, intact, passes; changed, it is refused (exit 3) naming the version, the first error and what to do', async () => {
      const intact = installed(record)
      await judgeRolledForward(intact.c, fs, intact.layout, journal({}))
      const {c, layout} = installed(record, true)
      const e = await refusal(judgeRolledForward(c, fs, layout, journal({})))
      assert.ok(e instanceof StepFailure, String(e))
      assert.equal(e.exitCode, ExitCode.verificationFailed)
      const first = e.findings!.find((f) => f.severity === 'error')!
      assert.equal(e.message, `the rollback had committed, but version 1.0.0 it put back no longer passes verification (${first.message} [${first.id}]), so esdctl will not finish putting it in place. Stop it with \`launchctl bootout system/${LABEL}\`, then move the journal aside and reinstall the version you want with esdctl install --allow-downgrade <payload>`)
    })

    it('the refusal names the first error, not a warning before it; a journal\'s other steps do not make it a legacy rollback', async () => {
      // Info.plist without CFBundleVersion: the warning bundle.version-missing comes before the slice's error.
      const dir = join(root, `warned${n++}`)
      mkdirSync(dir)
      const info = Buffer.from(plist.build({CFBundleIdentifier: `com.example.${NAME}`, CFBundleExecutable: NAME, CFBundleShortVersionString: '1.0.0', CFBundlePackageType: 'APPL'}))
      await buildBundle({dir, name: NAME, bundleId: `com.example.${NAME}`, teamId: TEAM, identity, version: '1.0.0', extraFiles: {'Info.plist': info}, signOverrides: {infoPlist: info}})
      const {c, layout} = installed(record, true, join(dir, `${NAME}.app`))
      const steps = [{id: 'move-bundle', kind: 'move', moves: []}, {id: 'links', kind: 'links'}] as unknown as Journal['steps']
      const e = await refusal(judgeRolledForward(c, fs, layout, journal({steps})))
      assert.ok(e instanceof StepFailure, String(e))
      assert.deepEqual(e.findings!.map((f) => f.severity).slice(0, 2), ['warning', 'error'])
      const first = e.findings!.find((f) => f.severity === 'error')!
      assert.ok(e.message.includes(`(${first.message} [${first.id}])`), e.message)
    })

    it('no live receipt: nothing to judge against, nothing refused', async () => {
      const {c, layout} = installed(undefined, true)
      await judgeRolledForward(c, fs, layout, journal({}))
    })

    it('a rollback to the legacy install: the files it put back are judged against the receipt parked in its scratch directory', async () => {
      const {c, layout} = installed(undefined)
      const scratch = join(layout.staging, 'tx1')
      const parkedReceipt = join(scratch, 'receipt.json')
      const parkedSlot = join(scratch, 'previous')
      const exe = join(parkedSlot, 'legacy', 'bin', layout.name)
      const restoredExe = join(layout.prefix, 'bin', layout.name)
      mkdirSync(dirname(restoredExe), {recursive: true})
      writeFileSync(restoredExe, '#!/bin/sh\n')
      chmodSync(restoredExe, 0o755)
      const recordedSha = await fs.sha256(restoredExe)
      const parked = {...record, adopted: {files: [{path: `legacy/bin/${layout.name}`, sha256: recordedSha}]}}
      const steps = [
        {id: 'stop', kind: 'bootout', label: LABEL},
        {id: 'park', kind: 'move', moves: [{from: '/elsewhere', to: '/x'}, {from: layout.receipt, to: parkedReceipt}]},
        {id: 'restore-legacy', kind: 'move', moves: [{from: exe, to: restoredExe}]},
      ] as unknown as Journal['steps']
      // Once the finish has removed the scratch directory, there is nothing to judge against.
      await judgeRolledForward(c, fs, layout, journal({steps}))
      mkdirSync(scratch, {recursive: true})
      writeFileSync(parkedReceipt, JSON.stringify(parked))
      await judgeRolledForward(c, fs, layout, journal({steps}))

      writeFileSync(restoredExe, '#!/bin/sh\nexec evil\n')
      const e = await refusal(judgeRolledForward(c, fs, layout, journal({steps})))
      assert.ok(e instanceof StepFailure, String(e))
      assert.equal(e.exitCode, ExitCode.verificationFailed)
      assert.match(e.message, new RegExp(`^the rollback had committed, but the legacy ${join(layout.system.bin, layout.name).replace(/[.]/g, '\\.')} it put back no longer passes verification \\(${restoredExe.replace(/[.]/g, '\\.')} has SHA-256 `))
      assert.deepEqual(e.findings!.map((f) => f.id), ['rollback.legacy-changed'])

      // Without the receipt's move or without the restore step there is no legacy rollback to judge.
      const noPark = steps.filter((s) => s.id !== 'park')
      await judgeRolledForward(c, fs, layout, journal({steps: [...noPark, {id: 'other', kind: 'move', moves: []} as unknown as Journal['steps'][number]]}))
      const restoreNotMove = steps.map((s) => (s.id === 'restore-legacy' ? ({...s, kind: 'links'} as unknown as Journal['steps'][number]) : s))
      const e2 = await refusal(judgeRolledForward(c, fs, layout, journal({steps: restoreNotMove})))
      assert.equal(e2, undefined, 'a restore step that moves nothing judges nothing')
    })
  })
})
