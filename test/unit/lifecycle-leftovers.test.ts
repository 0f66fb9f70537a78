import assert from 'node:assert/strict'
import {appendFileSync, lstatSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {ExitCode} from '../../src/exit-codes.js'
import * as lifecycle from '../../src/lifecycle/index.js'
import {esdctlCommand} from '../../src/render/esdctl-command.js'
import {lifecycleWorlds, snapshotTree, type LifecycleWorld} from '../support/lifecycle-fixture.js'

const NAME = 'thed'

describe('lifecycle: repair over a damaged install, log directories, config the payload lacks, advice under --root', function () {
  const env = lifecycleWorlds(NAME, {labelPrefix: 'com.example.thed.left', defaultEtc: () => ({'thed.conf': 'x\n'})})

  async function stop(w: LifecycleWorld): Promise<void> {
    await w.ctx.launchctl.bootout(w.label, {waitMs: 10_000}).catch(() => undefined)
  }

  it('the same version over an installed bundle that was modified repairs it instead of saying "already installed"', async () => {
    const w = env.world()
    const payload = await w.payload('1.0.0')
    assert.equal((await lifecycle.install(w.ctx, payload)).exitCode, ExitCode.ok)
    const again = await lifecycle.install(w.ctx, payload)
    assert.equal(again.changed, false, 'an intact install is left alone')
    const shipped = readFileSync(join(payload, `${NAME}.app`, 'Contents', 'MacOS', NAME))
    appendFileSync(w.layout.executable, Buffer.from('tampered'))
    const dry = await lifecycle.install(w.ctx, payload, {dryRun: true})
    assert.match(dry.message, /would reinstall thed 1\.0\.0 over a damaged install/)
    const repaired = await lifecycle.install(w.ctx, payload)
    assert.equal(repaired.exitCode, ExitCode.ok, repaired.message)
    assert.equal(repaired.changed, true)
    assert.match(repaired.message, /thed 1\.0\.0 reinstalled over a damaged install \(.*no longer verifies/)
    assert.deepEqual(readFileSync(w.layout.executable), shipped)
    assert.equal((await lifecycle.install(w.ctx, payload)).changed, false, 'repaired, it is intact again')
    await stop(w)
  })

  it('a damaged receipt rebuilt before "already installed" is a change: changed is true and recovered says what was done', async () => {
    const w = env.world()
    const payload = await w.payload('1.0.0')
    assert.equal((await lifecycle.install(w.ctx, payload)).exitCode, ExitCode.ok)
    writeFileSync(w.layout.receipt, 'null')
    const r = await lifecycle.install(w.ctx, payload)
    assert.equal(r.exitCode, ExitCode.ok, r.message)
    assert.match(r.message, /already installed; nothing to do/)
    assert.match(r.recovered ?? '', /receipt\.json was damaged .* moved aside .* rebuilt/)
    assert.equal(r.changed, true, 'a fleet tool must see that the machine changed')
    assert.equal((await lifecycle.install(w.ctx, payload)).changed, false, 'once rebuilt, nothing changes')
    await stop(w)
  })

  it('creates the missing directories of StandardOutPath and StandardErrorPath, root-owned 0755', async () => {
    const w = env.world()
    const payload = await w.payload('1.0.0', {manifest: {StandardOutPath: '{var}/log/out/thed.log', StandardErrorPath: '{var}/log/thed.err'}})
    const result = await lifecycle.install(w.ctx, payload)
    assert.equal(result.exitCode, ExitCode.ok, result.message)
    for (const dir of [w.layout.var, join(w.layout.var, 'log'), join(w.layout.var, 'log', 'out')]) {
      const stat = lstatSync(dir)
      assert.ok(stat.isDirectory(), dir)
      assert.equal(stat.mode & 0o7777, 0o755, dir)
      assert.equal(stat.uid, process.getuid!(), dir)
    }
    await stop(w)
  })

  it('a config file the manifest names but the payload lacks: exit 4 naming esdctl.json and the field; nothing changes', async () => {
    const w = env.world()
    const payload = await w.payload('1.0.0', {manifest: {config: ['thed.conf', 'rules/missing.yaml']}})
    const before = snapshotTree(w.root)
    for (const dryRun of [true, false]) {
      const r = await lifecycle.install(w.ctx, payload, {dryRun})
      assert.equal(r.exitCode, ExitCode.badInput, r.message)
      assert.match(r.message, /esdctl\.json: \/config\/1: names "rules\/missing\.yaml", but the payload has no etc\/rules\/missing\.yaml/)
    }
    assert.deepEqual(snapshotTree(w.root), before)
  })

  it('advice names --root when the command acted on an image, so following it never touches the running Mac', () => {
    assert.equal(esdctlCommand('install', 'PAYLOAD'), 'sudo esdctl install PAYLOAD')
    assert.equal(esdctlCommand('uninstall', 'thed', '/images/a'), 'sudo esdctl uninstall --root /images/a thed')
  })
})
