import {strict as assert} from 'node:assert'
import {createWriteStream, existsSync} from 'node:fs'
import {lstat, mkdtemp, readdir, readFile, readlink, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {gzipSync} from 'node:zlib'
import {Header} from 'tar'
import yazl from 'yazl'
import {verifyArchive} from '../../src/verify/verify-archive.js'
import {verifyPath} from '../../src/verify/verify-path.js'
import {renderVerifyText} from '../../src/render/verify-text.js'
import {DEFAULT_ARCHIVE_LIMITS} from '../../src/payload/archive-limits.js'
import {ARTIFACTS, realArtifact, realTarball} from '../support/real-artifacts.js'
import {REAL_BUNDLES_DIR} from '../support/real-shipped.js'
import {skipBecause} from '../support/skip.js'
import {expectFinding} from '../support/expect-finding.js'
import {ExitCode} from '../../src/exit-codes.js'

const OPERA = 'Opera Beta Installer.app'
const MAIN = `${OPERA}/Contents/MacOS/Opera Beta Installer`

/** An AppleDouble header (magic 00 05 16 07, version 2) with one empty Finder-info entry: what ditto writes for a file's xattrs. */
function appleDouble(): Buffer {
  const b = Buffer.alloc(26 + 12 + 32)
  b.writeUInt32BE(0x00051607, 0)
  b.writeUInt32BE(0x00020000, 4)
  b.write('Mac OS X        ', 8, 'latin1')
  b.writeUInt16BE(1, 24)
  b.writeUInt32BE(9, 26)
  b.writeUInt32BE(38, 30)
  b.writeUInt32BE(32, 34)
  return b
}

/**
 * Zips `bundle` as `ditto -c -k --sequesterRsrc --keepParent` lays it out: folders, files and links
 * with their Unix modes, an AppleDouble file per regular file under `__MACOSX/`, plus one `._` file
 * left beside its sibling inside the bundle (as a plain `zip` of a copied tree carries them).
 * `stored` names members written uncompressed.
 */
async function dittoZip(bundle: string, out: string, stored: ReadonlySet<string> = new Set(), after?: (zip: yazl.ZipFile) => void): Promise<void> {
  const zip = new yazl.ZipFile()
  const walk = async (abs: string, rel: string): Promise<void> => {
    const st = await lstat(abs)
    if (st.isSymbolicLink()) {
      zip.addBuffer(Buffer.from(await readlink(abs)), rel, {mode: 0o120755})
    } else if (st.isDirectory()) {
      zip.addEmptyDirectory(rel, {mode: st.mode})
      for (const name of (await readdir(abs)).sort()) await walk(join(abs, name), `${rel}/${name}`)
    } else {
      zip.addFile(abs, rel, {mode: st.mode, compress: !stored.has(rel)})
      zip.addBuffer(appleDouble(), `__MACOSX/${dirname(rel)}/._${rel.split('/').pop()}`)
    }
  }
  await walk(bundle, OPERA)
  zip.addBuffer(appleDouble(), `${OPERA}/Contents/._Info.plist`)
  after?.(zip)
  zip.end()
  await new Promise<void>((resolve, reject) => zip.outputStream.pipe(createWriteStream(out)).on('close', resolve).on('error', reject))
}

const UNSAFE_MEMBER_FIX = "Build the archive from the bundle's own folder, so that every member name is relative and holds no '..' (ditto -c -k --keepParent <name>.app <name>.zip, or tar -czf <name>.tar.gz <name>.app)."

describe('esdctl verify on .zip and .tar.gz archives (streamed, nothing extracted)', function () {
  this.timeout(180_000)
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'esdctl-archives-'))
  })
  after(async () => rm(dir, {recursive: true, force: true}))

  function opera(ctx: Mocha.Context): string {
    const p = join(REAL_BUNDLES_DIR, OPERA)
    if (!existsSync(p)) skipBecause(ctx, 'fixtures-absent')
    return p
  }

  it('a ditto-style zip of the real stapled bundle: the bundle judged as on disk, __MACOSX counted, not checked as code', async function () {
    const bundle = opera(this)
    const zip = join(dir, 'opera.zip')
    await dittoZip(bundle, zip)
    const [r, onDisk] = await Promise.all([verifyPath(zip), verifyPath(bundle)])
    assert.equal(r.kind, 'archive')
    assert.deepEqual(r.items!.map(i => [i.path, i.kind]), [[OPERA, 'bundle']])
    const item = r.items![0]!
    assert.deepEqual(item.slices, onDisk.slices)
    assert.equal(item.notarization?.verified, true, 'the stapled ticket travels inside the bundle and is verified')
    const shown = (s: string) => s.split(bundle).join(`${zip}:${OPERA}`)
    assert.deepEqual(item.findings.map(f => [f.id, f.path, f.message]), onDisk.findings.map(f => [f.id, shown(f.path), shown(f.message)]))
    const doubles = r.findings.filter(f => f.id === 'archive.apple-double')
    assert.equal(doubles.length, 1)
    expectFinding(r, {id: 'archive.apple-double', severity: 'info', exitCode: ExitCode.ok})
    assert.match(renderVerifyText(r), /^i Other$/m, 'an info finding alone is not shown with the warning mark')
    // Every group of checks the bundle on disk shows (passed or not) is shown for the archive too, with the same mark.
    const groups = (text: string): string[] => text.split('\n').filter(l => /^[✔✖!–] /.test(l))
    assert.deepEqual(groups(renderVerifyText(r)), groups(renderVerifyText(onDisk)))
    assert.ok(groups(renderVerifyText(r)).includes('✔ Resource seal (CodeResources)'), renderVerifyText(r))
    assert.equal(doubles[0]!.severity, 'info')
    assert.match(doubles[0]!.message, /\d+ AppleDouble files under __MACOSX\//)
    assert.equal(r.ok, onDisk.ok)
  })

  it('a changed byte in a stored member: archive.malformed naming it (its CRC-32), never an exception', async function () {
    const bundle = opera(this)
    const zip = join(dir, 'opera-damaged.zip')
    await dittoZip(bundle, zip, new Set([MAIN]))
    const bytes = await readFile(zip)
    const exe = await readFile(join(bundle, 'Contents', 'MacOS', 'Opera Beta Installer'))
    const at = bytes.indexOf(exe.subarray(20_000, 20_064))
    assert.ok(at > 0, 'the stored executable is in the zip as is')
    bytes[at + 10] = bytes[at + 10]! ^ 0xff
    await writeFile(zip, bytes)
    const r = await verifyPath(zip)
    assert.equal(r.ok, false)
    assert.deepEqual(r.findings.map(f => f.id), ['archive.malformed'])
    expectFinding(r, {id: 'archive.malformed', severity: 'error', exitCode: ExitCode.verificationFailed})
    assert.match(r.findings[0]!.message, /Opera Beta Installer: its CRC-32/)
  })

  it('a bundle whose members are not stored together: checked without the stray one, and archive.item-unchecked says so', async function () {
    const bundle = opera(this)
    const zip = join(dir, 'opera-split.zip')
    await dittoZip(bundle, zip, new Set(), z => {
      z.addBuffer(Buffer.from('read me\n'), 'README.txt')
      z.addBuffer(Buffer.from('late\n'), `${OPERA}/Contents/Resources/late.txt`)
    })
    const r = await verifyPath(zip)
    assert.deepEqual(r.items!.map(i => i.path), [OPERA])
    const f = expectFinding(r, {id: 'archive.item-unchecked', severity: 'warning', exitCode: ExitCode.ok})
    assert.match(f.message, /not stored together, so esdctl checked the bundle without .*late\.txt/)
  })

  it('a zip whose members claim more than the bound: archive.too-large before anything is checked', async function () {
    const bundle = opera(this)
    const zip = join(dir, 'opera-bound.zip')
    await dittoZip(bundle, zip)
    const r = await verifyArchive(zip, 'zip', verifyPath, {...DEFAULT_ARCHIVE_LIMITS, maxTotalBytes: 64 * 1024})
    assert.deepEqual(r.findings.map(f => f.id), ['archive.too-large'])
    assert.deepEqual(r.items, [])
  })

  it('a real npm tarball (.tgz, integrity-checked): its Developer ID binary judged as when unpacked', async function () {
    const tgz = await realTarball(ARTIFACTS.sentryCli)
    const [r, unpacked] = await Promise.all([verifyPath(tgz), realArtifact(ARTIFACTS.sentryCli).then(p => verifyPath(p))])
    assert.equal(r.kind, 'archive')
    assert.equal(r.ok, true)
    const code = r.items!.filter(i => i.kind === 'macho')
    assert.deepEqual(code.map(i => i.path), ['package/bin/sentry-cli'])
    assert.deepEqual(code[0]!.slices, unpacked.slices)
    assert.deepEqual(code[0]!.slices.map(s => s.arch).sort(), ['arm64', 'x86_64'])
  })

  it('a gzip bomb (megabytes of zero blocks): archive.too-large once the inflated stream passes the bound', async () => {
    const bomb = join(dir, 'bomb.tar.gz')
    await writeFile(bomb, gzipSync(Buffer.alloc(8 * 1024 * 1024)))
    const r = await verifyArchive(bomb, 'tar', verifyPath, {...DEFAULT_ARCHIVE_LIMITS, maxArchiveBytes: 1024 * 1024})
    assert.deepEqual(r.findings.map(f => f.id), ['archive.too-large'])
    expectFinding({ok: false, path: bomb, kind: 'archive', slices: [], ...r}, {id: 'archive.too-large', severity: 'error', exitCode: ExitCode.verificationFailed})
  })

  it('a tar member whose name leaves the archive: archive.malformed', async () => {
    const evil = join(dir, 'evil.tgz')
    const header = new Header({path: '../evil', type: 'File', size: 4, mode: 0o644, mtime: new Date(0)})
    header.encode()
    const data = Buffer.alloc(512)
    data.write('evil')
    await writeFile(evil, gzipSync(Buffer.concat([header.block!, data, Buffer.alloc(1024)])))
    const r = await verifyPath(evil)
    assert.deepEqual(r.findings.map(f => f.id), ['archive.malformed'])
    assert.match(r.findings[0]!.message, /\.\.\/evil/)
    // Not damage: the archive was built from the wrong place, and the fix says how to build it.
    assert.equal(r.findings[0]!.fix, UNSAFE_MEMBER_FIX)
  })

  for (const name of ['/tmp/x', 'C:/x', 'C:\\x', '\\tmp\\x']) {
    it(`a zip member named ${JSON.stringify(name)} (absolute, a drive or backslashes): archive.malformed naming it, told how to build it, exit 3`, async () => {
      // yazl refuses such names, so the zip is written with a placeholder of the same length, then patched in both headers.
      const placeholder = 'X'.repeat(Buffer.byteLength(name))
      const zip = new yazl.ZipFile()
      zip.addBuffer(Buffer.from('evil'), placeholder)
      zip.end()
      const chunks: Buffer[] = []
      for await (const c of zip.outputStream) chunks.push(c as Buffer)
      const path = join(dir, 'absolute.zip')
      await writeFile(path, Buffer.from(Buffer.concat(chunks).toString('latin1').split(placeholder).join(name), 'latin1'))
      const r = await verifyPath(path)
      assert.deepEqual(r.findings.map(f => f.id), ['archive.malformed'])
      assert.ok(r.findings[0]!.message.includes(name.replaceAll('\\', '/')), r.findings[0]!.message)
      assert.equal(r.findings[0]!.fix, UNSAFE_MEMBER_FIX)
      expectFinding(r, {id: 'archive.malformed', severity: 'error', exitCode: ExitCode.verificationFailed})
    })
  }

  it('a file of no kind esdctl verifies: input.unknown-kind listing every kind it does, exit 4', async () => {
    const path = join(dir, 'notes.txt')
    await writeFile(path, 'just text\n')
    const r = await verifyPath(path)
    expectFinding(r, {id: 'input.unknown-kind', severity: 'error', exitCode: ExitCode.badInput})
    assert.equal(r.findings[0]!.message, `${path}: neither a Mach-O executable, an app bundle, a provisioning profile, an installer package (.pkg), a folder, a .zip nor a gzip'd tarball (.tar.gz, .tgz)`)
    assert.equal(r.findings[0]!.fix, 'Point esdctl at <name>.app, a Mach-O executable, a .provisionprofile, a .pkg, a folder, a .zip or a .tar.gz/.tgz.')
  })

  for (const [name, rebuild] of [
    ['damaged.zip', 'ditto -c -k --keepParent <name>.app <name>.zip'],
    ['damaged.tgz', 'tar -czf <name>.tar.gz <name>.app'],
  ] as const) {
    it(`${name}: archive.malformed's fix rebuilds the same kind of archive (${rebuild})`, async () => {
      const path = join(dir, name)
      await writeFile(path, Buffer.concat([Buffer.from(name.endsWith('.zip') ? '504b0304' : '1f8b08', 'hex'), Buffer.alloc(100)]))
      const r = await verifyPath(path)
      assert.deepEqual(r.findings.map(f => f.id), ['archive.malformed'])
      assert.equal(r.findings[0]!.fix, `The archive is damaged (a truncated download or a changed byte): download or build it again (${rebuild}).`)
    })
  }

  for (const [name, bytes] of [
    ['damaged.zip', Buffer.concat([Buffer.from('504b0304', 'hex'), Buffer.alloc(100)])],
    ['damaged.tar.gz', Buffer.concat([Buffer.from('1f8b08', 'hex'), Buffer.alloc(100)])],
  ] as const) {
    it(`${name} (a header, then zeros): archive.malformed, exit 3, never an exception`, async () => {
      const path = join(dir, name)
      await writeFile(path, bytes)
      const r = await verifyPath(path)
      assert.equal(r.kind, 'archive')
      assert.deepEqual(r.findings.map(f => f.id), ['archive.malformed'])
      assert.ok(r.findings[0]!.message.startsWith(path))
    })
  }
})
