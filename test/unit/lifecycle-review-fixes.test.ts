import assert from 'node:assert/strict'
import {appendFileSync, cpSync, mkdirSync, readlinkSync, symlinkSync, unlinkSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {ExitCode} from '../../src/exit-codes.js'
import * as lifecycle from '../../src/lifecycle/index.js'
import {expectFinding} from '../support/expect-finding.js'
import {lifecycleWorlds, snapshotTree, type LifecycleWorld} from '../support/lifecycle-fixture.js'
import {writeSampleDaemonPlist} from '../doubles/fake-launchd/daemon-plist.js'

const NAME = 'thed'

describe('lifecycle: review fixes (repair keeps the rollback slot, rollback judges the slot)', function () {
  const env = lifecycleWorlds(NAME, {labelPrefix: 'com.example.thed.review', defaultEtc: () => ({'thed.conf': 'x\n'})})

  async function stop(w: LifecycleWorld): Promise<void> {
    await w.ctx.launchctl.bootout(w.label, {waitMs: 10_000}).catch(() => undefined)
  }

  async function upgraded(w: LifecycleWorld): Promise<{v1: string; v2: string}> {
    const v1 = await w.payload('1.0.0')
    const v2 = await w.payload('2.0.0')
    assert.equal((await lifecycle.install(w.ctx, v1)).exitCode, ExitCode.ok)
    const up = await lifecycle.upgrade(w.ctx, v2)
    assert.equal(up.exitCode, ExitCode.ok, up.message)
    return {v1, v2}
  }

  it('a same-version repair keeps the older version in the rollback slot; rollback then returns to it', async () => {
    const w = env.world()
    const {v1, v2} = await upgraded(w)
    const slotBefore = snapshotTree(w.layout.rollbackSlot)
    appendFileSync(w.layout.executable, Buffer.from('tampered'))
    const repaired = await lifecycle.install(w.ctx, v2)
    assert.equal(repaired.exitCode, ExitCode.ok, repaired.message)
    assert.match(repaired.message, /damaged copy was discarded and the rollback slot kept/)
    assert.deepEqual(snapshotTree(w.layout.rollbackSlot), slotBefore, 'the slot still holds 1.0.0, byte for byte')
    assert.deepEqual(readFileSync(w.layout.executable), readFileSync(join(v2, `${NAME}.app`, 'Contents', 'MacOS', NAME)))
    const back = await lifecycle.rollback(w.ctx, NAME)
    assert.equal(back.exitCode, ExitCode.ok, back.message)
    assert.equal(back.toVersion, '1.0.0')
    assert.deepEqual(readFileSync(w.layout.executable), readFileSync(join(v1, `${NAME}.app`, 'Contents', 'MacOS', NAME)))
    await stop(w)
  })

  it('rollback refuses (exit 3, the findings, nothing changed) a slot bundle whose code was changed', async () => {
    const w = env.world()
    await upgraded(w)
    const slotExe = join(w.layout.rollbackSlot, `${NAME}.app`, 'Contents', 'MacOS', NAME)
    const bytes = readFileSync(slotExe)
    const at = 0x2000 // inside the 16 KiB of code the fixture signs: its page hash no longer matches
    bytes[at] = bytes[at]! ^ 0xff
    writeFileSync(slotExe, bytes)
    const before = snapshotTree(w.root)
    const dry = await lifecycle.rollback(w.ctx, NAME, {dryRun: true})
    assert.equal(dry.exitCode, ExitCode.verificationFailed, dry.message)
    const back = await lifecycle.rollback(w.ctx, NAME)
    assert.equal(back.exitCode, ExitCode.verificationFailed, back.message)
    assert.match(back.message, /rollback slot's thed\.app \(version 1\.0\.0\) failed verification; nothing was changed/)
    assert.ok((back.findings ?? []).some((f) => f.severity === 'error'), JSON.stringify(back.findings))
    assert.deepEqual(snapshotTree(w.root), before)
    await stop(w)
  })

  it('rollback refuses a validly signed slot bundle that is not the build its receipt recorded', async () => {
    const w = env.world()
    await upgraded(w)
    const other = await w.payload('1.0.0', {})
    const slotApp = join(w.layout.rollbackSlot, `${NAME}.app`)
    const mode = statSync(slotApp).mode
    rmSync(slotApp, {recursive: true})
    cpSync(join(other, `${NAME}.app`), slotApp, {recursive: true})
    assert.equal(statSync(slotApp).mode, mode)
    const before = snapshotTree(w.root)
    const back = await lifecycle.rollback(w.ctx, NAME)
    expectFinding(back, {id: 'rollback.slot-not-recorded', severity: 'error', exitCode: ExitCode.verificationFailed})
    assert.deepEqual(snapshotTree(w.root), before)
    await stop(w)
  })

  describe('a plist or job under the label that esdctl did not install and does not recognise as legacy', () => {
    function foreignPlist(w: LifecycleWorld): string {
      mkdirSync(w.layout.launchDaemonsDir, {recursive: true})
      const xml = `<?xml version="1.0"?><plist version="1.0"><dict><key>Label</key><string>${w.label}</string><key>Program</key><string>/usr/local/libexec/otherd</string></dict></plist>`
      writeFileSync(w.layout.launchdPlist, xml)
      return xml
    }

    it('install and its dry run refuse (exit 4) naming the plist, its Program and what to do; nothing changes', async () => {
      const w = env.world()
      const xml = foreignPlist(w)
      const payload = await w.payload('1.0.0')
      const before = snapshotTree(w.root)
      for (const dryRun of [true, false]) {
        const r = await lifecycle.install(w.ctx, payload, {dryRun}).catch((e: unknown) => e as {exitCode: number; message: string})
        assert.equal(r.exitCode, ExitCode.badInput, r.message)
        assert.ok(r.message.includes(w.layout.launchdPlist), r.message)
        assert.match(r.message, /Program "\/usr\/local\/libexec\/otherd"/)
        assert.match(r.message, /does not take over a job it did not install.*choose another label/)
      }
      assert.deepEqual(snapshotTree(w.root), before)
      assert.equal(readFileSync(w.layout.launchdPlist, 'utf8'), xml)
    })

    it('a job loaded in launchd under the label, with no plist in the image, is refused the same way, naming the program launchd reports', async () => {
      const w = env.world()
      const elsewhere = writeSampleDaemonPlist(env.launchd.stateDir, {label: w.label})
      await w.ctx.launchctl.bootstrap(elsewhere)
      try {
        const payload = await w.payload('1.0.0')
        const before = snapshotTree(w.root)
        for (const dryRun of [true, false]) {
          const r = await lifecycle.install(w.ctx, payload, {dryRun}).catch((e: unknown) => e as {exitCode: number; message: string})
          assert.equal(r.exitCode, ExitCode.badInput, r.message)
          assert.match(r.message, new RegExp(`the loaded launchd job ${w.label.replace(/\./g, '\\.')} \\(it runs "`))
        }
        assert.deepEqual(snapshotTree(w.root), before)
      } finally {
        await stop(w)
      }
    })

    it('a legacy bin/<name> that is a symbolic link (even inside the prefix) is not adopted: refused the same way', async () => {
      const w = env.world()
      foreignPlist(w)
      mkdirSync(join(w.layout.prefix, 'libexec'), {recursive: true})
      writeFileSync(join(w.layout.prefix, 'libexec', NAME), 'old daemon')
      mkdirSync(w.layout.bin, {recursive: true})
      symlinkSync(`../libexec/${NAME}`, join(w.layout.bin, NAME))
      const payload = await w.payload('1.0.0')
      const before = snapshotTree(w.root)
      const r = await lifecycle.install(w.ctx, payload).catch((e: unknown) => e as {exitCode: number; message: string})
      assert.equal(r.exitCode, ExitCode.badInput, r.message)
      assert.match(r.message, /plain executable file that job runs \(not a symbolic link\) so esdctl adopts it/)
      assert.deepEqual(snapshotTree(w.root), before)
    })
  })

  describe('the same version again repairs the plist and links, and is a no-op only when all is intact', () => {
    it('a missing plist is written again, said so; then the same version is a no-op', async () => {
      const w = env.world()
      const payload = await w.payload('1.0.0')
      assert.equal((await lifecycle.install(w.ctx, payload)).exitCode, ExitCode.ok)
      const plist = readFileSync(w.layout.launchdPlist)
      unlinkSync(w.layout.launchdPlist)
      const dry = await lifecycle.install(w.ctx, payload, {dryRun: true})
      assert.match(dry.message, /would reinstall thed 1\.0\.0 over a damaged install \(.*plist is missing/)
      const repaired = await lifecycle.install(w.ctx, payload)
      assert.equal(repaired.exitCode, ExitCode.ok, repaired.message)
      assert.equal(repaired.changed, true)
      assert.match(repaired.message, /plist is missing/)
      assert.deepEqual(readFileSync(w.layout.launchdPlist), plist)
      const again = await lifecycle.install(w.ctx, payload)
      assert.equal(again.changed, false, again.message)
      await stop(w)
    })

    it('a bin link pointing elsewhere is pointed back at the bundle', async () => {
      const w = env.world()
      const payload = await w.payload('1.0.0')
      assert.equal((await lifecycle.install(w.ctx, payload)).exitCode, ExitCode.ok)
      const link = join(w.layout.bin, NAME)
      const text = readlinkSync(link)
      unlinkSync(link)
      symlinkSync('/etc/passwd', link)
      const repaired = await lifecycle.install(w.ctx, payload)
      assert.equal(repaired.exitCode, ExitCode.ok, repaired.message)
      assert.equal(repaired.changed, true)
      assert.match(repaired.message, /points at \/etc\/passwd/)
      assert.equal(readlinkSync(link), text)
      assert.equal((await lifecycle.install(w.ctx, payload)).changed, false)
      await stop(w)
    })
  })
})
