import assert from 'node:assert/strict'
import {createHash, randomBytes} from 'node:crypto'
import {execFileSync} from 'node:child_process'
import {chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {RootFs, RootFsError, TEMP_SUFFIX, fsyncDir, isRootFsError} from '../../src/adapters/root-fs.js'
import {skipBecause} from '../support/skip.js'
import {execa} from 'execa'

const NOBODY = 65534

/** Open descriptors of this process (/dev/fd lists them on Linux and macOS). */
const openDescriptors = (): number => readdirSync('/dev/fd').length

/**
 * Names whose JavaScript order differs from the byte order in which libuv's scandir lists them:
 * U+1F600 is a surrogate pair (0xD83D…) in UTF-16, sorting before U+FF61, but F0… in UTF-8, after EF….
 */
const SHUFFLED = ['m', 'c', 'x\uFF61', 'x\u{1F600}', 'a', 'q', 'f', 'z', 'b']

/** The behaviours of RootFs that the mutation run (npm run mutate -- root-fs) found undefended. */
describe('RootFs: reads, bounds, and the rest of its refusals', () => {
  let dir: string
  let prefix: string
  let fs: RootFs
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'esdctl-rootfs-m-'))
    prefix = join(dir, 'prefix')
    mkdirSync(prefix)
    fs = new RootFs().restrictedTo([prefix])
  })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  const refusedAs = (code: string, text?: RegExp) => (e: unknown) => isRootFsError(e) && e.code === code && (text === undefined || text.test(e.message))

  it('an allowed root must be an absolute path below /: a relative one, one with .. and / itself are refused', () => {
    for (const root of ['relative/dir', '/opt/../etc', '/']) {
      assert.throws(() => new RootFs([root]), new RegExp(`${JSON.stringify(root).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} cannot be an allowed root`))
    }
  })

  it('isAllowed: inside a root (the root itself too) yes; beside it, above it, or relative no', () => {
    assert.equal(fs.isAllowed(prefix), true)
    assert.equal(fs.isAllowed(join(prefix, 'a', 'b')), true)
    assert.equal(fs.isAllowed(`${prefix}-evil`), false)
    assert.equal(fs.isAllowed(dir), false)
    assert.equal(fs.isAllowed('prefix/a'), false)
  })

  it('a refusal outside every root names the path and the allowed roots, or "nothing" when there are none', async () => {
    await assert.rejects(fs.removeTree(join(dir, 'x')), refusedAs('root-fs.outside-allowed', new RegExp(`refusing to remove ${join(dir, 'x')}: it is outside what esdctl may change \\(${prefix}\\)`)))
    await assert.rejects(new RootFs().removeTree(join(dir, 'x')), refusedAs('root-fs.outside-allowed', /\(nothing\)$/))
    await assert.rejects(fs.removeTree('relative'), refusedAs('root-fs.outside-allowed'))
    const two = new RootFs([join(dir, 'a'), join(dir, 'b')])
    await assert.rejects(two.ensureDir(join(dir, 'c'), 0o755), refusedAs('root-fs.outside-allowed', new RegExp(`^refusing to create ${join(dir, 'c')}: it is outside what esdctl may change \\(${join(dir, 'a')}, ${join(dir, 'b')}\\)$`)))
    await assert.rejects(fs.rename(join(dir, 'x'), join(prefix, 'y')), refusedAs('root-fs.outside-allowed', /^refusing to move /))
    await assert.rejects(fs.removeTree(join(dir, 'x')), (e: unknown) => e instanceof RootFsError && e.name === 'RootFsError' && e.path === join(dir, 'x'))
  })

  it('a link planted directly below the root is refused too, and a missing directory ends the walk', async () => {
    mkdirSync(join(dir, 'elsewhere'))
    symlinkSync(join(dir, 'elsewhere'), join(prefix, 'etc'))
    await assert.rejects(fs.writeFileAtomic(join(prefix, 'etc', 'f'), 'x', 0o644), refusedAs('root-fs.symlink', /refusing to write .*: .*prefix\/etc is a symbolic link/))
    assert.equal(existsSync(join(dir, 'elsewhere', 'f')), false)
    // Not there yet: nothing to be a link, the write creates nothing through one.
    await fs.ensureDir(join(prefix, 'new', 'deeper'), 0o755)
    assert.ok(lstatSync(join(prefix, 'new', 'deeper')).isDirectory())
  })

  it('an allowed root that is itself a link is not judged by the guard (checkAncestors judges it), but nothing is created through it', async () => {
    mkdirSync(join(dir, 'real'))
    symlinkSync(join(dir, 'real'), join(dir, 'linked'))
    const linked = new RootFs([join(dir, 'linked')])
    await linked.writeFileAtomic(join(dir, 'linked', 'f'), 'x', 0o644)
    assert.equal(readFileSync(join(dir, 'real', 'f'), 'utf8'), 'x')
    await assert.rejects(linked.ensureDir(join(dir, 'linked', 'sub'), 0o755), refusedAs('root-fs.symlink', /linked is a symbolic link; esdctl never creates anything through a link/))
    assert.equal(existsSync(join(dir, 'real', 'sub')), false)
  })

  it('lstat answers undefined only for a missing path; any other error is passed on', async () => {
    writeFileSync(join(prefix, 'file'), '')
    assert.equal(await fs.lstat(join(prefix, 'missing')), undefined)
    await assert.rejects(fs.lstat(join(prefix, 'file', 'x')), (e: NodeJS.ErrnoException) => e.code === 'ENOTDIR')
  })

  it('readFile allocates for the file, not for the limit: a limit far beyond memory still reads a small file', async () => {
    writeFileSync(join(prefix, 'small'), 'abc')
    assert.equal((await fs.readFile(join(prefix, 'small'), Number.MAX_SAFE_INTEGER)).toString(), 'abc')
  })

  it('readFile refuses a file that grows past the limit while being read (a /proc file: size 0, then content)', async function () {
    if (!existsSync('/proc/self/status')) return skipBecause(this, 'not-on-macos')
    await assert.rejects(fs.readFile('/proc/self/status', 0), refusedAs('root-fs.too-large', /^\/proc\/self\/status grew beyond 0 bytes while being read$/))
  })

  it('no descriptor is left open, after success or refusal', async () => {
    const src = join(dir, 'src')
    mkdirSync(src)
    writeFileSync(join(src, 'f'), 'data')
    writeFileSync(join(prefix, 'big'), 'more than ten bytes')
    const before = openDescriptors()
    for (let i = 0; i < 5; i++) {
      await fs.readFile(join(src, 'f'), 100)
      await assert.rejects(fs.readFile(join(prefix, 'big'), 10))
      await fs.sha256(join(src, 'f'))
      await fs.writeFileAtomic(join(prefix, 'w'), 'x', 0o644)
      await fs.copyTree(src, join(prefix, `copy${i}`))
      await fsyncDir(prefix)
    }
    assert.equal(openDescriptors(), before)
  })

  it('run by an unprivileged user (its own tests), writes and mode changes go ahead without the chown to root', async function () {
    if (process.geteuid?.() !== 0) return skipBecause(this, 'needs-root')
    const own = join(dir, 'own')
    chmodSync(dir, 0o755)
    mkdirSync(own)
    chownSync(own, NOBODY, NOBODY)
    const module = new URL('../../src/adapters/root-fs.js', import.meta.url).href
    const script = `const {RootFs} = await import(${JSON.stringify(module)}); const fs = new RootFs([${JSON.stringify(own)}]);` +
      `await fs.writeFileAtomic(${JSON.stringify(join(own, 'f'))}, 'x', 0o640); await fs.setOwnerAndMode(${JSON.stringify(join(own, 'f'))}, 0o600)`
    const run = await execa(process.execPath, ['--input-type=module', '-e', script], {uid: NOBODY, gid: NOBODY, reject: false, cwd: '/'})
    if (run.exitCode !== 0 && /EACCES|permission denied/i.test(run.stderr + (run.shortMessage ?? '')) && !existsSync(join(own, 'f'))) return skipBecause(this, 'uid-switch-refused')
    assert.equal(run.exitCode, 0, run.stderr)
    assert.equal(lstatSync(join(own, 'f')).uid, NOBODY)
    assert.equal(lstatSync(join(own, 'f')).mode & 0o777, 0o600)
  })

  it('only EPERM from the chown to root is passed over: any other chown error (a path that is gone: ENOENT) fails the change there', async () => {
    await assert.rejects(fs.setOwnerAndMode(join(prefix, 'gone'), 0o644), (e: NodeJS.ErrnoException) => e.code === 'ENOENT' && e.syscall === 'chown')
  })

  it('fsyncDir opens a directory only', async () => {
    writeFileSync(join(prefix, 'f'), '')
    await assert.rejects(fsyncDir(join(prefix, 'f')), (e: NodeJS.ErrnoException) => e.code === 'ENOTDIR')
  })

  it('readFile returns the bytes of a file up to the limit, and refuses a larger file or a directory', async () => {
    const path = join(prefix, 'conf')
    writeFileSync(path, 'twelve bytes')
    assert.equal((await fs.readFile(path, 12)).toString(), 'twelve bytes')
    assert.equal((await fs.readFile(path, 100)).length, 12)
    await assert.rejects(fs.readFile(path, 11), refusedAs('root-fs.too-large', /conf is 12 bytes, more than the 11 allowed/))
    await assert.rejects(fs.readFile(prefix, 100), refusedAs('root-fs.unsupported-entry', /is not a regular file/))
    writeFileSync(join(prefix, 'empty'), '')
    assert.equal((await fs.readFile(join(prefix, 'empty'), 0)).length, 0)
  })

  it('sha256 hashes the whole file, across more than one read chunk, and never follows a link', async () => {
    const bytes = randomBytes(2 * 1024 * 1024 + 17)
    writeFileSync(join(prefix, 'big'), bytes)
    assert.equal(await fs.sha256(join(prefix, 'big')), createHash('sha256').update(bytes).digest('hex'))
    writeFileSync(join(prefix, 'empty'), '')
    assert.equal(await fs.sha256(join(prefix, 'empty')), createHash('sha256').digest('hex'))
    symlinkSync(join(prefix, 'big'), join(prefix, 'link'))
    await assert.rejects(fs.sha256(join(prefix, 'link')), (e: NodeJS.ErrnoException) => e.code === 'ELOOP')
  })

  it('list gives a directory\'s names sorted, and nothing for a missing directory, a file or a link to a directory', async () => {
    for (const name of SHUFFLED) writeFileSync(join(prefix, name), '')
    assert.deepEqual(await fs.list(prefix), [...SHUFFLED].sort())
    assert.deepEqual(await fs.list(join(prefix, 'missing')), [])
    assert.deepEqual(await fs.list(join(prefix, 'a')), [])
    symlinkSync(prefix, join(dir, 'link'))
    assert.deepEqual(await fs.list(join(dir, 'link')), [])
  })

  it('listFiles walks subdirectories, sorted, with links and special files among the others', async () => {
    mkdirSync(join(prefix, 'sub', 'deeper'), {recursive: true})
    writeFileSync(join(prefix, 'z'), '')
    writeFileSync(join(prefix, 'sub', 'b'), '')
    writeFileSync(join(prefix, 'sub', 'a'), '')
    writeFileSync(join(prefix, 'sub', 'deeper', 'c'), '')
    symlinkSync('/etc', join(prefix, 'sub', 'link'))
    assert.deepEqual(await fs.listFiles(prefix), {files: ['sub/a', 'sub/b', 'sub/deeper/c', 'z'], others: ['sub/link']})
    for (const name of SHUFFLED) writeFileSync(join(prefix, 'sub', 'deeper', `${name}1`), '')
    assert.deepEqual((await fs.listFiles(join(prefix, 'sub', 'deeper'))).files, ['c', ...SHUFFLED.map((n) => `${n}1`)].sort())
    assert.deepEqual(await fs.listFiles(join(prefix, 'missing')), {files: [], others: []})
    assert.deepEqual(await fs.listFiles(join(prefix, 'sub', 'link')), {files: [], others: []})
  })

  it('readLink: what a link holds, undefined when nothing is there, an error for a file', async () => {
    symlinkSync('../target', join(prefix, 'l'))
    assert.equal(await fs.readLink(join(prefix, 'l')), '../target')
    assert.equal(await fs.readLink(join(prefix, 'none')), undefined)
    writeFileSync(join(prefix, 'f'), '')
    await assert.rejects(fs.readLink(join(prefix, 'f')), (e: NodeJS.ErrnoException) => e.code === 'EINVAL')
  })

  it('ensureDir creates only what is missing, refuses a file in the way, and reports nothing for an existing directory', async () => {
    assert.deepEqual(await fs.ensureDir(prefix, 0o755), [])
    writeFileSync(join(prefix, 'file'), '')
    await assert.rejects(fs.ensureDir(join(prefix, 'file', 'sub'), 0o755), refusedAs('root-fs.not-a-directory', /file is not a directory/))
    await assert.rejects(fs.ensureDir(join(dir, 'outside'), 0o755), refusedAs('root-fs.outside-allowed', /^refusing to create /))
    assert.deepEqual(await fs.ensureDir(join(prefix, 'x'), 0o751), [join(prefix, 'x')])
    assert.equal(lstatSync(join(prefix, 'x')).mode & 0o777, 0o751)
  })

  it('ensureParentDir creates the directories above an allowed path, not the path itself', async () => {
    const link = join(prefix, 'usr', 'local', 'bin', 'tool')
    assert.deepEqual(await fs.ensureParentDir(link, 0o755), [join(prefix, 'usr'), join(prefix, 'usr', 'local'), join(prefix, 'usr', 'local', 'bin')])
    assert.equal(existsSync(link), false)
    await assert.rejects(fs.ensureParentDir(join(dir, 'outside', 'tool'), 0o755), refusedAs('root-fs.outside-allowed', /refusing to create the directory of/))
    assert.equal(existsSync(join(dir, 'outside')), false)
  })

  it('writeFileAtomic replaces a stale temporary sibling and an existing file, leaving no temporary behind', async () => {
    const path = join(prefix, 'conf')
    writeFileSync(path, 'old')
    writeFileSync(path + TEMP_SUFFIX, 'left by a crash')
    await fs.writeFileAtomic(path, Buffer.from('new'), 0o640)
    assert.equal(readFileSync(path, 'utf8'), 'new')
    assert.equal(lstatSync(path).mode & 0o777, 0o640)
    assert.equal(existsSync(path + TEMP_SUFFIX), false)
  })

  it('symlinkAtomic refuses outside the roots, and replaces a stale temporary sibling', async () => {
    await assert.rejects(fs.symlinkAtomic('x', join(dir, 'l')), refusedAs('root-fs.outside-allowed', /refusing to link/))
    writeFileSync(join(prefix, 'bin') + TEMP_SUFFIX, '')
    await fs.symlinkAtomic('../one', join(prefix, 'bin'))
    assert.equal(readlinkSync(join(prefix, 'bin')), '../one')
    assert.equal(existsSync(join(prefix, 'bin') + TEMP_SUFFIX), false)
  })

  it('rename moves between directories inside the roots, and refuses a destination outside them', async () => {
    mkdirSync(join(prefix, 'a'))
    mkdirSync(join(prefix, 'b'))
    writeFileSync(join(prefix, 'a', 'f'), 'moved')
    await fs.rename(join(prefix, 'a', 'f'), join(prefix, 'b', 'f'))
    assert.equal(readFileSync(join(prefix, 'b', 'f'), 'utf8'), 'moved')
    await assert.rejects(fs.rename(join(prefix, 'b', 'f'), join(dir, 'f')), refusedAs('root-fs.outside-allowed', /refusing to replace/))
    assert.equal(existsSync(join(prefix, 'b', 'f')), true)
  })

  it('removeTree removes a whole directory, a file, and nothing when absent', async () => {
    mkdirSync(join(prefix, 't', 'sub'), {recursive: true})
    writeFileSync(join(prefix, 't', 'sub', 'f'), '')
    await fs.removeTree(join(prefix, 't'))
    assert.equal(existsSync(join(prefix, 't')), false)
    writeFileSync(join(prefix, 'f'), '')
    await fs.removeTree(join(prefix, 'f'))
    assert.equal(existsSync(join(prefix, 'f')), false)
    await fs.removeTree(join(prefix, 'absent'))
  })

  it('removeEmptyDir removes only an empty directory, answers false for a full, missing or non-directory one', async () => {
    mkdirSync(join(prefix, 'empty'))
    mkdirSync(join(prefix, 'full'))
    writeFileSync(join(prefix, 'full', 'f'), '')
    writeFileSync(join(prefix, 'file'), '')
    assert.equal(await fs.removeEmptyDir(join(prefix, 'empty')), true)
    assert.equal(existsSync(join(prefix, 'empty')), false)
    assert.equal(await fs.removeEmptyDir(join(prefix, 'full')), false)
    assert.equal(existsSync(join(prefix, 'full', 'f')), true)
    assert.equal(await fs.removeEmptyDir(join(prefix, 'missing')), false)
    assert.equal(await fs.removeEmptyDir(join(prefix, 'file')), false)
    assert.equal(await fs.removeEmptyDir(join(prefix, 'full', 'f', 'x')), false)
    // Any other failure is not "not empty": it is passed on.
    await assert.rejects(fs.removeEmptyDir(join(prefix, 'n'.repeat(300))), (e: NodeJS.ErrnoException) => e.code === 'ENAMETOOLONG')
    await assert.rejects(fs.removeEmptyDir(join(dir, 'elsewhere')), refusedAs('root-fs.outside-allowed', /refusing to remove/))
  })

  it('setOwnerAndMode sets the mode, and refuses a link or a path outside the roots', async () => {
    writeFileSync(join(prefix, 'f'), '', {mode: 0o666})
    await fs.setOwnerAndMode(join(prefix, 'f'), 0o600)
    assert.equal(lstatSync(join(prefix, 'f')).mode & 0o777, 0o600)
    if (process.geteuid?.() === 0) assert.equal(lstatSync(join(prefix, 'f')).uid, 0)
    writeFileSync(join(dir, 'victim'), '', {mode: 0o644})
    symlinkSync(join(dir, 'victim'), join(prefix, 'l'))
    await assert.rejects(fs.setOwnerAndMode(join(prefix, 'l'), 0o777), refusedAs('root-fs.symlink', /never changes anything through a link/))
    assert.equal(lstatSync(join(dir, 'victim')).mode & 0o777, 0o644)
    await assert.rejects(fs.setOwnerAndMode(join(dir, 'victim'), 0o777), refusedAs('root-fs.outside-allowed', /refusing to change/))
    await assert.rejects(fs.setOwnerAndMode(join(prefix, 'missing'), 0o600), (e: NodeJS.ErrnoException) => e.code === 'ENOENT')
  })

  it('copyTree: the top directory gets topMode, those below 0755, files keep only their execute and read bits, large files whole', async () => {
    const src = join(dir, 'src')
    mkdirSync(join(src, 'sub'), {recursive: true})
    const big = randomBytes(1024 * 1024 + 3)
    writeFileSync(join(src, 'sub', 'big'), big, {mode: 0o666})
    writeFileSync(join(src, 'tool'), 'x', {mode: 0o2775})
    await fs.copyTree(src, join(prefix, 'copy'), 0o700)
    assert.equal(lstatSync(join(prefix, 'copy')).mode & 0o7777, 0o700)
    assert.equal(lstatSync(join(prefix, 'copy', 'sub')).mode & 0o7777, 0o755)
    assert.equal(lstatSync(join(prefix, 'copy', 'sub', 'big')).mode & 0o7777, 0o644)
    assert.equal(lstatSync(join(prefix, 'copy', 'tool')).mode & 0o7777, 0o755)
    assert.deepEqual(readFileSync(join(prefix, 'copy', 'sub', 'big')), big)
    await fs.copyTree(src, join(prefix, 'copy-default'))
    assert.equal(lstatSync(join(prefix, 'copy-default')).mode & 0o7777, 0o755)
    await assert.rejects(fs.copyTree(src, join(dir, 'outside')), refusedAs('root-fs.outside-allowed', /refusing to copy to/))
    await assert.rejects(fs.copyTree(join(src, 'tool'), join(prefix, 'copy', 'tool')), (e: NodeJS.ErrnoException) => e.code === 'EEXIST')
    // Copied in JavaScript order: of two FIFOs the refusal names the first in that order.
    execFileSync('mkfifo', [join(src, 'pipe\uFF61'), join(src, 'pipe\u{1F600}')])
    await assert.rejects(fs.copyTree(src, join(prefix, 'copy3')), refusedAs('root-fs.unsupported-entry', new RegExp(`^${join(src, 'pipe\u{1F600}')} is neither a file, a directory nor a symbolic link; a payload may not contain devices, sockets or FIFOs$`, 'u')))
  })
})
