import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {makeScratchDir, type ScratchDir, sweepStaleScratch} from '../../src/adapters/scratch-dir.js'
import {makeStagingDir} from '../../src/bundle/staging-dir.js'
import {buildAppBundle} from '../../src/bundle/build-bundle.js'
import {buildPayload} from '../../src/payload-build/build-payload.js'
import {BUNDLE_ID, makeFixture, signedApp, TEAM} from './bundle.fixtures.js'

const HOLDER = fileURLToPath(new URL('../support/scratch-holder.js', import.meta.url))

/** A pid no process has now: one that just ran and ended. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', ''])
  return r.pid!
}

async function startHolder(parent: string, lead: string): Promise<{child: ReturnType<typeof spawn>; path: string}> {
  const child = spawn(process.execPath, [HOLDER, JSON.stringify({parent, lead})], {stdio: 'pipe'})
  const path = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes('\n')) resolve(out.split('\n')[0]!)
    })
    child.once('exit', (code) => reject(new Error(`holder exited ${code} early: ${out}`)))
  })
  return {child, path}
}

const ended = (child: ReturnType<typeof spawn>): Promise<{code: number | null; signal: NodeJS.Signals | null}> =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve({code: child.exitCode, signal: child.signalCode}) : new Promise((resolve) => child.once('exit', (code, signal) => resolve({code, signal})))

/**
 * bundle, payload and install <tarball> copy whole bundles into scratch directories: one made by
 * makeScratchDir is removed when SIGTERM, SIGINT or SIGHUP ends the run, and one a SIGKILLed run
 * left is removed by the next run that makes one of the same kind, never anything else.
 */
describe('scratch directories: removed on a signal, and swept after a run that could not', function () {
  let parent: string
  beforeEach(() => {
    parent = mkdtempSync(join(tmpdir(), 'scratch-test-'))
  })
  afterEach(() => rmSync(parent, {recursive: true, force: true}))

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} removes the run's scratch directory, and the run still ends by ${signal}`, async () => {
      const {child, path} = await startHolder(parent, '.out.esdctl-')
      assert.ok(existsSync(join(path, 'big-copy')))
      assert.match(path, new RegExp(`/\\.out\\.esdctl-${child.pid}-[A-Za-z0-9]{6}$`), 'the name records the pid')
      child.kill(signal)
      const how = await ended(child)
      assert.deepEqual(how, {code: null, signal})
      assert.deepEqual(readdirSync(parent), [])
    })
  }

  /** A holder with `lead` is SIGKILLed; the run `next` makes must sweep its directory and leave none. */
  async function killedThenSwept(lead: string, next: () => Promise<ScratchDir>): Promise<void> {
    const {child, path} = await startHolder(parent, lead)
    child.kill('SIGKILL')
    await ended(child)
    assert.ok(existsSync(join(path, 'big-copy')), 'nothing can clean up after SIGKILL')
    const made = await next()
    try {
      assert.deepEqual(made.swept, [path])
      assert.equal(existsSync(path), false)
    } finally {
      await made.dispose()
    }
    assert.deepEqual(readdirSync(parent), [])
  }

  it('SIGKILL leaves it; the next run of the same kind removes it and says so', async () => {
    await killedThenSwept('esdctl-payload-', () => makeScratchDir('esdctl-payload-', parent))
  })

  it('sweeps only dead runs\' directories of its own pattern, owned by this user, never following a link', async () => {
    const dead = deadPid()
    const stale = join(parent, `.out.esdctl-${dead}-aB3dE9`)
    mkdirSync(stale)
    const keep = (name: string): string => join(parent, name)
    // A live process's (pid 1 always runs), another user's, another lead's, an old name without a pid.
    mkdirSync(keep(`.out.esdctl-1-aB3dE9`))
    mkdirSync(keep(`.out.esdctl-${dead}-zzzzz1`))
    chownSync(keep(`.out.esdctl-${dead}-zzzzz1`), 65534, 65534)
    mkdirSync(keep(`.other.esdctl-${dead}-aB3dE9`))
    mkdirSync(keep('.out.esdctl-aB3dE9'))
    mkdirSync(keep(`.out.esdctl-${dead}-aB3dE9x`))
    const elsewhere = mkdtempSync(join(tmpdir(), 'scratch-target-'))
    try {
      writeFileSync(join(elsewhere, 'precious'), 'keep me')
      symlinkSync(elsewhere, keep(`.out.esdctl-${dead}-L1nk00`))
      assert.deepEqual(await sweepStaleScratch(parent, '.out.esdctl-'), [stale])
      assert.equal(existsSync(stale), false)
      assert.deepEqual(readdirSync(parent).sort(), ['.other.esdctl-' + dead + '-aB3dE9', '.out.esdctl-1-aB3dE9', `.out.esdctl-${dead}-L1nk00`, `.out.esdctl-${dead}-aB3dE9x`, '.out.esdctl-aB3dE9', `.out.esdctl-${dead}-zzzzz1`].sort())
      assert.ok(existsSync(join(elsewhere, 'precious')), 'a link is neither followed nor removed')
    } finally {
      rmSync(elsewhere, {recursive: true, force: true})
    }
  })

  it('a SIGKILLed run with --out oKILL, then one with --out next in the same folder: the dead copy is swept (CI versions its --out)', async () => {
    await killedThenSwept('.oKILL.esdctl-', () => makeStagingDir('payload', join(parent, 'next')))
  })

  it('the beside-the---out sweep keeps its rules: a live pid, another user\'s, a link, another kind (esdctl-payload- in the temporary folder) stay', async () => {
    const dead = deadPid()
    const swept = [`.v1.2.3.esdctl-${dead}-aB3dE9`, `.a.esdctl-${dead}-Zz9Yy8`].map((n) => join(parent, n))
    for (const p of swept) mkdirSync(p)
    const kept = [`.v1.esdctl-1-aB3dE9`, `.v2.esdctl-${dead}-zzzzz1`, `esdctl-payload-${dead}-aB3dE9`, `..esdctl-${dead}-aB3dE9`, `.v3.esdctl-${dead}-aB3dE9x`, `.v4.esdctl-${dead}-L1nk00`]
    const elsewhere = mkdtempSync(join(tmpdir(), 'scratch-target-'))
    try {
      for (const n of kept.slice(0, 5)) mkdirSync(join(parent, n))
      chownSync(join(parent, kept[1]!), 65534, 65534)
      symlinkSync(elsewhere, join(parent, kept[5]!))
      const next = await makeStagingDir('bundle', join(parent, 'v9'))
      try {
        assert.deepEqual([...next.swept].sort(), [...swept].sort())
      } finally {
        await next.dispose()
      }
      assert.deepEqual(readdirSync(parent).sort(), [...kept].sort())
      assert.ok(existsSync(elsewhere))
    } finally {
      rmSync(elsewhere, {recursive: true, force: true})
    }
  })

  it('refuses a sweep pattern without esdctl\'s mark, and a lead outside its family', async () => {
    await assert.rejects(sweepStaleScratch(parent, /\.[^/]+\./), /must contain "esdctl-"/)
    await assert.rejects(makeScratchDir('esdctl-payload-', parent, /\.[^/]+\.esdctl-/), /is not of its family/)
  })

  it('refuses a lead that is not esdctl\'s own pattern', async () => {
    await assert.rejects(makeScratchDir('tmp-', parent), /must contain "esdctl-"/)
  })

  it('bundle and payload sweep what an interrupted run of theirs left beside --out', async () => {
    const fx = await makeFixture()
    try {
      const dead = deadPid()
      const bundleOut = join(fx.dir, 'bundle')
      const payloadOut = join(fx.dir, 'payload')
      const staleBundle = join(fx.dir, `.bundle.esdctl-${dead}-Abc123`)
      const stalePayload = join(fx.dir, `.payload.esdctl-${dead}-Abc123`)
      for (const dir of [staleBundle, stalePayload]) {
        mkdirSync(dir)
        writeFileSync(join(dir, 'half-copied'), 'x')
      }
      const b = await buildAppBundle({executable: fx.executable, profile: await fx.profile(), bundleId: BUNDLE_ID, version: '1.0.0', out: bundleOut}, {trust: fx.trust, codesign: null})
      assert.equal(existsSync(staleBundle), false)
      assert.equal(existsSync(stalePayload), false, 'a dead run\'s copy beside any --out in that folder is swept, whatever its --out was called')
      const manifest = join(fx.dir, 'esdctl.json')
      writeFileSync(manifest, JSON.stringify({name: 'thed', label: 'com.example.thed', bundleId: BUNDLE_ID, teamId: TEAM}))
      assert.ok(existsSync(b.app))
      // payload judges the bundle as install would: it needs a signed one (the codesign double signs it).
      const app = await signedApp(fx, join(fx.dir, 'signed'))
      await buildPayload({app, manifest, out: payloadOut}, {trust: fx.trust, pkgbuild: null})
      assert.equal(existsSync(stalePayload), false)
      assert.deepEqual(readdirSync(fx.dir).filter((f) => f.includes('esdctl-')), [], 'and leave none of their own')
    } finally {
      rmSync(fx.dir, {recursive: true, force: true})
    }
  })
})
