import {strict as assert} from 'node:assert'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {execa} from 'execa'
import {ARTIFACTS, REPO_ROOT, realArtifact, realProfile} from '../support/real-artifacts.js'
import {skipBecause} from '../support/skip.js'
import {cliRun, expectFinding} from '../support/expect-finding.js'
import {REAL_BUNDLES_DIR} from '../support/real-shipped.js'
import {existsSync} from 'node:fs'

const RUN = join(REPO_ROOT, 'bin', 'run.js')

function esdctl(...args: string[]) {
  return execa(process.execPath, [RUN, ...args], {reject: false, env: {NODE_OPTIONS: ''}})
}

describe('esdctl verify (the command, as a process)', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'esdctl-cli-'))
  })
  after(() => rm(dir, {recursive: true, force: true}))

  it('prints a checklist and exits 0 for a real Developer ID binary', async () => {
    const r = await esdctl('verify', await realArtifact(ARTIFACTS.sentryCli))
    assert.equal(r.exitCode, 0, r.stderr)
    assert.match(r.stdout, /✔ Entitlements/)
    assert.match(r.stdout, /arm64: .*team 97JCY7859U.*developer-id/)
    assert.match(r.stdout, /^OK: macOS would accept it/m)
  })

  it('--json carries ok, findings, slices with the documented fields', async () => {
    const r = await esdctl('verify', '--json', await realArtifact(ARTIFACTS.sentryCli))
    assert.equal(r.exitCode, 0)
    const out = JSON.parse(r.stdout)
    assert.equal(out.ok, true)
    assert.ok(Array.isArray(out.findings))
    assert.equal(out.slices.length, 2)
    for (const s of out.slices) {
      for (const key of ['arch', 'identifier', 'teamId', 'cdhash', 'flags', 'hashType', 'signer', 'entitlements']) assert.ok(key in s, key)
      assert.equal(s.signer, 'developer-id')
    }
  })

  it('exits 3 with the finding when a code page was changed', async () => {
    const bytes = await readFile(await realArtifact(ARTIFACTS.esbuild))
    bytes[20_000]! ^= 0xff
    const path = join(dir, 'esbuild')
    await writeFile(path, bytes)
    const r = await esdctl('verify', path)
    assert.equal(r.exitCode, 3)
    assert.match(r.stdout, /✖ Code signature/)
    assert.match(r.stdout, /\[signature\.code-modified\]/)
    assert.match(r.stdout, /fix: /)
  })

  it('exits 4 for a path that does not exist, naming it', async () => {
    const r = await esdctl('verify', '--json', join(dir, 'missing'))
    assert.equal(r.exitCode, 4)
    const out = JSON.parse(r.stdout)
    assert.equal(out.findings[0].id, 'input.unreadable')
    assert.match(out.findings[0].message, /missing/)
  })

  it('reports an expired real profile with exit 3 and its expiry in --json', async function () {
    const p = realProfile('credctl-development-expired')
    if (!p) skipBecause(this, 'fixtures-absent')
    const r = await esdctl('verify', '--json', p!)
    assert.equal(r.exitCode, 3)
    const out = JSON.parse(r.stdout)
    assert.equal(out.profile.kind, 'development')
    assert.equal(out.profile.teamId, 'JWR3NGC3Z6')
    expectFinding(cliRun(r), {id: 'profile.expired', severity: 'error', exitCode: 3})
  })

  it('--warnings-as-errors passes the real sentry-cli, whose slices carry different identifiers', async () => {
    const r = await esdctl('verify', '--warnings-as-errors', await realArtifact(ARTIFACTS.sentryCli))
    assert.equal(r.exitCode, 0, r.stdout)
    assert.doesNotMatch(r.stdout, /slices-disagree/)
  })

  it('a Java class file (also 0xcafebabe) is input.unknown-kind, exit 4, not a broken Mach-O', async () => {
    const path = join(dir, 'Main.class')
    // magic, minor 0, major 65 (Java 21), then a constant pool count
    await writeFile(path, Buffer.from('cafebabe0000004100220a000200', 'hex'))
    const r = await esdctl('verify', '--json', path)
    assert.equal(r.exitCode, 4)
    const out = JSON.parse(r.stdout)
    assert.deepEqual(out.findings.map((f: {id: string}) => f.id), ['input.unknown-kind'])
    expectFinding(cliRun(r), {id: 'input.unknown-kind', severity: 'error', exitCode: 4})
    assert.match(out.findings[0].message, /Java class file \(version 65\.0\)/)
  })

  describe('--warnings-as-errors on a bundle with only warnings', () => {
    // The real Opera installer: signed and sealed, but without the hardened runtime (2 warnings).
    const OPERA = join(REAL_BUNDLES_DIR, 'Opera Beta Installer.app')
    before(function () {
      // Real fixtures, read in place from ../shared beside the checkout.
      if (![OPERA].every(p => existsSync(p))) skipBecause(this, 'fixtures-absent')
    })

    it('exits 3 and its closing line says FAILED under the flag, yet that macOS would accept it', async () => {
      const r = await esdctl('verify', '--warnings-as-errors', OPERA)
      assert.equal(r.exitCode, 3, r.stdout)
      assert.doesNotMatch(r.stdout, /^OK:/m)
      assert.match(r.stdout, /^FAILED under --warnings-as-errors: 0 errors, 2 warnings \(macOS itself would accept it\)\.$/m)
    })

    it('--json says ok:false, agreeing with exit 3; without the flag ok:true and exit 0', async () => {
      const gated = await esdctl('verify', '--json', '--warnings-as-errors', OPERA)
      assert.equal(gated.exitCode, 3)
      assert.equal(JSON.parse(gated.stdout).ok, false)
      const plain = await esdctl('verify', '--json', OPERA)
      assert.equal(plain.exitCode, 0)
      assert.equal(JSON.parse(plain.stdout).ok, true)
    })
  })
})
