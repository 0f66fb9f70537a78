import {strict as assert} from 'node:assert'
import {existsSync} from 'node:fs'
import {copyFile, mkdir, mkdtemp, rm, truncate} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {execa} from 'execa'
import {ExitCode} from '../../src/exit-codes.js'
import {renderVerifyText} from '../../src/render/verify-text.js'
import {emptyInput} from '../../src/verify/empty-input.js'
import {verifyPath} from '../../src/verify/verify-path.js'
import {cliRun, expectFinding} from '../support/expect-finding.js'
import {realProfile, REPO_ROOT} from '../support/real-artifacts.js'
import {REAL_BUNDLES_DIR, REAL_PACKAGES_DIR} from '../support/real-shipped.js'
import {skipBecause} from '../support/skip.js'

// A build or a download cut short leaves the file it created at 0 bytes. Whatever its name
// promises, esdctl says it is empty and how to make it again (exit 4), rather than calling it of no
// kind it verifies, or a damaged profile (exit 3). Each input is a real shipped file cut to 0 bytes.
const PKG = join(REAL_PACKAGES_DIR, 'Karabiner-DriverKit-VirtualHIDDevice-6.10.0.pkg')
const EXECUTABLE = join(REAL_BUNDLES_DIR, 'Opera Beta Installer.app', 'Contents', 'MacOS', 'Opera Beta Installer')
const RUN = join(REPO_ROOT, 'bin', 'run.js')

describe('verify: an empty file (0 bytes) is named empty, whatever its name', function () {
  this.timeout(20_000)
  let dir: string
  before(async function () {
    if (![PKG, EXECUTABLE].every(p => existsSync(p)) || !realProfile('karabiner-daemon-devid')) skipBecause(this, 'fixtures-absent')
    dir = await mkdtemp(join(tmpdir(), 'esdctl-empty-'))
  })
  after(() => dir && rm(dir, {recursive: true, force: true}))

  /** A copy of the real `source` named `name`, cut to 0 bytes as an interrupted download leaves it. */
  async function cutShort(source: string, name: string): Promise<string> {
    const path = join(dir, name)
    await copyFile(source, path)
    await truncate(path, 0)
    return path
  }

  const cases: Array<{name: string; source: () => string; fix: RegExp}> = [
    {name: 'Karabiner.pkg', source: () => PKG, fix: /pkgbuild\/productbuild.*download it again/},
    {name: 'Opera.zip', source: () => PKG, fix: /ditto -c -k.*download it again/},
    {name: 'Opera.tgz', source: () => PKG, fix: /tar -czf.*download it again/},
    {name: 'Opera.tar.gz', source: () => PKG, fix: /tar -czf.*download it again/},
    {name: 'Opera Beta Installer', source: () => EXECUTABLE, fix: /build it again \(or download it again\)/},
    {name: 'karabiner.provisionprofile', source: () => realProfile('karabiner-daemon-devid')!, fix: /download the profile again/},
    {name: 'karabiner.mobileprovision', source: () => realProfile('karabiner-daemon-devid')!, fix: /download the profile again/},
  ]
  it('the kind-specific fix goes by how the name ends: a partial download (x.pkg.part, x.zip.crdownload) gets the general one', () => {
    const general = emptyInput('/d/daemon').fix
    assert.match(general ?? '', /build it again \(or download it again\)/)
    for (const name of ['x.pkg.part', 'x.mpkg.1', 'x.zip.crdownload', 'x.tgz.download', 'x.tar.gz.1', 'x.provisionprofile.txt', 'x.mobileprovision.bak']) {
      assert.equal(emptyInput(`/d/${name}`).fix, general, name)
    }
    assert.match(emptyInput('/d/X.MPKG').fix ?? '', /pkgbuild/)
  })

  for (const c of cases) {
    it(`${c.name}: input.empty naming the file, a fix to build or download it again, exit 4`, async () => {
      const path = await cutShort(c.source(), c.name)
      const r = await verifyPath(path)
      const f = expectFinding(r, {id: 'input.empty', severity: 'error', exitCode: ExitCode.badInput})
      assert.deepEqual(r.findings.map(x => x.id), ['input.empty'])
      assert.equal(f.path, path)
      assert.equal(f.message, `${path}: the file is empty (0 bytes), so there is nothing in it to verify`)
      assert.match(f.fix ?? '', c.fix)
      assert.match(f.fix ?? '', /cut short/)
      assert.equal(r.kind, 'unknown')
      const text = renderVerifyText(r)
      assert.doesNotMatch(text, /neither|not a readable provisioning profile|Provisioning profile/)
      assert.match(text, /^✖ Input$/m)
    })
  }

  it('the command: exit 4 and the empty file named, in text and in --json', async () => {
    const path = await cutShort(PKG, 'cli.pkg')
    const text = await execa(process.execPath, [RUN, 'verify', path], {reject: false, env: {NODE_OPTIONS: ''}})
    assert.equal(text.exitCode, 4, text.stdout + text.stderr)
    assert.match(text.stdout, new RegExp(`${path.replaceAll('.', '\\.')}: the file is empty \\(0 bytes\\)`))
    const json = await execa(process.execPath, [RUN, 'verify', '--json', path], {reject: false, env: {NODE_OPTIONS: ''}})
    expectFinding(cliRun(json), {id: 'input.empty', severity: 'error', exitCode: ExitCode.badInput})
  })

  it('an empty .pkg and .provisionprofile in a folder: each input.empty, never "cannot verify this kind of item yet"', async () => {
    const folder = join(dir, 'folder')
    await mkdir(folder)
    await copyFile(PKG, join(folder, 'ok-but-cut.pkg'))
    await truncate(join(folder, 'ok-but-cut.pkg'), 0)
    await copyFile(realProfile('karabiner-daemon-devid')!, join(folder, 'cut.provisionprofile'))
    await truncate(join(folder, 'cut.provisionprofile'), 0)
    const r = await verifyPath(folder)
    expectFinding(r, {id: 'input.empty', severity: 'error', exitCode: ExitCode.badInput})
    assert.deepEqual(r.findings.map(x => [x.id, x.path]).sort(), [['input.empty', join(folder, 'cut.provisionprofile')], ['input.empty', join(folder, 'ok-but-cut.pkg')]])
    // Nothing was opened: no area passes over it, and each member line says why.
    const text = renderVerifyText(r)
    assert.match(text, /^ {2}contains ok-but-cut\.pkg \(package\): empty \(0 bytes\) — 1 error$/m)
    assert.match(text, /^ {2}contains cut\.provisionprofile \(profile\): empty \(0 bytes\) — 1 error$/m)
    assert.match(text, /^– Code signature \(every slice\): not checked$/m)
    assert.doesNotMatch(text, /^✔/m)
  })

  it('an empty .pkg beside the real package in a folder: the real one is judged as alone, the empty one adds no area', async () => {
    const folder = join(dir, 'folder-beside')
    await mkdir(folder)
    await copyFile(PKG, join(folder, 'real.pkg'))
    const alone = renderVerifyText(await verifyPath(folder))
    await copyFile(PKG, join(folder, 'cut.pkg'))
    await truncate(join(folder, 'cut.pkg'), 0)
    const both = renderVerifyText(await verifyPath(folder))
    const areas = (text: string) => text.split('\n').filter(l => /^[✔✖!i–] /.test(l) && !l.startsWith('✖ Input'))
    assert.ok(areas(alone).includes('✔ Installer package (signatures, checksums, payload)'), alone)
    assert.deepEqual(areas(both), areas(alone))
  })

  it('a file of one byte is no longer empty: judged by its kind as before', async () => {
    const path = await cutShort(PKG, 'one-byte.pkg')
    await truncate(path, 1)
    const r = await verifyPath(path)
    assert.deepEqual(r.findings.map(x => x.id), ['input.unknown-kind'])
  })
})
