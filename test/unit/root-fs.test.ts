import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {RootFs, isRootFsError} from '../../src/adapters/root-fs.js'

describe('RootFs: changes only inside its allowed roots, never through a link', () => {
  let dir: string
  let fs: RootFs
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'esdctl-rootfs-'))
    mkdirSync(join(dir, 'prefix'))
    fs = new RootFs().restrictedTo([join(dir, 'prefix')])
  })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  it('refuses to write, rename or remove outside the allowed roots (segment-wise: prefix-evil is outside)', async () => {
    writeFileSync(join(dir, 'outside'), 'x')
    mkdirSync(join(dir, 'prefix-evil'))
    for (const attempt of [
      () => fs.writeFileAtomic(join(dir, 'outside'), 'y', 0o644),
      () => fs.removeTree(join(dir, 'outside')),
      () => fs.rename(join(dir, 'outside'), join(dir, 'prefix', 'moved')),
      () => fs.writeFileAtomic(join(dir, 'prefix-evil', 'f'), 'y', 0o644),
    ]) {
      await assert.rejects(attempt(), (e: unknown) => isRootFsError(e) && e.code === 'root-fs.outside-allowed')
    }
    assert.equal(readFileSync(join(dir, 'outside'), 'utf8'), 'x')
    assert.equal(new RootFs().isAllowed('/anything'), false)
  })

  it('refuses to write, move or remove through a directory inside the root that is a link', async () => {
    mkdirSync(join(dir, 'elsewhere'))
    writeFileSync(join(dir, 'elsewhere', 'f'), 'keep')
    symlinkSync(join(dir, 'elsewhere'), join(dir, 'prefix', 'etc'))
    for (const attempt of [
      () => fs.writeFileAtomic(join(dir, 'prefix', 'etc', 'g'), 'y', 0o644),
      () => fs.rename(join(dir, 'prefix', 'etc', 'f'), join(dir, 'prefix', 'moved')),
      () => fs.removeTree(join(dir, 'prefix', 'etc', 'f')),
      () => fs.ensureDir(join(dir, 'prefix', 'etc', 'deeper'), 0o755),
    ]) {
      await assert.rejects(attempt(), (e: unknown) => isRootFsError(e) && e.code === 'root-fs.symlink' && /prefix\/etc is a symbolic link/.test(e.message))
    }
    assert.equal(readFileSync(join(dir, 'elsewhere', 'f'), 'utf8'), 'keep')
    assert.equal(existsSync(join(dir, 'elsewhere', 'g')), false)
  })

  it('writes atomically with the mode asked for, and replaces a planted link rather than writing through it', async () => {
    const target = join(dir, 'victim')
    writeFileSync(target, 'original')
    symlinkSync(target, join(dir, 'prefix', 'conf'))
    await fs.writeFileAtomic(join(dir, 'prefix', 'conf'), 'new', 0o600)
    assert.equal(readFileSync(target, 'utf8'), 'original')
    assert.ok(lstatSync(join(dir, 'prefix', 'conf')).isFile())
    assert.equal(lstatSync(join(dir, 'prefix', 'conf')).mode & 0o777, 0o600)
  })

  it('reads never follow a final link; removeTree removes a link, not what it points to', async () => {
    const target = join(dir, 'victim')
    writeFileSync(target, 'secret')
    symlinkSync(target, join(dir, 'prefix', 'link'))
    await assert.rejects(fs.readFile(join(dir, 'prefix', 'link'), 100), (e: NodeJS.ErrnoException) => e.code === 'ELOOP')
    await fs.removeTree(join(dir, 'prefix', 'link'))
    assert.equal(readFileSync(target, 'utf8'), 'secret')
  })

  it('ensureDir refuses a link among the components and reports what it created', async () => {
    mkdirSync(join(dir, 'real'))
    symlinkSync(join(dir, 'real'), join(dir, 'prefix', 'etc'))
    await assert.rejects(fs.ensureDir(join(dir, 'prefix', 'etc', 'sub'), 0o755), (e: unknown) => isRootFsError(e) && e.code === 'root-fs.symlink')
    assert.equal(existsSync(join(dir, 'real', 'sub')), false)
    assert.deepEqual(await fs.ensureDir(join(dir, 'prefix', 'a', 'b'), 0o700), [join(dir, 'prefix', 'a'), join(dir, 'prefix', 'a', 'b')])
    assert.equal(lstatSync(join(dir, 'prefix', 'a', 'b')).mode & 0o777, 0o700)
  })

  it('symlinkAtomic replaces a link in one rename; copyTree keeps links as links, drops setuid and refuses a FIFO', async () => {
    await fs.symlinkAtomic('../one', join(dir, 'prefix', 'bin'))
    await fs.symlinkAtomic('../two', join(dir, 'prefix', 'bin'))
    assert.equal(readlinkSync(join(dir, 'prefix', 'bin')), '../two')
    const src = join(dir, 'src')
    mkdirSync(src)
    writeFileSync(join(src, 'tool'), 'x', {mode: 0o4777})
    symlinkSync('tool', join(src, 'alias'))
    await fs.copyTree(src, join(dir, 'prefix', 'copy'))
    assert.equal(lstatSync(join(dir, 'prefix', 'copy', 'tool')).mode & 0o7777, 0o755)
    assert.equal(readlinkSync(join(dir, 'prefix', 'copy', 'alias')), 'tool')
    execFileSync('mkfifo', [join(src, 'pipe')])
    await assert.rejects(fs.copyTree(src, join(dir, 'prefix', 'copy2')), (e: unknown) => isRootFsError(e) && e.code === 'root-fs.unsupported-entry')
  })
})
