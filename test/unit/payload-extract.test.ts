import {strict as assert} from 'node:assert'
import {lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {gunzipSync, gzipSync} from 'node:zlib'
import * as tar from 'tar'
import fc from 'fast-check'
import {FormatError} from '../../src/formats/format-error.js'
import {extractPayloadArchive} from '../../src/payload/extract-archive.js'

type TarType = 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'CharacterDevice' | 'BlockDevice' | 'FIFO'
interface TestEntry {
  path: string
  type?: TarType
  body?: string | Buffer
  /** Size to claim in the header when it should differ from the body. */
  size?: number
  linkpath?: string
  mode?: number
}

/** A .tar.gz built header by header, so tests can write what no well-behaved tar tool would. */
function tarball(entries: readonly TestEntry[], options: {truncateAt?: number} = {}): Buffer {
  const blocks: Buffer[] = []
  for (const e of entries) {
    const type = e.type ?? 'File'
    const body = Buffer.from(e.body ?? '')
    const header = new tar.Header({
      path: e.path,
      type,
      size: e.size ?? (type === 'File' ? body.length : 0),
      mode: e.mode ?? (type === 'Directory' ? 0o755 : 0o644),
      linkpath: e.linkpath,
      uid: 0,
      gid: 0,
      mtime: new Date(0),
      devmaj: type.endsWith('Device') ? 1 : 0,
      devmin: type.endsWith('Device') ? 3 : 0,
    })
    const block = Buffer.alloc(512)
    header.encode(block, 0)
    blocks.push(block)
    if (body.length > 0) blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512))
  }
  blocks.push(Buffer.alloc(1024))
  const raw = Buffer.concat(blocks)
  return gzipSync(options.truncateAt === undefined ? raw : raw.subarray(0, options.truncateAt))
}

describe('payload .tar.gz extraction', () => {
  let base: string
  let archive: string
  let dest: string

  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'esdctl-payload-'))
    archive = join(base, 'payload.tar.gz')
    dest = join(base, 'staged')
  })
  afterEach(async () => {
    await rm(base, {recursive: true, force: true})
  })

  /** Extraction must fail with `code`, name `entry`, and leave only the archive behind. */
  async function refused(entries: readonly TestEntry[] | Buffer, code: string, entry?: string, limits = {}): Promise<FormatError> {
    await writeFile(archive, Buffer.isBuffer(entries) ? entries : tarball(entries))
    let caught: unknown
    await assert.rejects(extractPayloadArchive(archive, dest, limits), e => {
      caught = e
      return true
    })
    assert.ok(caught instanceof FormatError, `expected a FormatError, got ${String(caught)}`)
    assert.equal(caught.code, code, caught.message)
    assert.match(caught.message, /^payload\.tar\.gz: /)
    if (entry !== undefined) assert.ok(caught.message.includes(JSON.stringify(entry)), caught.message)
    assert.deepEqual(await readdir(base), ['payload.tar.gz'], 'nothing may be left behind')
    return caught
  }

  it('extracts files, directories and links that stay inside into a fresh 0700 directory', async () => {
    await writeFile(
      archive,
      tarball([
        {path: './', type: 'Directory'},
        {path: 'thed.app/Contents/MacOS/thed', body: '#!/bin/sh\n', mode: 0o777},
        {path: 'thed.app/Contents/Info.plist', body: '<plist/>', mode: 0o666},
        {path: 'etc/', type: 'Directory', mode: 0o777},
        {path: 'etc/thed.conf', body: 'a=1\n'},
        {path: 'etc/empty', body: ''},
        {path: 'bin/thed', type: 'SymbolicLink', linkpath: '../thed.app/Contents/MacOS/thed'},
        {path: 'share/same.conf', type: 'Link', linkpath: 'etc/thed.conf'},
        {path: 'esdctl.json', body: '{}'},
      ]),
    )
    const result = await extractPayloadArchive(archive, dest)
    assert.deepEqual(result, {root: dest, entries: 9, fileBytes: 10 + 8 + 4 + 2})
    assert.equal((await stat(dest)).mode & 0o7777, 0o700)
    assert.equal(await readFile(join(dest, 'etc/thed.conf'), 'utf8'), 'a=1\n')
    assert.equal(await readFile(join(dest, 'etc/empty'), 'utf8'), '')
    assert.equal(await readlink(join(dest, 'bin/thed')), '../thed.app/Contents/MacOS/thed')
    assert.equal(await readFile(join(dest, 'bin/thed'), 'utf8'), '#!/bin/sh\n')
    assert.equal((await stat(join(dest, 'share/same.conf'))).ino, (await stat(join(dest, 'etc/thed.conf'))).ino)
    // Write access for others never survives (set-id bits are refused, below); the owner's execute bit does.
    assert.equal((await stat(join(dest, 'thed.app/Contents/MacOS/thed'))).mode & 0o7777, 0o755)
    assert.equal((await stat(join(dest, 'thed.app/Contents/Info.plist'))).mode & 0o7777, 0o644)
    assert.equal((await stat(join(dest, 'etc'))).mode & 0o7777, 0o755)
  })

  it('reads an archive written by node-tar from a real directory', async () => {
    const src = join(base, 'src')
    await mkdir(join(src, 'thed.app/Contents/MacOS'), {recursive: true})
    await writeFile(join(src, 'thed.app/Contents/MacOS/thed'), Buffer.alloc(70_000, 7), {mode: 0o755})
    await writeFile(join(src, 'esdctl.json'), '{"name":"thed"}')
    await tar.create({gzip: true, file: archive, cwd: src, portable: true}, ['.'])
    await rm(src, {recursive: true})
    const result = await extractPayloadArchive(archive, dest)
    assert.equal(result.fileBytes, 70_000 + 15)
    assert.deepEqual(await readFile(join(dest, 'thed.app/Contents/MacOS/thed')), Buffer.alloc(70_000, 7))
  })

  it('refuses an absolute path', async () => {
    await refused([{path: 'ok', body: 'x'}, {path: '/etc/evil', body: 'x'}], 'payload.absolute-path', '/etc/evil')
  })

  it('refuses path traversal anywhere in the path', async () => {
    await refused([{path: '../evil', body: 'x'}], 'payload.path-traversal', '../evil')
    await refused([{path: 'etc/../../evil', body: 'x'}], 'payload.path-traversal', 'etc/../../evil')
    // A hard link whose target climbs out is the link entry's fault, as for symbolic links.
    await refused([{path: 'a/b', type: 'Link', linkpath: '../../etc/passwd'}], 'payload.link-escape', 'a/b')
  })

  it('refuses symbolic links that leave the payload', async () => {
    await refused([{path: 'link', type: 'SymbolicLink', linkpath: '/etc'}], 'payload.link-escape', 'link')
    await refused([{path: 'etc/link', type: 'SymbolicLink', linkpath: '../../outside'}], 'payload.link-escape', 'etc/link')
    await refused([{path: 'link', type: 'SymbolicLink', linkpath: '..'}], 'payload.link-escape', 'link')
    // `here` -> `.` is harmless alone, but `here/..` would be resolved by the kernel above the payload.
    await refused([{path: 'here', type: 'SymbolicLink', linkpath: '.'}, {path: 'up', type: 'SymbolicLink', linkpath: 'here/..'}], 'payload.link-escape', 'up')
  })

  it('refuses a write through a link planted earlier in the archive', async () => {
    const outside = join(base, 'outside')
    await refused([{path: 'link', type: 'SymbolicLink', linkpath: outside}, {path: 'link/pwned', body: 'x'}], 'payload.link-escape', 'link')
    await refused([{path: 'etc', type: 'Directory'}, {path: 'inner', type: 'SymbolicLink', linkpath: 'etc'}, {path: 'inner/x', body: 'x'}], 'payload.through-link', 'inner/x')
    // On macOS `Inner` and `inner` are one name; the payload must not depend on a case-sensitive disk.
    await refused([{path: 'Inner', type: 'SymbolicLink', linkpath: 'etc'}, {path: 'inner/x', body: 'x'}], 'payload.through-link', 'inner/x')
    await refused([{path: 'file', body: 'x'}, {path: 'file/x', body: 'y'}], 'payload.through-link', 'file/x')
  })

  it('refuses a hard link to anything but a file extracted earlier', async () => {
    await refused([{path: 'link', type: 'SymbolicLink', linkpath: 'target'}, {path: 'hard', type: 'Link', linkpath: 'link'}], 'payload.link-escape', 'hard')
    await refused([{path: 'hard', type: 'Link', linkpath: 'not-yet'}], 'payload.link-escape', 'hard')
    // The refusal names the link entry, not its target, whatever the target's fault.
    const absolute = await refused([{path: 'hard', type: 'Link', linkpath: '/etc/passwd'}], 'payload.link-escape', 'hard')
    assert.match(absolute.message, /"hard" is a hard link to "\/etc\/passwd"/)
    await refused([{path: 'file', body: 'x'}, {path: 'hard', type: 'Link', linkpath: '../file'}], 'payload.link-escape', 'hard')
  })

  it('refuses devices and FIFOs', async () => {
    await refused([{path: 'dev/null', type: 'CharacterDevice'}], 'payload.special-file', 'dev/null')
    await refused([{path: 'disk', type: 'BlockDevice'}], 'payload.special-file', 'disk')
    await refused([{path: 'pipe', type: 'FIFO'}], 'payload.special-file', 'pipe')
  })

  it('refuses a file with the setuid or setgid bit, saying which, rather than stripping it', async () => {
    const e = await refused([{path: 'lib/helper', body: 'x', mode: 0o4755}], 'payload.set-id', 'lib/helper')
    assert.match(e.message, /setuid bit \(mode 4755\).*chmod u-s,g-s/)
    const g = await refused([{path: 'bin/tool', body: 'x', mode: 0o2755}], 'payload.set-id', 'bin/tool')
    assert.match(g.message, /has the setgid bit/)
    await writeFile(archive, tarball([{path: 'shared', type: 'Directory', mode: 0o2755}, {path: 'shared/file', body: 'y', mode: 0o644}]))
    await extractPayloadArchive(archive, dest)
    assert.equal((await stat(join(dest, 'shared', 'file'))).mode & 0o7777, 0o644, 'a setgid directory is not a set-id file')
  })

  it('refuses a file claiming a huge size before reading its data', async () => {
    const e = await refused([{path: 'big', size: 6 * 1024 * 1024 * 1024}], 'payload.entry-too-large', 'big')
    assert.match(e.message, /6442450944 bytes/)
  })

  it('enforces the entry count, total size, path length and inflated size limits', async () => {
    await refused([{path: 'a', body: 'x'}, {path: 'b', body: 'x'}, {path: 'c', body: 'x'}], 'payload.too-many-entries', 'c', {maxEntries: 2})
    await refused([{path: 'a', body: 'xxxx'}, {path: 'b', body: 'xxxx'}], 'payload.too-large', 'b', {maxTotalBytes: 6})
    await refused([{path: 'd/'.repeat(10) + 'f', body: 'x'}], 'payload.too-deep', undefined, {maxDepth: 5})
    await refused([{path: 'x'.repeat(40), body: 'x'}], 'payload.path-too-long', undefined, {maxPathBytes: 32})
    // A stream that inflates far beyond its content (here: padding) is cut off.
    await refused(gzipSync(Buffer.alloc(1024 * 1024)), 'payload.too-large', undefined, {maxArchiveBytes: 64 * 1024})
  })

  it('refuses duplicates, including names equal on a case-insensitive disk', async () => {
    await refused([{path: 'a', body: 'x'}, {path: 'a', body: 'y'}], 'payload.duplicate-entry', 'a')
    await refused([{path: 'Readme', body: 'x'}, {path: 'README', body: 'y'}], 'payload.duplicate-entry', 'README')
  })

  it('refuses what is not a gzip tar, and a truncated archive', async () => {
    await refused(Buffer.from('not gzip at all'), 'payload.not-gzip')
    await refused(gzipSync(Buffer.alloc(2048, 0x41)), 'payload.malformed')
    await refused(tarball([{path: 'ok', body: 'x'}, {path: 'big', body: Buffer.alloc(4096, 1)}], {truncateAt: 512 * 4}), 'payload.malformed')
  })

  it('leaves nothing behind when a refusal comes after files were written', async () => {
    await refused([{path: 'thed.app/Contents/MacOS/thed', body: Buffer.alloc(100_000, 1)}, {path: 'etc/x', body: 'x'}, {path: 'pipe', type: 'FIFO'}], 'payload.special-file', 'pipe')
  })

  it('answers damaged archives with a result or a FormatError, never another exception, and cleans up', async () => {
    const valid = gunzipSync(tarball([{path: 'etc/a', body: 'hello'}, {path: 'bin/l', type: 'SymbolicLink', linkpath: '../etc/a'}, {path: 'z', body: Buffer.alloc(700, 3)}]))
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({min: 0, max: 255})), {minLength: 1, maxLength: 8}), async flips => {
        const damaged = Buffer.from(valid)
        for (const [at, value] of flips) damaged[at] = value
        await writeFile(archive, gzipSync(damaged))
        try {
          await extractPayloadArchive(archive, dest, {maxTotalBytes: 1024 * 1024, maxArchiveBytes: 2 * 1024 * 1024})
          await rm(dest, {recursive: true})
        } catch (e) {
          assert.ok(e instanceof FormatError, `unexpected ${String(e)}`)
          assert.deepEqual(await readdir(base), ['payload.tar.gz'])
        }
      }),
      {numRuns: 150},
    )
  })

  it('will not extract into a directory that already exists', async () => {
    await writeFile(archive, tarball([{path: 'a', body: 'x'}]))
    await mkdir(dest)
    await writeFile(join(dest, 'keep'), 'mine')
    await assert.rejects(extractPayloadArchive(archive, dest), {code: 'EEXIST'})
    assert.equal(await readFile(join(dest, 'keep'), 'utf8'), 'mine')
    assert.ok((await lstat(join(dest, 'keep'))).isFile())
  })
})
