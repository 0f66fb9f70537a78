import assert from 'node:assert/strict'
import {cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {ExitCode} from '../../src/exit-codes.js'
import * as lifecycle from '../../src/lifecycle/index.js'
import {isForeignJournal, readJournal, type Journal} from '../../src/lifecycle/journal.js'
import {judgeRolledForward} from '../../src/lifecycle/judge-rolled-forward.js'
import {StepFailure} from '../../src/lifecycle/lifecycle-error.js'
import {PrefixLayout} from '../../src/layout/prefix-layout.js'
import type {TrustStore} from '../../src/trust/trust-store.js'
import {startFakeLaunchd, type FakeLaunchd} from '../doubles/fake-launchd/fake-launchd.js'
import {recoverWithStart} from '../support/lifecycle-assertions.js'
import {buildPayload, makeRoot, sampleDaemonPrograms, testContext, testIdentity} from '../support/lifecycle-fixture.js'
import {inspectInstalled, runRunner} from '../support/lifecycle-runs.js'

const NAME = 'thed'
const LABEL = 'com.example.thed.rejudge'

/**
 * A rollback killed after its commit is finished by the next run, and the version it restored stays
 * installed (launchd starts it at every boot). That code is judged again before the finish, as the
 * rollback judged it before its journal opened: killed at every boundary after the commit, a
 * restored bundle changed since is refused (exit 3, the journal kept), an intact one is finished.
 * Killed before the commit, the rollback is undone (the newer version comes back), and nothing is
 * judged: the restored target is not what will run.
 */
describe('lifecycle crash safety: a rollback finished from its journal is judged again', function () {
  this.timeout(600_000)
  let launchd: FakeLaunchd
  let trust: TrustStore
  let template: string
  const cleanup: string[] = []

  before(async () => {
    const pki = await testIdentity()
    trust = pki.trust
    launchd = await startFakeLaunchd({programs: sampleDaemonPrograms([NAME])})
    const base = makeRoot()
    cleanup.push(base)
    const v1 = await buildPayload({dir: join(base, 'p1'), name: NAME, label: LABEL, version: '1.0.0', identity: pki.identity})
    const v2 = await buildPayload({dir: join(base, 'p2'), name: NAME, label: LABEL, version: '2.0.0', identity: pki.identity})
    template = makeRoot()
    cleanup.push(template)
    const ctx = testContext({root: template, launchctlPath: launchd.launchctlPath, trust})
    assert.equal((await lifecycle.install(ctx, v1)).exitCode, 0)
    assert.equal((await lifecycle.upgrade(ctx, v2)).exitCode, 0)
    await ctx.launchctl.bootout(LABEL, {waitMs: 10_000})
  })
  after(async () => {
    await launchd.stop()
    for (const path of cleanup) rmSync(path, {recursive: true, force: true})
  })

  /** A copy of the installed 2.0.0 (1.0.0 in the slot), running, whose rollback is killed at boundary k. */
  async function killedRollback(k: number | undefined, countFile?: string): Promise<{ctx: ReturnType<typeof testContext>; layout: PrefixLayout; journal: Journal | undefined}> {
    const root = makeRoot()
    cleanup.push(root)
    cpSync(template, root, {recursive: true, preserveTimestamps: true, verbatimSymlinks: true})
    const ctx = testContext({root, launchctlPath: launchd.launchctlPath, trust})
    const layout = new PrefixLayout({name: NAME, label: LABEL, root})
    await ctx.launchctl.enable(LABEL)
    await ctx.launchctl.bootstrap(layout.launchdPlist)
    const run = await runRunner({root, launchctlPath: launchd.launchctlPath, trust, verb: 'rollback', target: NAME, ...(k !== undefined ? {killAt: k} : {}), ...(countFile ? {countFile} : {})})
    if (k !== undefined) assert.equal(run.signal, 'SIGKILL', `rollback k=${k} was not killed: ${run.stderr}`)
    const read = await readJournal(ctx.fs, layout.journal)
    assert.ok(read === undefined || !isForeignJournal(read))
    return {ctx, layout, journal: read}
  }

  /** Another build in place of the restored executable, written new and renamed over, as an attacker (or a bad disk tool) would. */
  function tamper(layout: PrefixLayout): void {
    const bytes = readFileSync(layout.executable)
    const at = Math.floor(bytes.length / 4)
    bytes[at] = bytes[at]! ^ 0xff
    writeFileSync(`${layout.executable}.new`, bytes, {mode: 0o755})
    renameSync(`${layout.executable}.new`, layout.executable)
  }

  async function free(ctx: ReturnType<typeof testContext>): Promise<void> {
    await ctx.launchctl.bootout(LABEL, {waitMs: 10_000}).catch(() => undefined)
  }

  it('killed after the commit, the restored version is judged before the finish: changed since, refused (exit 3) with the journal kept; intact, finished', async () => {
    const countFile = `${template}-count`
    cleanup.push(countFile)
    const probe = await killedRollback(undefined, countFile)
    await free(probe.ctx)
    const boundaries = Number(readFileSync(countFile, 'utf8'))
    let committed = 0
    for (let k = boundaries; k > boundaries - 6; k--) {
      const intact = await killedRollback(k)
      if (intact.journal?.phase !== 'committed') {
        await free(intact.ctx)
        continue
      }
      committed++
      await judgeRolledForward(intact.ctx, intact.ctx.fs, intact.layout, intact.journal)
      await recoverWithStart(intact.ctx, NAME)
      assert.equal((await inspectInstalled(intact.ctx, intact.layout)).version, '1.0.0', `k=${k}: the rollback is finished`)
      await free(intact.ctx)

      const changed = await killedRollback(k)
      tamper(changed.layout)
      const e = await judgeRolledForward(changed.ctx, changed.ctx.fs, changed.layout, changed.journal!).then(() => undefined, (err: unknown) => err)
      assert.ok(e instanceof StepFailure, `k=${k}: a changed restored bundle is refused, got ${String(e)}`)
      assert.equal(e.exitCode, ExitCode.verificationFailed)
      assert.match(e.message, /the rollback had committed, but version 1\.0\.0 it put back no longer passes verification/)
      assert.ok((e.findings ?? []).some((f) => f.severity === 'error'), JSON.stringify(e.findings))
      assert.ok(existsSync(changed.layout.journal), 'judging changes nothing: the journal stays')
      await free(changed.ctx)
    }
    assert.ok(committed >= 2, `${committed} boundaries after the commit were tried`)
  })

  it('killed before the commit, the rollback is undone and nothing is judged: the restored target does not stay', async () => {
    const killed = await killedRollback(8)
    assert.ok(killed.journal !== undefined && killed.journal.phase !== 'committed', `k=8 is before the commit: ${killed.journal?.phase}`)
    tamper(new PrefixLayout({name: NAME, label: LABEL, root: killed.ctx.root}))
    await judgeRolledForward(killed.ctx, killed.ctx.fs, killed.layout, killed.journal)
    await free(killed.ctx)
  })

  it("the admin's live etc/ is not judged again: a link the admin put there does not stop finishing a committed rollback", async () => {
    const countFile = `${template}-count3`
    cleanup.push(countFile)
    await free((await killedRollback(undefined, countFile)).ctx)
    let k = Number(readFileSync(countFile, 'utf8'))
    let killed = await killedRollback(k)
    while (killed.journal?.phase !== 'committed') { await free(killed.ctx); killed = await killedRollback(--k) }
    mkdirSync(join(killed.layout.prefix, 'etc'), {recursive: true})
    symlinkSync('/etc/hosts', join(killed.layout.prefix, 'etc', 'admin-link.conf'))
    await judgeRolledForward(killed.ctx, killed.ctx.fs, killed.layout, killed.journal)
    await recoverWithStart(killed.ctx, NAME)
    assert.equal((await inspectInstalled(killed.ctx, killed.layout)).version, '1.0.0')
    await free(killed.ctx)
  })

  it('the next run finishes only what still passes: a changed restored bundle stops recovery (exit 3), the journal kept', async () => {
    const countFile = `${template}-count2`
    cleanup.push(countFile)
    await free((await killedRollback(undefined, countFile)).ctx)
    const boundaries = Number(readFileSync(countFile, 'utf8'))
    let k = boundaries
    let killed = await killedRollback(k)
    while (killed.journal?.phase !== 'committed') { await free(killed.ctx); killed = await killedRollback(--k) }
    tamper(killed.layout)
    const e = await lifecycle.start(killed.ctx, NAME).then(() => undefined, (err: unknown) => err)
    assert.ok(e instanceof lifecycle.LifecycleError, String(e))
    assert.equal(e.exitCode, ExitCode.verificationFailed)
    assert.match(e.message, /could not be recovered: the rollback had committed, but version 1\.0\.0 it put back no longer passes verification/)
    assert.ok(existsSync(killed.layout.journal))
    await free(killed.ctx)
  })
})
