import assert from 'node:assert/strict'
import {rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import * as tar from 'tar'
import {OfflineLaunchctl} from '../../src/adapters/offline-launchctl.js'
import {ExitCode} from '../../src/exit-codes.js'
import type {LifecycleContext} from '../../src/lifecycle/context.js'
import * as lifecycle from '../../src/lifecycle/index.js'
import {buildPayload, makeRoot, snapshotTree, testContext, testIdentity} from '../support/lifecycle-fixture.js'

/**
 * A payload archived with its folder (`tar -C <dir> -czf x.tgz 6.0.0`) rather than its contents:
 * install must name the archive the admin gave (not its deleted scratch extraction), say where
 * esdctl.json was found, and how to make the archive.
 */
describe('install of a .tar.gz whose payload sits under a top-level folder', function () {
  this.timeout(60_000)
  const paths: string[] = []
  let root = ''
  let base = ''
  let ctx: LifecycleContext
  before(async () => {
    const {identity, trust} = await testIdentity()
    root = makeRoot()
    base = `${root}-archives`
    paths.push(root, base)
    await buildPayload({dir: join(base, '6.0.0'), name: 'thed', label: 'com.example.thed.archive', version: '6.0.0', identity, etc: {'thed.conf': 'a=1\n'}})
    ctx = {...testContext({root, launchctlPath: '/nonexistent/launchctl', trust}), launchctl: new OfflineLaunchctl(), offline: true}
  })
  after(() => {
    for (const p of paths) rmSync(p, {recursive: true, force: true})
  })

  it('refuses (exit 4) naming the archive, 6.0.0/esdctl.json and the tar command that makes a payload archive; nothing changes', async () => {
    const nested = join(base, 'nested.tar.gz')
    await tar.create({gzip: true, file: nested, cwd: base}, ['6.0.0'])
    const before = snapshotTree(root)
    const refused = await lifecycle.install(ctx, nested).then(() => undefined, (e: unknown) => e)
    assert.ok(refused instanceof lifecycle.LifecycleError, String(refused))
    assert.equal(refused.exitCode, ExitCode.badInput)
    assert.equal(refused.message, `${nested}: esdctl.json is at 6.0.0/esdctl.json, not at the payload's root; make the archive from inside the payload directory: tar -C <payload dir> -czf nested.tar.gz .`)
    assert.deepEqual(snapshotTree(root), before)
  })

  it('a directory given one level too high is pointed at the folder holding esdctl.json', async () => {
    const refused = await lifecycle.install(ctx, base).then(() => undefined, (e: unknown) => e)
    assert.ok(refused instanceof lifecycle.LifecycleError, String(refused))
    assert.equal(refused.exitCode, ExitCode.badInput)
    assert.match(refused.message, new RegExp(`^${base}: esdctl\\.json is at 6\\.0\\.0/esdctl\\.json, not at the payload's root; install ${join(base, '6.0.0')} instead$`))
  })

  it('an archive whose manifest is refused names the archive, never the deleted scratch extraction', async () => {
    const dir = join(base, 'bad')
    await buildPayload({dir, name: 'thed', label: 'com.example.thed.archive', version: '6.0.0', identity: (await testIdentity()).identity})
    writeFileSync(join(dir, 'esdctl.json'), '{')
    const bad = join(base, 'bad.tar.gz')
    await tar.create({gzip: true, file: bad, cwd: dir}, ['.'])
    const refused = await lifecycle.install(ctx, bad).then(() => undefined, (e: unknown) => e)
    assert.ok(refused instanceof lifecycle.LifecycleError, String(refused))
    assert.equal(refused.exitCode, ExitCode.badInput)
    assert.ok(refused.message.includes(`${bad} (its esdctl.json)`), refused.message)
    assert.doesNotMatch(refused.message + (refused.details ?? []).join('\n'), /esdctl-payload-/)
  })

  it('the same payload archived from inside its folder installs', async () => {
    const flat = join(base, 'flat.tar.gz')
    await tar.create({gzip: true, file: flat, cwd: join(base, '6.0.0')}, ['.'])
    const r = await lifecycle.install(ctx, flat)
    assert.equal(r.exitCode, ExitCode.ok, `${r.message} ${JSON.stringify(r.findings)}`)
  })
})
