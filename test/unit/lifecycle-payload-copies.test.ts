import assert from 'node:assert/strict'
import {cpSync, existsSync, mkdirSync, readdirSync, writeFileSync} from 'node:fs'
import {spawnSync} from 'node:child_process'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import * as tar from 'tar'
import {ExitCode} from '../../src/exit-codes.js'
import {ToolPaths} from '../../src/layout/prefix-layout.js'
import * as lifecycle from '../../src/lifecycle/index.js'
import {lifecycleWorlds, type LifecycleWorld} from '../support/lifecycle-fixture.js'

const NAME = 'thed'

/**
 * A package built by `esdctl payload` drops each version's payload (a full signed bundle) in
 * `Library/Application Support/esdctl/payloads/<name>/<version>` and installs from there. A
 * successful install or upgrade deletes the copies of other versions (the rollback slot keeps the
 * previous version whole); uninstall keeps the installed version's copy; --purge deletes them all.
 */
describe('lifecycle: the payload copies packages leave in esdctl\'s directory', function () {
  const env = lifecycleWorlds(NAME, {labelPrefix: 'com.example.thed.copies', defaultEtc: (version) => ({'thed.conf': `version=${version}\n`})})

  /** The payload of `version`, copied where a package drops it. */
  async function dropped(w: LifecycleWorld, version: string): Promise<string> {
    const to = join(new ToolPaths(w.root).payloads(NAME), version)
    mkdirSync(join(to, '..'), {recursive: true})
    cpSync(await w.payload(version), to, {recursive: true, verbatimSymlinks: true})
    return to
  }
  const copies = (w: LifecycleWorld): string[] => (existsSync(new ToolPaths(w.root).payloads(NAME)) ? readdirSync(new ToolPaths(w.root).payloads(NAME)).sort() : [])

  it('install and upgrade delete the copies of other versions once they succeed, never the one they install from', async () => {
    const w = env.world()
    const first = await dropped(w, '1.0.0')
    const stray = join(new ToolPaths(w.root).payloads(NAME), '0.9.0')
    mkdirSync(stray)
    writeFileSync(join(stray, 'left-over'), 'x')
    const r1 = await lifecycle.install(w.ctx, first)
    assert.equal(r1.exitCode, ExitCode.ok, r1.message)
    assert.deepEqual(copies(w), ['1.0.0'])
    const second = await dropped(w, '2.0.0')
    const dry = await lifecycle.upgrade(w.ctx, second, {dryRun: true})
    assert.ok(dry.finish?.some((c) => c.kind === 'remove-tree' && c.title === `Delete ${join(new ToolPaths(w.root).payloads(NAME), '1.0.0')}`), JSON.stringify(dry.finish))
    assert.deepEqual(copies(w), ['1.0.0', '2.0.0'], 'the dry run deleted nothing')
    const r2 = await lifecycle.upgrade(w.ctx, second)
    assert.equal(r2.exitCode, ExitCode.ok, r2.message)
    assert.deepEqual(copies(w), ['2.0.0'])
    // A failed upgrade deletes nothing: the version that runs again may be reinstalled from its copy.
    const crashing = await w.payload('3.0.0', {manifest: {programArguments: ['--exit-after', '200', '--exit-code', '3'], healthCheck: {runningSeconds: 1}}})
    const failed = await lifecycle.upgrade(w.ctx, crashing)
    assert.equal(failed.exitCode, ExitCode.rolledBack, failed.message)
    assert.deepEqual(copies(w), ['2.0.0'])
    const kept = await lifecycle.uninstall(w.ctx, NAME)
    assert.equal(kept.exitCode, ExitCode.ok, kept.message)
    assert.deepEqual(copies(w), ['2.0.0'], 'uninstall without --purge keeps the copy, as it keeps etc/ and var/')
  })

  it('install <tarball> removes the extraction directories runs killed before cleaning up left, and says so', async () => {
    const w = env.world()
    const dead = spawnSync(process.execPath, ['-e', '']).pid!
    const stale = join(tmpdir(), `esdctl-payload-${dead}-Abc123`)
    mkdirSync(join(stale, 'payload'), {recursive: true})
    writeFileSync(join(stale, 'payload', 'half'), 'x')
    const dir = await w.payload('1.0.0')
    const archive = `${dir}.tar.gz`
    env.track(archive)
    await tar.create({gzip: true, file: archive, cwd: dir, portable: true}, ['.'])
    const r = await lifecycle.install(w.ctx, archive)
    assert.equal(r.exitCode, ExitCode.ok, r.message)
    assert.equal(existsSync(stale), false)
    assert.ok(r.notes?.some((n) => n.includes(`removed 1 payload extraction directory an interrupted run left (${stale})`)), JSON.stringify(r.notes))
  })

  it('uninstall --purge deletes payloads/<name>/ and nothing of another daemon\'s', async () => {
    const w = env.world()
    const r = await lifecycle.install(w.ctx, await dropped(w, '1.0.0'))
    assert.equal(r.exitCode, ExitCode.ok, r.message)
    const other = join(new ToolPaths(w.root).payloads('otherd'), '1.0.0')
    mkdirSync(other, {recursive: true})
    writeFileSync(join(other, 'esdctl.json'), '{}')
    const purged = await lifecycle.uninstall(w.ctx, NAME, {purge: true})
    assert.equal(purged.exitCode, ExitCode.ok, purged.message)
    assert.equal(existsSync(new ToolPaths(w.root).payloads(NAME)), false)
    assert.ok(existsSync(join(other, 'esdctl.json')))
  })
})
