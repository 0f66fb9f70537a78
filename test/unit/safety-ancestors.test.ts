import {strict as assert} from 'node:assert'
import {chmod, chown, mkdir, mkdtemp, realpath, rm, symlink} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {checkAncestors, type LstatFs, type StatLike} from '../../src/safety/check-ancestors.js'
import {skipBecause} from '../support/skip.js'

type FakeEntry = {uid: number; gid?: number; mode: number; kind?: 'dir' | 'link' | 'file'}

function fakeFs(entries: Record<string, FakeEntry | 'EACCES'>): LstatFs {
  return {
    async lstat(path: string): Promise<StatLike> {
      const entry = entries[path]
      if (entry === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), {code: 'ENOENT'})
      if (entry === 'EACCES') throw Object.assign(new Error(`EACCES: ${path}`), {code: 'EACCES'})
      const kind = entry.kind ?? 'dir'
      return {uid: entry.uid, gid: entry.gid ?? 0, mode: entry.mode, isDirectory: () => kind === 'dir', isSymbolicLink: () => kind === 'link'}
    },
  }
}

const SAFE = {'/': {uid: 0, mode: 0o40755}, '/opt': {uid: 0, mode: 0o40755}}

describe('directory safety: checkAncestors', () => {
  it('accepts root-owned directories writable only by root, skipping ones not created yet', async () => {
    assert.deepEqual(await checkAncestors('/opt/thed/etc', fakeFs(SAFE)), [])
  })

  it('accepts a root-owned sticky world-writable directory such as /tmp', async () => {
    assert.deepEqual(await checkAncestors('/tmp/stage', fakeFs({...SAFE, '/tmp': {uid: 0, mode: 0o41777}})), [])
  })

  it('names a user-owned directory, its owner and mode, and says what to run', async () => {
    const offenders = await checkAncestors('/opt/thed/etc', fakeFs({...SAFE, '/opt/thed': {uid: 501, gid: 20, mode: 0o40755}}))
    assert.equal(offenders.length, 1)
    const [o] = offenders
    assert.equal(o?.directory, '/opt/thed')
    assert.deepEqual(o?.problems, ['not-root-owned'])
    assert.match(o!.message, /\/opt\/thed \(owner uid 501, group gid 20, mode 0755\) is not owned by root/)
    assert.match(o!.fix!, /chown root:wheel \/opt\/thed/)
    assert.equal(o?.severity, 'error')
  })

  it('flags group- and world-writable directories, and sticky ones not owned by root', async () => {
    const offenders = await checkAncestors(
      '/a/b/c/d',
      fakeFs({'/': {uid: 0, mode: 0o40755}, '/a': {uid: 0, mode: 0o40775}, '/a/b': {uid: 0, mode: 0o40757}, '/a/b/c': {uid: 501, mode: 0o41777}}),
    )
    assert.deepEqual(
      offenders.map(o => [o.directory, o.problems]),
      [
        ['/a/b/c', ['not-root-owned', 'group-writable', 'world-writable']],
        ['/a/b', ['world-writable']],
        ['/a', ['group-writable']],
      ],
    )
    assert.match(offenders[2]!.message, /mode 0775/)
  })

  it('flags a symbolic link and a non-directory in the path', async () => {
    const offenders = await checkAncestors('/var/x/y', fakeFs({...SAFE, '/var': {uid: 0, mode: 0o120755, kind: 'link'}, '/var/x': {uid: 0, mode: 0o100644, kind: 'file'}}))
    assert.deepEqual(
      offenders.map(o => [o.directory, o.problems]),
      [
        ['/var/x', ['not-a-directory']],
        ['/var', ['symlink']],
      ],
    )
    assert.match(offenders[1]!.fix!, /symbolic link/)
  })

  it('reports a directory it cannot inspect instead of assuming it is fine', async () => {
    const offenders = await checkAncestors('/opt/thed', fakeFs({...SAFE, '/opt/thed': 'EACCES'}))
    assert.deepEqual(offenders.map(o => [o.directory, o.problems]), [['/opt/thed', ['unreadable']]])
    assert.match(offenders[0]!.message, /EACCES/)
  })

  it('refuses a relative target or one with ..', async () => {
    await assert.rejects(checkAncestors('opt/thed', fakeFs(SAFE)))
    await assert.rejects(checkAncestors('/opt/../tmp', fakeFs(SAFE)))
  })

  describe('on the real file system', () => {
    let base: string
    beforeEach(async () => {
      base = await realpath(await mkdtemp(join(tmpdir(), 'esdctl-safety-')))
    })
    afterEach(async () => {
      await rm(base, {recursive: true, force: true})
    })

    it('finds a world-writable directory and a planted symlink', async function () {
      if (process.getuid?.() !== 0) return skipBecause(this, 'needs-root')
      const ancestors = await checkAncestors(base)
      if (ancestors.length > 0) return skipBecause(this, 'unsafe-temp-ancestors')
      const open = join(base, 'open')
      await mkdir(open)
      await chmod(open, 0o777)
      await mkdir(join(base, 'real'))
      await symlink(join(base, 'real'), join(base, 'link'))
      const mine = join(base, 'mine')
      await mkdir(mine, {mode: 0o755})
      await chown(mine, 501, 20)
      assert.deepEqual((await checkAncestors(join(open, 'x'))).map(o => [o.directory, o.problems]), [[open, ['group-writable', 'world-writable']]])
      assert.deepEqual((await checkAncestors(join(base, 'link'))).map(o => [o.directory, o.problems]), [[join(base, 'link'), ['symlink']]])
      assert.deepEqual((await checkAncestors(join(mine, 'sub'))).map(o => [o.directory, o.problems]), [[mine, ['not-root-owned']]])
      assert.deepEqual(await checkAncestors(join(base, 'real', 'not-yet')), [])
    })
  })
})
