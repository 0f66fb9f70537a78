import assert from 'node:assert/strict'
import {rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {execa} from 'execa'
import type {LifecycleJson} from '../../src/cli/lifecycle-command.js'
import {ExitCode} from '../../src/exit-codes.js'
import type {LifecycleResult} from '../../src/lifecycle/context.js'
import * as lifecycle from '../../src/lifecycle/index.js'
import {lifecycleWorlds, makeRoot, snapshotTree} from '../support/lifecycle-fixture.js'
import {extractBundleFromPkg, KARABINER_DAEMON_IN_PAYLOAD, realPackage} from '../support/lifecycle-pkg-payload.js'
import {REPO_ROOT} from '../support/real-artifacts.js'
import {skipBecause} from '../support/skip.js'

const NAME = 'thed'

/**
 * A dry run's contract for check-mode tools (Ansible's check mode, Puppet's noop, Chef's why-run):
 * `dryRun: true`, and `changed` says whether the same command without --dry-run would change the
 * machine. Each verb is asked once where the real run would change something and once where it
 * would not, and the dry run itself never changes anything.
 */
function expectDryRun(r: LifecycleResult | LifecycleJson, wouldChange: boolean, what: string): void {
  assert.equal(r.changed, wouldChange, `${what}: changed says whether the real run would change the machine: ${r.message}`)
  assert.equal(r.dryRun, true, `${what}: dryRun is said: ${r.message}`)
}

describe('dry run: changed says whether the real run would change the machine', function () {
  describe('the library, every verb, with the fake launchd', function () {
    this.timeout(120_000)
    const env = lifecycleWorlds(NAME, {labelPrefix: 'com.example.thed.dry', defaultEtc: (version) => ({'thed.conf': `version=${version}\n`})})

    /** Runs a dry run, checks it left the tree byte-identical, and returns its result. */
    async function dry(root: string, run: () => Promise<LifecycleResult>): Promise<LifecycleResult> {
      const before = snapshotTree(root)
      const r = await run()
      assert.deepEqual(snapshotTree(root), before, `${r.action} --dry-run changed nothing`)
      return r
    }

    it('install: over a fresh root it would change; the same version installed and intact would not', async () => {
      const w = env.world()
      const v1 = await w.payload('1.0.0')
      const fresh = await dry(w.root, () => lifecycle.install(w.ctx, v1, {dryRun: true}))
      assert.equal(fresh.exitCode, ExitCode.ok, fresh.message)
      expectDryRun(fresh, true, 'install over a fresh root')
      assert.equal((await lifecycle.install(w.ctx, v1)).changed, true)
      const same = await dry(w.root, () => lifecycle.install(w.ctx, v1, {dryRun: true}))
      assert.equal(same.exitCode, ExitCode.ok, same.message)
      expectDryRun(same, false, 'install of the installed version')
      assert.equal((await lifecycle.install(w.ctx, v1)).changed, false, 'and the real run agrees')
    })

    it('upgrade: to a newer version it would change; to the installed version it would not', async () => {
      const w = env.world()
      const v1 = await w.payload('1.0.0')
      await lifecycle.install(w.ctx, v1)
      expectDryRun(await dry(w.root, async () => lifecycle.upgrade(w.ctx, await w.payload('1.1.0'), {dryRun: true})), true, 'upgrade to a newer version')
      expectDryRun(await dry(w.root, () => lifecycle.upgrade(w.ctx, v1, {dryRun: true})), false, 'upgrade to the installed version')
    })

    it('a refused dry run (a downgrade without allowDowngrade) would not change the machine either', async () => {
      const w = env.world()
      await lifecycle.install(w.ctx, await w.payload('2.0.0'))
      const older = await dry(w.root, async () => lifecycle.upgrade(w.ctx, await w.payload('1.0.0'), {dryRun: true}))
      assert.equal(older.exitCode, ExitCode.badInput, older.message)
      expectDryRun(older, false, 'a refused downgrade')
    })

    it('rollback: with a previous version in the slot it would change', async () => {
      const w = env.world()
      await lifecycle.install(w.ctx, await w.payload('1.0.0'))
      await lifecycle.upgrade(w.ctx, await w.payload('1.1.0'))
      const back = await dry(w.root, () => lifecycle.rollback(w.ctx, NAME, {dryRun: true}))
      assert.equal(back.exitCode, ExitCode.ok, back.message)
      expectDryRun(back, true, 'rollback with a full slot')
    })

    it('uninstall: an installed daemon it would remove; one not installed it would not', async () => {
      const w = env.world()
      expectDryRun(await dry(w.root, () => lifecycle.uninstall(w.ctx, NAME, {dryRun: true})), false, 'uninstall of a name esdctl never installed')
      await lifecycle.install(w.ctx, await w.payload('1.0.0'))
      expectDryRun(await dry(w.root, () => lifecycle.uninstall(w.ctx, NAME, {dryRun: true})), true, 'uninstall of an installed daemon')
      await lifecycle.uninstall(w.ctx, NAME)
      expectDryRun(await dry(w.root, () => lifecycle.uninstall(w.ctx, NAME, {dryRun: true, purge: false})), false, 'uninstall again')
    })

    it('stop, start, restart: each would change only what is not already so (restart always would)', async () => {
      const w = env.world()
      await lifecycle.install(w.ctx, await w.payload('1.0.0'))
      const loaded = async () => (await w.ctx.launchctl.print(w.label))?.state
      assert.equal(await loaded(), 'running')
      expectDryRun(await dry(w.root, () => lifecycle.start(w.ctx, NAME, {dryRun: true})), false, 'start of a running daemon')
      expectDryRun(await dry(w.root, () => lifecycle.stop(w.ctx, NAME, {dryRun: true})), true, 'stop of a running daemon')
      expectDryRun(await dry(w.root, () => lifecycle.restart(w.ctx, NAME, {dryRun: true})), true, 'restart of a running daemon')
      assert.equal(await loaded(), 'running', 'none of the dry runs touched launchd')
      await lifecycle.stop(w.ctx, NAME)
      expectDryRun(await dry(w.root, () => lifecycle.stop(w.ctx, NAME, {dryRun: true})), false, 'stop of a stopped daemon')
      expectDryRun(await dry(w.root, () => lifecycle.start(w.ctx, NAME, {dryRun: true})), true, 'start of a stopped daemon')
      expectDryRun(await dry(w.root, () => lifecycle.restart(w.ctx, NAME, {dryRun: true})), true, 'restart of a stopped daemon')
      assert.equal(await loaded(), undefined, 'still stopped')
    })

    it('a real run says dryRun nowhere: changed keeps meaning what did change', async () => {
      const w = env.world()
      const r = await lifecycle.install(w.ctx, await w.payload('1.0.0'))
      assert.equal(r.changed, true)
      assert.equal(r.dryRun, undefined)
    })
  })

  /**
   * The commands as processes, as a fleet tool runs them, with a real notarized daemon (Karabiner's,
   * from pqrs-org's installer packages in the shared fixtures) verified against Apple's roots, in an
   * offline --root image.
   */
  describe('esdctl --dry-run --json, with a real daemon in an offline --root image', function () {
    this.timeout(180_000)
    const DAEMON = 'Karabiner-VirtualHIDDevice-Daemon'
    const LABEL = 'org.pqrs.Karabiner-VirtualHIDDevice-Daemon'
    const paths: string[] = []
    const payloads: Record<string, string> = {}
    let root = ''

    before(async function () {
      const packages = {'6.0.0': realPackage('6.0.0'), '6.10.0': realPackage('6.10.0')}
      if (packages['6.0.0'] === undefined || packages['6.10.0'] === undefined) skipBecause(this, 'fixtures-absent')
      root = makeRoot()
      paths.push(root)
      for (const [version, pkg] of Object.entries(packages)) {
        const dir = `${root}-payload-${version}`
        paths.push(dir)
        await extractBundleFromPkg(pkg!, KARABINER_DAEMON_IN_PAYLOAD, join(dir, `${DAEMON}.app`))
        writeFileSync(join(dir, 'esdctl.json'), JSON.stringify({name: DAEMON, label: LABEL, bundleId: LABEL, teamId: 'G43BCU2T37', RunAtLoad: true, KeepAlive: true}))
        payloads[version] = dir
      }
    })
    after(() => {
      for (const p of paths) rmSync(p, {recursive: true, force: true})
    })

    async function esdctl(...args: string[]): Promise<{exitCode: number; out: LifecycleJson}> {
      const r = await execa(process.execPath, [join(REPO_ROOT, 'bin', 'run.js'), ...args.slice(0, 1), '--root', root, '--json', ...args.slice(1)], {reject: false, env: {NODE_OPTIONS: '', NODE_PATH: ''}})
      return {exitCode: r.exitCode ?? -1, out: JSON.parse(r.stdout) as LifecycleJson}
    }

    /** The dry run as a process: exit 0, the contract, and the image byte-identical. */
    async function dryRun(wouldChange: boolean, ...args: string[]): Promise<void> {
      const before = snapshotTree(root)
      const {exitCode, out} = await esdctl(...args, '--dry-run')
      assert.equal(exitCode, 0, out.msg)
      expectDryRun(out, wouldChange, args.join(' '))
      assert.equal(out.failed, false)
      assert.deepEqual(snapshotTree(root), before, `${args[0]} --dry-run changed nothing`)
    }

    it('install, upgrade, rollback and uninstall: would change where the real run does, not where it does not', async () => {
      await dryRun(true, 'install', payloads['6.0.0']!)
      const installed = await esdctl('install', payloads['6.0.0']!)
      assert.equal(installed.exitCode, 0, installed.out.msg)
      assert.deepEqual([installed.out.changed, installed.out.dryRun], [true, false])
      await dryRun(false, 'install', payloads['6.0.0']!)
      await dryRun(false, 'upgrade', payloads['6.0.0']!)
      await dryRun(true, 'upgrade', payloads['6.10.0']!)
      assert.equal((await esdctl('upgrade', payloads['6.10.0']!)).out.changed, true)
      await dryRun(true, 'rollback', DAEMON)
      await dryRun(true, 'uninstall', DAEMON)
      assert.equal((await esdctl('uninstall', DAEMON)).out.changed, true)
      await dryRun(false, 'uninstall', DAEMON)
    })

    it('a dry run the real run would refuse: failed, rc, dryRun, and changed false', async () => {
      const {exitCode, out} = await esdctl('rollback', DAEMON, '--dry-run')
      assert.equal(exitCode, ExitCode.badInput, out.msg)
      assert.deepEqual([out.failed, out.rc, out.dryRun, out.changed], [true, ExitCode.badInput, true, false])
    })
  })
})
