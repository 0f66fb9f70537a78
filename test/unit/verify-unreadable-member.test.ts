import {strict as assert} from 'node:assert'
import {refusalInWords} from '../../src/verify/unreadable-member.js'
import {existsSync} from 'node:fs'
import {chmod, copyFile, cp, mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {execa} from 'execa'
import type {VerifyReport} from '../../src/verify/report.js'
import {realProfile, REPO_ROOT} from '../support/real-artifacts.js'
import {REAL_BUNDLES_DIR} from '../support/real-shipped.js'
import {skipBecause} from '../support/skip.js'

// A bundle with one part its reader may not open (a resource, a second executable, Info.plist, the
// seal, the profile, the stapled ticket, a folder): a user verifying an installed daemon without
// sudo meets exactly this. macOS reads every file as root, so esdctl cannot say what it would
// decide: input.unreadable naming the part, exit 4, never an exception (exit 1) and never a verdict
// built on "missing". Root opens any file, so each verify runs in a child as nobody.
const OPERA = join(REAL_BUNDLES_DIR, 'Opera Beta Installer.app')
const NOBODY = 65534
const VERIFY_PATH = new URL('../../src/verify/verify-path.js', import.meta.url).href

async function asNobody(script: string) {
  return execa(process.execPath, ['--input-type=module', '-e', script], {uid: NOBODY, gid: NOBODY, reject: false, cwd: '/'})
}

describe('verify: a part of a bundle that cannot be read is bad input, never a crash or a verdict', function () {
  this.timeout(60_000)
  let dir: string
  before(async function () {
    // Real fixtures, read in place from ../shared beside the checkout (copied only into a temp folder, to lock parts of it).
    if (!existsSync(OPERA)) skipBecause(this, 'fixtures-absent')
    if (process.geteuid?.() !== 0) skipBecause(this, 'needs-root')
    dir = await mkdtemp(join(tmpdir(), 'esdctl-unreadable-'))
    // nobody must reach the copies: every folder from the temp one down is searchable.
    for (let d = dir; d !== dirname(d) && d !== tmpdir(); d = dirname(d)) await chmod(d, 0o755)
    const probe = await asNobody(`await import(${JSON.stringify(VERIFY_PATH)})`)
    if (probe.exitCode !== 0) skipBecause(this, 'uid-switch-refused')
  })
  after(() => dir && rm(dir, {recursive: true, force: true}))

  /** A copy of the real bundle with `rel` locked (mode 000), verified as nobody. */
  async function verifyLocked(rel: string): Promise<VerifyReport> {
    const app = join(dir, `${rel.replaceAll('/', '_').replaceAll(' ', '_')}.app`)
    await cp(OPERA, app, {recursive: true})
    await chmod(join(app, rel), 0o000)
    const run = await asNobody(`const {verifyPath} = await import(${JSON.stringify(VERIFY_PATH)}); process.stdout.write(JSON.stringify(await verifyPath(${JSON.stringify(app)})))`)
    assert.equal(run.exitCode, 0, `verifyPath threw for ${rel} locked:\n${run.stderr}`)
    return JSON.parse(run.stdout) as VerifyReport
  }

  for (const rel of [
    'Contents/Resources/bg.jpg',
    'Contents/MacOS/package_copy',
    'Contents/Info.plist',
    'Contents/_CodeSignature/CodeResources',
    'Contents/CodeResources',
    'Contents/Resources/en.lproj',
  ]) {
    it(`${rel} locked: one input.unreadable naming it, and no finding that calls it missing or changed`, async () => {
      const r = await verifyLocked(rel)
      const app = r.path
      const unreadable = r.findings.filter(f => f.id === 'input.unreadable')
      assert.deepEqual(unreadable.map(f => f.path), [join(app, rel)], JSON.stringify(r.findings.map(f => [f.id, f.message])))
      assert.match(unreadable[0]!.message, /cannot be read \(EACCES\)/)
      assert.match(unreadable[0]!.fix!, /sudo/)
      assert.equal(r.ok, false)
      // Not absent, not altered, not runaway: the reader was refused, and that is all esdctl knows.
      const wrong = r.findings.filter(f => ['bundle.info-plist-missing', 'seal.absent', 'seal.modified', 'seal.nested-bundle-unchecked', 'bundle.unreadable'].includes(f.id))
      assert.deepEqual(wrong.map(f => f.id), [])
      // A folder that cannot be listed stops the walk: nothing else was judged, so no slice is reported.
      if (rel.endsWith('en.lproj')) assert.deepEqual(r.slices, [])
    })
  }

  it('an executable added to Contents/MacOS after signing and locked: input.unreadable for it, though no seal entry leads there', async () => {
    const app = join(dir, 'added.app')
    await cp(OPERA, app, {recursive: true})
    const extra = join(app, 'Contents/MacOS/extra')
    await copyFile(join(app, 'Contents/MacOS/package_copy'), extra)
    await chmod(extra, 0o000)
    const run = await asNobody(`const {verifyPath} = await import(${JSON.stringify(VERIFY_PATH)}); process.stdout.write(JSON.stringify(await verifyPath(${JSON.stringify(app)})))`)
    assert.equal(run.exitCode, 0, run.stderr)
    const r = JSON.parse(run.stdout) as VerifyReport
    assert.deepEqual(r.findings.filter(f => f.id === 'input.unreadable').map(f => f.path), [extra], JSON.stringify(r.findings.map(f => [f.id, f.path])))
  })

  it('an embedded.provisionprofile locked: input.unreadable, not "malformed" nor "no profile"', async function () {
    const profile = realProfile('processmonitor-devid-es')
    if (!profile) return skipBecause(this, 'fixtures-absent')
    const app = join(dir, 'profile.app')
    await cp(OPERA, app, {recursive: true})
    await copyFile(profile, join(app, 'Contents/embedded.provisionprofile'))
    await chmod(join(app, 'Contents/embedded.provisionprofile'), 0o000)
    const run = await asNobody(`const {verifyPath} = await import(${JSON.stringify(VERIFY_PATH)}); process.stdout.write(JSON.stringify(await verifyPath(${JSON.stringify(app)})))`)
    assert.equal(run.exitCode, 0, run.stderr)
    const r = JSON.parse(run.stdout) as VerifyReport
    assert.deepEqual(r.findings.filter(f => f.id.startsWith('input.') || f.id.startsWith('profile.')).map(f => [f.id, f.path]), [['input.unreadable', join(app, 'Contents/embedded.provisionprofile')]])
  })

  it('the command as nobody: exit 4 and the part named, no stack trace, text and --json alike', async () => {
    const app = join(dir, 'cli.app')
    await cp(OPERA, app, {recursive: true})
    const locked = join(app, 'Contents/Resources/bg.jpg')
    await chmod(locked, 0o000)
    const run = (argv: string[]) => execa(process.execPath, [join(REPO_ROOT, 'bin', 'run.js'), ...argv], {uid: NOBODY, gid: NOBODY, reject: false, cwd: '/', env: {HOME: '/nonexistent'}})
    const text = await run(['verify', app])
    assert.equal(text.exitCode, 4, text.stdout + text.stderr)
    assert.match(text.stdout, new RegExp(`${locked.replaceAll('.', '\\.')}: cannot be read \\(EACCES\\)`))
    assert.doesNotMatch(text.stdout + text.stderr, /\n\s+at |internal error/)
    // The seal could not hash every file it lists: not a pass.
    assert.match(text.stdout, /^– Resource seal \(CodeResources\): not checked$/m)
    const json = await run(['verify', '--json', app])
    assert.equal(json.exitCode, 4, json.stdout + json.stderr)
    const report = JSON.parse(json.stdout) as VerifyReport
    assert.deepEqual(report.findings.filter(f => f.id === 'input.unreadable').map(f => f.path), [locked])
  })

  /** `esdctl verify [--json] path` as nobody. */
  const cliAsNobody = (...argv: string[]) => execa(process.execPath, [join(REPO_ROOT, 'bin', 'run.js'), ...argv], {uid: NOBODY, gid: NOBODY, reject: false, cwd: '/', env: {HOME: '/nonexistent'}})

  it('a nested executable locked: its tree line says unreadable and why, never "unsigned"; --json gives the refusal, no signer', async () => {
    const app = join(dir, 'nested-tree.app')
    await cp(OPERA, app, {recursive: true})
    await chmod(join(app, 'Contents/MacOS/package_copy'), 0o000)
    const text = await cliAsNobody('verify', app)
    assert.equal(text.exitCode, 4, text.stdout + text.stderr)
    assert.match(text.stdout, /^ {4}✖ MacOS\/package_copy \(macho\): unreadable: permission denied \(EACCES\)$/m)
    assert.doesNotMatch(text.stdout, /unsigned/)
    const json = await cliAsNobody('verify', '--json', app)
    const report = JSON.parse(json.stdout) as VerifyReport
    assert.deepEqual(report.nested, [{path: 'MacOS/package_copy', kind: 'macho', unreadable: 'EACCES', ok: false}])
  })

  it('a folder holding the real bundle and a locked loose file: the bundle\'s seal is judged (✔), only the loose file is unreadable', async () => {
    const folder = join(dir, 'folder-loose')
    await mkdir(folder)
    await chmod(folder, 0o755)
    await cp(OPERA, join(folder, 'Opera.app'), {recursive: true})
    const loose = join(folder, 'locked.bin')
    await writeFile(loose, 'not for nobody')
    await chmod(loose, 0o000)
    const text = await cliAsNobody('verify', folder)
    assert.equal(text.exitCode, 4, text.stdout + text.stderr)
    assert.match(text.stdout, /^✔ Resource seal \(CodeResources\)$/m)
    assert.match(text.stdout, /^✔ Bundle layout and Info\.plist$/m)
    assert.match(text.stdout, /^✔ Provisioning profile$/m)
    assert.doesNotMatch(text.stdout, /not checked/)
    const report = JSON.parse((await cliAsNobody('verify', '--json', folder)).stdout) as VerifyReport
    assert.deepEqual(report.findings.filter(f => f.id === 'input.unreadable').map(f => f.path), [loose])
  })

  for (const [rel, unchecked] of [
    ['Contents/Resources/bg.jpg', ['Resource seal (CodeResources)']],
    ['Contents/Info.plist', ['Bundle layout and Info.plist', 'Resource seal (CodeResources)', 'Provisioning profile']],
  ] as const) {
    it(`a folder whose bundle has ${rel} locked: what that bundle's part stopped is not checked, never ✔`, async () => {
      const folder = join(dir, `folder-member-${rel.replaceAll('/', '_')}`)
      await mkdir(folder)
      await chmod(folder, 0o755)
      await cp(OPERA, join(folder, 'Opera.app'), {recursive: true})
      await chmod(join(folder, 'Opera.app', rel), 0o000)
      const text = await cliAsNobody('verify', folder)
      assert.equal(text.exitCode, 4, text.stdout + text.stderr)
      for (const title of unchecked) assert.match(text.stdout, new RegExp(`^– ${title.replace(/[().]/g, '\\$&')}: not checked$`, 'm'), text.stdout)
    })
  }
})

describe('refusalInWords: a read refusal in the words of strerror(3)', () => {
  it('names each refusal a reader meets, and shows any other code as itself', () => {
    assert.equal(refusalInWords('EACCES'), 'permission denied (EACCES)')
    assert.equal(refusalInWords('EPERM'), 'operation not permitted (EPERM)')
    assert.equal(refusalInWords('EIO'), 'input/output error (EIO)')
    assert.equal(refusalInWords('ELOOP'), 'too many levels of symbolic links (ELOOP)')
    assert.equal(refusalInWords('ENAMETOOLONG'), 'file name too long (ENAMETOOLONG)')
    assert.equal(refusalInWords('EXDEV'), 'EXDEV')
  })
})
