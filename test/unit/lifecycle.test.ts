import assert from 'node:assert/strict'
import {existsSync, lstatSync, readFileSync, readlinkSync, rmSync, writeFileSync, mkdirSync} from 'node:fs'
import {join} from 'node:path'
import {ExitCode} from '../../src/exit-codes.js'
import * as lifecycle from '../../src/lifecycle/index.js'
import {readInstallRecord, readRegistry} from '../../src/lifecycle/index.js'
import {lifecycleWorlds, snapshotTree, type LifecycleWorld} from '../support/lifecycle-fixture.js'

const NAME = 'thed'

describe('lifecycle: install, upgrade, rollback, uninstall, start, stop, restart (fake launchd, temporary --root)', function () {
  const env = lifecycleWorlds(NAME, {labelPrefix: 'com.example.thed.t', defaultEtc: (version) => ({'thed.conf': `version=${version}\n`})})
  const world = () => env.world()
  type World = LifecycleWorld

  async function runningPid(w: World): Promise<number | undefined> {
    const info = await w.ctx.launchctl.print(w.label)
    return info?.state === 'running' ? info.pid : undefined
  }

  it('installs: bundle, bin link, plist with the real Program, record, registry, running daemon', async () => {
    const w = world()
    const result = await lifecycle.install(w.ctx, await w.payload('1.0.0'))
    assert.equal(result.exitCode, ExitCode.ok, result.message)
    assert.equal(result.changed, true)
    assert.equal(result.toVersion, '1.0.0')
    assert.ok(result.notes?.some((note) => note.includes('codesign')), 'no codesign here must be noted, not passed silently')
    assert.ok(lstatSync(w.layout.app).isDirectory())
    assert.equal(readlinkSync(w.layout.binLink), `../${NAME}.app/Contents/MacOS/${NAME}`)
    const plist = readFileSync(w.layout.launchdPlist, 'utf8')
    assert.match(plist, new RegExp(`<key>Program</key>\\s*<string>/opt/${NAME}/${NAME}.app/Contents/MacOS/${NAME}</string>`))
    assert.equal(lstatSync(w.layout.launchdPlist).mode & 0o777, 0o644)
    const record = await readInstallRecord(w.layout)
    assert.equal(record?.version, '1.0.0')
    assert.equal(record?.teamId, 'ABCDE12345')
    assert.equal(lstatSync(w.layout.receipt).mode & 0o777, 0o600)
    assert.deepEqual(Object.keys(record!.configHashes), ['thed.conf'])
    assert.deepEqual(await readRegistry(w.root), [{name: NAME, label: w.label, prefix: `/opt/${NAME}`}])
    assert.ok((await runningPid(w)) !== undefined, 'the daemon runs')
    assert.equal(existsSync(w.layout.journal), false)
    const audit = readFileSync(w.layout.auditLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    assert.equal(audit.at(-1)!['action'], 'install')
    assert.equal(audit.at(-1)!['outcome'], 'done')
    assert.equal(audit.at(-1)!['toVersion'], '1.0.0')
  })

  it('the same version again is a no-op (changed false, exit 0); a downgrade is refused without allowDowngrade', async () => {
    const w = world()
    await lifecycle.install(w.ctx, await w.payload('2.0.0'))
    const before = snapshotTree(w.root)
    const again = await lifecycle.install(w.ctx, await w.payload('2.0.0'))
    assert.equal(again.exitCode, ExitCode.ok)
    assert.equal(again.changed, false)
    assert.match(again.message, /already installed/)
    const older = await lifecycle.upgrade(w.ctx, await w.payload('1.0.0'))
    assert.equal(older.exitCode, ExitCode.badInput)
    assert.match(older.message, /refusing to downgrade thed from 2\.0\.0 to 1\.0\.0/)
    assert.deepEqual(snapshotTree(w.root), before)
    const dry = await lifecycle.upgrade(w.ctx, await w.payload('1.0.0'), {allowDowngrade: true, dryRun: true})
    assert.match(dry.message, /would downgrade thed from 2\.0\.0 to 1\.0\.0/)
    const forced = await lifecycle.upgrade(w.ctx, await w.payload('1.0.0'), {allowDowngrade: true})
    assert.equal(forced.exitCode, ExitCode.ok, forced.message)
    assert.equal((await readInstallRecord(w.layout))?.version, '1.0.0')
  })

  it('upgrade keeps an etc/ file the admin changed (new default beside it), replaces an untouched one, never touches var/; rollback swaps back', async () => {
    const w = world()
    await lifecycle.install(w.ctx, await w.payload('1.0.0', {etc: {'thed.conf': 'a=1\n', 'rules/base.rules': 'r=1\n'}}))
    const oldPid = await runningPid(w)
    writeFileSync(join(w.layout.etc, 'thed.conf'), 'a=admin\n')
    mkdirSync(w.layout.var, {recursive: true})
    writeFileSync(join(w.layout.var, 'state.db'), 'precious')
    const result = await lifecycle.upgrade(w.ctx, await w.payload('1.1.0', {etc: {'thed.conf': 'a=2\n', 'rules/base.rules': 'r=2\n'}}))
    assert.equal(result.exitCode, ExitCode.ok, result.message)
    assert.equal(result.fromVersion, '1.0.0')
    assert.equal(result.toVersion, '1.1.0')
    assert.equal(readFileSync(join(w.layout.etc, 'thed.conf'), 'utf8'), 'a=admin\n')
    assert.equal(readFileSync(join(w.layout.etc, 'thed.conf.default'), 'utf8'), 'a=2\n')
    assert.equal(readFileSync(join(w.layout.etc, 'rules/base.rules'), 'utf8'), 'r=2\n')
    assert.equal(existsSync(join(w.layout.etc, 'rules/base.rules.default')), false)
    assert.equal(readFileSync(join(w.layout.var, 'state.db'), 'utf8'), 'precious')
    const newPid = await runningPid(w)
    assert.ok(newPid !== undefined && newPid !== oldPid, 'a new process runs the new version')
    assert.equal((await readInstallRecord(w.layout))?.previous?.version, '1.0.0')
    assert.ok(existsSync(join(w.layout.rollbackSlot, `${NAME}.app`)))

    const back = await lifecycle.rollback(w.ctx, NAME)
    assert.equal(back.exitCode, ExitCode.ok, back.message)
    assert.equal(back.fromVersion, '1.1.0')
    assert.equal(back.toVersion, '1.0.0')
    assert.equal((await readInstallRecord(w.layout))?.version, '1.0.0')
    assert.ok((await runningPid(w)) !== undefined)
    assert.equal(readFileSync(join(w.layout.var, 'state.db'), 'utf8'), 'precious')
    // The restored version's shipped defaults come back: an untouched file is 1.0.0's again, the admin's own file
    // stays with 1.0.0's default beside it, never 1.1.0's.
    assert.equal(readFileSync(join(w.layout.etc, 'thed.conf'), 'utf8'), 'a=admin\n')
    assert.equal(readFileSync(join(w.layout.etc, 'thed.conf.default'), 'utf8'), 'a=1\n')
    assert.equal(readFileSync(join(w.layout.etc, 'rules/base.rules'), 'utf8'), 'r=1\n')
    assert.equal(existsSync(join(w.layout.etc, 'rules/base.rules.default')), false)
    const forth = await lifecycle.rollback(w.ctx, NAME)
    assert.equal(forth.exitCode, ExitCode.ok, forth.message)
    assert.equal((await readInstallRecord(w.layout))?.version, '1.1.0')
    assert.equal(readFileSync(join(w.layout.etc, 'thed.conf'), 'utf8'), 'a=admin\n')
    assert.equal(readFileSync(join(w.layout.etc, 'thed.conf.default'), 'utf8'), 'a=2\n')
    assert.equal(readFileSync(join(w.layout.etc, 'rules/base.rules'), 'utf8'), 'r=2\n')
  })

  it('rollback puts back only shipped defaults it can vouch for: a kept default changed since is refused (exit 3, nothing changes); a slot that kept none leaves etc/ as it is', async () => {
    const w = world()
    await lifecycle.install(w.ctx, await w.payload('1.0.0', {etc: {'thed.conf': 'a=1\n'}}))
    assert.equal((await lifecycle.upgrade(w.ctx, await w.payload('1.1.0', {etc: {'thed.conf': 'a=2\n'}}))).exitCode, ExitCode.ok)
    const kept = join(w.layout.slotDefaults, 'thed.conf')
    assert.equal(readFileSync(kept, 'utf8'), 'a=1\n')
    writeFileSync(kept, 'a=planted\n')
    const before = snapshotTree(w.root)
    const refused = await lifecycle.rollback(w.ctx, NAME).then(() => undefined, (e: unknown) => e)
    assert.ok(refused instanceof lifecycle.LifecycleError, String(refused))
    assert.equal(refused.exitCode, ExitCode.verificationFailed)
    assert.match(refused.message, /thed\.conf, the config default version 1\.0\.0 shipped, is not the file its receipt recorded; nothing was changed/)
    assert.deepEqual(Object.fromEntries(Object.entries(snapshotTree(w.root)).filter(([k]) => !k.includes('audit'))), Object.fromEntries(Object.entries(before).filter(([k]) => !k.includes('audit'))))
    rmSync(w.layout.slotDefaults, {recursive: true})
    const back = await lifecycle.rollback(w.ctx, NAME)
    assert.equal(back.exitCode, ExitCode.ok, back.message)
    assert.equal(readFileSync(join(w.layout.etc, 'thed.conf'), 'utf8'), 'a=2\n', 'nothing kept to put back: etc/ as it was')
    assert.ok(existsSync(w.layout.slotDefaults), "1.1.0's defaults went into the slot with it")
  })

  it('a new version that fails its health check is rolled back automatically: exit rolledBack, the old version runs', async () => {
    const w = world()
    await lifecycle.install(w.ctx, await w.payload('1.0.0'))
    const crashing = await w.payload('2.0.0', {manifest: {programArguments: ['--exit-after', '200', '--exit-code', '3'], healthCheck: {runningSeconds: 1}}})
    const result = await lifecycle.upgrade(w.ctx, crashing)
    assert.equal(result.exitCode, ExitCode.rolledBack, result.message)
    assert.equal(result.rolledBack, true)
    assert.match(result.message, /health check/)
    assert.match(result.message, /version 1\.0\.0 was restored and is running/)
    assert.equal((await readInstallRecord(w.layout))?.version, '1.0.0')
    assert.ok((await runningPid(w)) !== undefined)
    assert.doesNotMatch(readFileSync(w.layout.launchdPlist, 'utf8'), /exit-after/)
    assert.equal(existsSync(w.layout.journal), false)
    const audit = readFileSync(w.layout.auditLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    assert.equal(audit.at(-1)!['outcome'], 'rolled back')
  })

  it('a first install that fails its health check leaves nothing installed (launchdFailed)', async () => {
    const w = world()
    const before = snapshotTree(w.root)
    const result = await lifecycle.install(w.ctx, await w.payload('1.0.0', {manifest: {programArguments: ['--exit-after', '100', '--exit-code', '3'], healthCheck: {runningSeconds: 1}}}))
    assert.equal(result.exitCode, ExitCode.launchdFailed, result.message)
    assert.match(result.message, /nothing was left installed/)
    assert.equal(await w.ctx.launchctl.print(w.label), undefined)
    assert.deepEqual(snapshotTree(w.root), before)
  })

  it('runs the health probe with a fixed, minimal environment: nothing of the caller\'s reaches it', async () => {
    const probe = (check: string) => ({manifest: {healthCheck: {runningSeconds: 1, command: ['/bin/sh', '-c', check]}}})
    process.env['ESDCTL_PROBE_LEAK'] = 'leaked'
    try {
      const w0 = world()
      const clean = await lifecycle.install(w0.ctx, await w0.payload('1.0.0', probe('test -z "$ESDCTL_PROBE_LEAK" && test "$PATH" = /usr/bin:/bin:/usr/sbin:/sbin && test -z "$NODE_OPTIONS"')))
      assert.equal(clean.exitCode, ExitCode.ok, clean.message)
      const w = world()
      const leaked = await lifecycle.install(w.ctx, await w.payload('1.0.0', probe('test "$ESDCTL_PROBE_LEAK" != leaked')))
      assert.equal(leaked.exitCode, ExitCode.ok, 'the control probe passes only without the variable')
      const failing = world()
      const failed = await lifecycle.install(failing.ctx, await failing.payload('1.0.0', probe('exit 7')))
      assert.equal(failed.exitCode, ExitCode.launchdFailed, failed.message)
      assert.match(failed.message, /exited with 7/)
    } finally {
      delete process.env['ESDCTL_PROBE_LEAK']
    }
  })

  it('stop, start and restart go through launchctl; stop of a stopped daemon is a no-op', async () => {
    const w = world()
    await lifecycle.install(w.ctx, await w.payload('1.0.0'))
    const stopped = await lifecycle.stop(w.ctx, NAME)
    assert.equal(stopped.exitCode, ExitCode.ok, stopped.message)
    assert.equal(stopped.changed, true)
    assert.equal(await w.ctx.launchctl.print(w.label), undefined)
    const again = await lifecycle.stop(w.ctx, NAME)
    assert.equal(again.changed, false)
    const started = await lifecycle.start(w.ctx, NAME)
    assert.equal(started.exitCode, ExitCode.ok, started.message)
    const pid = await runningPid(w)
    assert.ok(pid !== undefined)
    const restarted = await lifecycle.restart(w.ctx, NAME)
    assert.equal(restarted.exitCode, ExitCode.ok, restarted.message)
    const newPid = await runningPid(w)
    assert.ok(newPid !== undefined && newPid !== pid, 'kickstart -k gave a new process')
    const kick = env.launchd.events().filter((e) => e.event === 'kickstart-called' && (e as {label?: string}).label === w.label)
    assert.deepEqual((kick.at(-1) as unknown as {argv: string[]}).argv, ['kickstart', '-k', `system/${w.label}`])
  })

  it('start while the old job still drains after a bootout (SIGTERMed) waits it out and loads it again, rather than kickstarting a job on its way out', async () => {
    const w = world()
    await lifecycle.install(w.ctx, await w.payload('1.0.0', {manifest: {programArguments: ['--term-delay', '600']}}))
    const oldPid = await runningPid(w)
    await new Promise((resolve) => setTimeout(resolve, 300)) // the sample daemon's SIGTERM handler is in place
    await w.ctx.launchctl.bootout(w.label, {waitMs: 5_000, wait: false})
    assert.equal((await w.ctx.launchctl.print(w.label))?.state, 'stopping')
    const started = await lifecycle.start(w.ctx, NAME)
    assert.equal(started.exitCode, ExitCode.ok, started.message)
    const pid = await runningPid(w)
    assert.ok(pid !== undefined && pid !== oldPid)
    const events = env.launchd.events()
    const after = events.slice(events.findIndex((e) => e.event === 'bootout-returned' && e.label === w.label))
    assert.ok(!after.some((e) => e.event === 'kickstart-called' && e.label === w.label), 'no kickstart of a draining job')
    assert.ok(after.some((e) => e.event === 'bootstrap-called' && (e.argv as string[]).includes(w.layout.launchdPlist)), 'loaded again from its plist')
  })

  it('uninstall keeps etc/ and var/; uninstall --purge removes the prefix', async () => {
    const w = world()
    await lifecycle.install(w.ctx, await w.payload('1.0.0'))
    mkdirSync(w.layout.var, {recursive: true})
    writeFileSync(join(w.layout.var, 'state.db'), 'keep me')
    const result = await lifecycle.uninstall(w.ctx, NAME)
    assert.equal(result.exitCode, ExitCode.ok, result.message)
    assert.equal(await w.ctx.launchctl.print(w.label), undefined)
    assert.equal(existsSync(w.layout.launchdPlist), false)
    assert.equal(existsSync(w.layout.app), false)
    assert.equal(existsSync(w.layout.binLink), false)
    assert.equal(existsSync(w.layout.receipt), false)
    assert.deepEqual(await readRegistry(w.root), [])
    assert.equal(readFileSync(join(w.layout.etc, 'thed.conf'), 'utf8'), 'version=1.0.0\n')
    assert.equal(readFileSync(join(w.layout.var, 'state.db'), 'utf8'), 'keep me')
    // A reinstall finds the kept config and leaves it alone.
    writeFileSync(join(w.layout.etc, 'thed.conf'), 'mine\n')
    await lifecycle.install(w.ctx, await w.payload('1.0.0'))
    assert.equal(readFileSync(join(w.layout.etc, 'thed.conf'), 'utf8'), 'mine\n')
    assert.equal(readFileSync(join(w.layout.etc, 'thed.conf.default'), 'utf8'), 'version=1.0.0\n')
    const purged = await lifecycle.uninstall(w.ctx, NAME, {purge: true})
    assert.equal(purged.exitCode, ExitCode.ok, purged.message)
    assert.equal(existsSync(w.layout.prefix), false)
  })

  it('uninstalling what is not installed (twice, or never installed) is a no-op: exit 0, changed false, saying so', async () => {
    const w = world()
    const never = await lifecycle.uninstall(w.ctx, NAME)
    assert.equal(never.exitCode, ExitCode.ok, never.message)
    assert.equal(never.changed, false)
    assert.match(never.message, /thed is not installed by esdctl .*; nothing to do/)
    await lifecycle.install(w.ctx, await w.payload('1.0.0'))
    assert.equal((await lifecycle.uninstall(w.ctx, NAME, {purge: true})).changed, true)
    const before = snapshotTree(w.root)
    for (const opts of [{}, {purge: true}, {dryRun: true}]) {
      const again = await lifecycle.uninstall(w.ctx, NAME, opts)
      assert.equal(again.exitCode, ExitCode.ok, again.message)
      assert.equal(again.changed, false)
      assert.match(again.message, /not installed .*nothing to do/)
    }
    assert.deepEqual(snapshotTree(w.root), before)
    // A name that cannot be one is still bad input.
    await assert.rejects(lifecycle.uninstall(w.ctx, '../etc'), (e: unknown) => lifecycle.isLifecycleError(e) && e.exitCode === ExitCode.badInput)
  })

  it('installs into a --root image without Library/LaunchDaemons: creates it 0755 (root-owned, like /opt)', async () => {
    const w = world()
    rmSync(join(w.root, 'Library', 'LaunchDaemons'), {recursive: true})
    const result = await lifecycle.install(w.ctx, await w.payload('1.0.0'))
    assert.equal(result.exitCode, ExitCode.ok, result.message)
    const dir = lstatSync(join(w.root, 'Library', 'LaunchDaemons'))
    assert.ok(dir.isDirectory())
    assert.equal(dir.mode & 0o7777, 0o755)
    assert.equal(dir.uid, process.getuid!())
    assert.equal(lstatSync(w.layout.launchdPlist).mode & 0o7777, 0o644)
  })

  it('dry run on every mutating verb returns a plan and leaves the tree byte-identical', async () => {
    const w = world()
    const v1 = await w.payload('1.0.0')
    let before = snapshotTree(w.root)
    const plan = await lifecycle.install(w.ctx, v1, {dryRun: true})
    assert.equal(plan.exitCode, ExitCode.ok, plan.message)
    assert.ok(plan.plan!.some((s) => s.id === 'bootstrap'))
    assert.deepEqual(snapshotTree(w.root), before)
    await lifecycle.install(w.ctx, v1)
    await lifecycle.upgrade(w.ctx, await w.payload('1.1.0'))
    const v2 = await w.payload('1.2.0')
    before = snapshotTree(w.root)
    for (const run of [
      () => lifecycle.upgrade(w.ctx, v2, {dryRun: true}),
      () => lifecycle.rollback(w.ctx, NAME, {dryRun: true}),
      () => lifecycle.uninstall(w.ctx, NAME, {dryRun: true, purge: true}),
      () => lifecycle.stop(w.ctx, NAME, {dryRun: true}),
      () => lifecycle.restart(w.ctx, NAME, {dryRun: true}),
    ]) {
      const result = await run()
      assert.equal(result.exitCode, ExitCode.ok, result.message)
      assert.ok((result.plan?.length ?? 0) > 0, `${result.action} gives a plan`)
      assert.match(result.message, /dry run/)
    }
    assert.deepEqual(snapshotTree(w.root), before)
    assert.equal((await readInstallRecord(w.layout))?.version, '1.1.0')
  })

  it('accepts a .tar.gz payload and renders the plist for `esdctl plist`', async () => {
    const w = world()
    const dir = await w.payload('1.0.0')
    const archive = `${dir}.tar.gz`
    const {create} = await import('tar')
    await create({gzip: true, file: archive, cwd: dir}, ['.'])
    const rendered = await lifecycle.renderPlistForPayload(archive, w.root)
    assert.equal(rendered.path, w.layout.launchdPlist)
    assert.match(rendered.xml, /AssociatedBundleIdentifiers/)
    const result = await lifecycle.install(w.ctx, archive)
    assert.equal(result.exitCode, ExitCode.ok, result.message)
    assert.equal(readFileSync(w.layout.launchdPlist, 'utf8'), rendered.xml)
  })
})
