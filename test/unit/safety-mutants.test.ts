import {strict as assert} from 'node:assert'
import {chmodSync, existsSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {realProcessIdentity} from '../../src/adapters/process-identity.js'
import {ExitCode} from '../../src/exit-codes.js'
import {RootFs, TEMP_SUFFIX} from '../../src/adapters/root-fs.js'
import {PrefixLayout, ToolPaths} from '../../src/layout/prefix-layout.js'
import type {LifecycleContext} from '../../src/lifecycle/context.js'
import {daemonFs, requireExistingRoot} from '../../src/lifecycle/preflight.js'
import * as lifecycle from '../../src/lifecycle/index.js'
import {refusal} from '../support/lifecycle-assertions.js'
import {checkAncestors, type LstatFs, type StatLike} from '../../src/safety/check-ancestors.js'
import {lifecycleWorlds, snapshotTree} from '../support/lifecycle-fixture.js'

type FakeEntry = {uid: number; gid?: number; mode: number; kind?: 'dir' | 'link' | 'file'} | Error

function fakeFs(entries: Record<string, FakeEntry>): LstatFs {
  return {
    async lstat(path: string): Promise<StatLike> {
      const entry = entries[path]
      if (entry === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), {code: 'ENOENT'})
      if (entry instanceof Error) throw entry
      const kind = entry.kind ?? 'dir'
      return {uid: entry.uid, gid: entry.gid ?? 0, mode: entry.mode, isDirectory: () => kind === 'dir', isSymbolicLink: () => kind === 'link'}
    },
  }
}

const ROOT_DIR = {uid: 0, mode: 0o40755}

/** What the mutation run (npm run mutate -- safety) found no test for. */
describe('directory safety: the whole offender, / itself, and the cases between', () => {
  it('/ itself is checked: a world-writable / is an offender', async () => {
    const offenders = await checkAncestors('/opt', fakeFs({'/': {uid: 0, mode: 0o40777}, '/opt': ROOT_DIR}))
    assert.deepEqual(offenders.map((o) => [o.directory, o.problems]), [['/', ['group-writable', 'world-writable']]])
  })

  it('an offender carries its id, severity, owner, group, full mode, and says every problem in its message', async () => {
    const offenders = await checkAncestors('/srv/x', fakeFs({'/': ROOT_DIR, '/srv': {uid: 501, gid: 20, mode: 0o41777}}))
    assert.deepEqual(offenders, [
      {
        id: 'safety.unsafe-ancestor',
        severity: 'error',
        path: '/srv',
        directory: '/srv',
        uid: 501,
        gid: 20,
        mode: 0o41777,
        problems: ['not-root-owned', 'group-writable', 'world-writable'],
        message: '/srv (owner uid 501, group gid 20, mode 1777) is not owned by root, is writable by its group, is writable by everyone; a non-root user could redirect or replace what esdctl writes below it',
        fix: 'Run: sudo chown root:wheel /srv && sudo chmod go-w /srv',
      },
    ])
  })

  it('a link\'s own permission bits are not judged: a 0777 link is only a link', async () => {
    const offenders = await checkAncestors('/var/x', fakeFs({'/': ROOT_DIR, '/var': {uid: 0, mode: 0o120777, kind: 'link'}}))
    assert.deepEqual(offenders.map((o) => [o.directory, o.problems]), [['/var', ['symlink']]])
    assert.match(offenders[0]!.message, /^\/var is a symbolic link \(owner uid 0, group gid 0\);/)
    assert.doesNotMatch(offenders[0]!.message, /mode|0777/)
    assert.equal(offenders[0]!.mode, undefined)
  })

  it('a link is shown as what matters: that it is one, its owner and its target, plus any other problem; never its mode', async () => {
    const links = {...fakeFs({'/': ROOT_DIR, '/opt': {uid: 501, gid: 20, mode: 0o120777, kind: 'link'}}), readlink: async (path: string) => (path === '/opt' ? '/Users/alice/opt' : '')}
    const [o] = await checkAncestors('/opt/thed', links)
    assert.equal(o!.message, '/opt is a symbolic link to "/Users/alice/opt" (owner uid 501, group gid 20) and is not owned by root; a non-root user could redirect or replace what esdctl writes below it')
    assert.equal(o!.target, '/Users/alice/opt')
    assert.equal(o!.fix, 'Replace the symbolic link /opt with a real directory (or choose a path without links), so nobody can redirect what esdctl writes as root.')
  })

  it('a link whose target cannot be read: shown without one, and the offender carries no target at all', async () => {
    const unreadable = {...fakeFs({'/': ROOT_DIR, '/opt': {uid: 0, mode: 0o120777, kind: 'link'}}), readlink: async () => { throw Object.assign(new Error('EACCES'), {code: 'EACCES'}) }}
    const [o] = await checkAncestors('/opt/thed', unreadable)
    assert.equal(o!.message, '/opt is a symbolic link (owner uid 0, group gid 0); a non-root user could redirect or replace what esdctl writes below it')
    assert.equal('target' in o!, false)
  })

  it('a file where a directory belongs that another user owns is no longer merely in the way: another user could act', async () => {
    const offenders = await checkAncestors('/opt/x', fakeFs({'/': ROOT_DIR, '/opt': {uid: 501, gid: 20, mode: 0o100644, kind: 'file'}}))
    assert.deepEqual(offenders.map((o) => o.problems), [['not-a-directory', 'not-root-owned']])
    assert.equal(offenders[0]!.message, '/opt (owner uid 501, group gid 20, mode 0644) is not a directory, is not owned by root; a non-root user could redirect or replace what esdctl writes below it')
  })

  it('the sticky exception is for directories only: a root-owned sticky world-writable file is flagged', async () => {
    const offenders = await checkAncestors('/f/x', fakeFs({'/': ROOT_DIR, '/f': {uid: 0, mode: 0o101777, kind: 'file'}}))
    assert.deepEqual(offenders.map((o) => [o.directory, o.problems]), [['/f', ['not-a-directory', 'group-writable', 'world-writable']]])
    assert.equal(offenders[0]!.fix, 'Remove or rename /f; esdctl needs a directory there.')
    assert.match(offenders[0]!.message, /is not a directory, is writable by its group, is writable by everyone;/)
  })

  it('a root-owned file only root can write, where a directory belongs, is in the way: the message does not speak of another user', async () => {
    const offenders = await checkAncestors('/opt/thed/var/log', fakeFs({'/': ROOT_DIR, '/opt': ROOT_DIR, '/opt/thed': ROOT_DIR, '/opt/thed/var': {uid: 0, mode: 0o100644, kind: 'file'}}))
    assert.deepEqual(offenders.map((o) => [o.directory, o.problems]), [['/opt/thed/var', ['not-a-directory']]])
    assert.equal(offenders[0]!.message, '/opt/thed/var (owner uid 0, group gid 0, mode 0644) is not a directory; esdctl needs a directory there; move it away and run again')
    // Not root-owned as well: then another user could have put it there.
    const foreign = await checkAncestors('/f/x', fakeFs({'/': ROOT_DIR, '/f': {uid: 501, mode: 0o100644, kind: 'file'}}))
    assert.match(foreign[0]!.message, /is not a directory, is not owned by root; a non-root user could redirect/)
  })

  it('a directory that cannot be inspected: the message gives the error code, or its message when it has none, and the fix says so', async () => {
    const coded = await checkAncestors('/opt/x', fakeFs({'/': ROOT_DIR, '/opt': Object.assign(new Error('denied'), {code: 'EACCES'})}))
    assert.deepEqual(coded, [
      {
        id: 'safety.unsafe-ancestor',
        severity: 'error',
        path: '/opt',
        directory: '/opt',
        problems: ['unreadable'],
        message: '/opt cannot be inspected (EACCES), so esdctl cannot tell whether it is safe to write below it as root',
        fix: 'Make /opt inspectable by root and run again.',
      },
    ])
    const uncoded = await checkAncestors('/opt/x', fakeFs({'/': ROOT_DIR, '/opt': new Error('the disk went away')}))
    assert.match(uncoded[0]!.message, /^\/opt cannot be inspected \(the disk went away\)/)
  })

  it('a relative target, or one with .., is a programming error that says what it got', async () => {
    await assert.rejects(checkAncestors('opt/thed', fakeFs({})), {message: `checkAncestors needs an absolute path without '..', got "opt/thed"`})
    await assert.rejects(checkAncestors('/opt/../etc', fakeFs({})), {message: `checkAncestors needs an absolute path without '..', got "/opt/../etc"`})
  })

  it('the checks go on above an unreadable or missing directory', async () => {
    const offenders = await checkAncestors('/a/b/c', fakeFs({'/': {uid: 0, mode: 0o40775}, '/a': ROOT_DIR, '/a/b': Object.assign(new Error('x'), {code: 'EIO'})}))
    assert.deepEqual(offenders.map((o) => [o.directory, o.problems]), [['/a/b', ['unreadable']], ['/', ['group-writable']]])
  })
})

describe('preflight: every path esdctl owns must still be what it left there', function () {
  const env = lifecycleWorlds('thed', {labelPrefix: 'com.example.thed.s', defaultEtc: () => ({'thed.conf': 'x\n'})})


  it('not root, or root with NODE_OPTIONS / NODE_PATH set: refused before anything is read or written, naming the uid or each variable', async () => {
    const w = env.world()
    const payload = await w.payload('1.0.0')
    const before = snapshotTree(w.root)
    const as = (euid: number, vars: Record<string, string>) => ({...w.ctx, identity: {...realProcessIdentity, euid: () => euid, env: (name: string) => vars[name]}})
    const notRoot = await refusal(() => lifecycle.install(as(501, {}), payload))
    assert.equal(notRoot.exitCode, ExitCode.notRoot)
    assert.equal(notRoot.message, 'esdctl install changes system files and must run as root (effective uid is 501); run it again with sudo')
    // Before the payload is read: one that does not exist (or only root can read) still gets "run it with sudo".
    const unread = await refusal(() => lifecycle.upgrade(as(501, {}), `${payload}-absent`))
    assert.equal(unread.exitCode, ExitCode.notRoot, unread.message)
    const one = await refusal(() => lifecycle.install(as(0, {NODE_PATH: '/tmp/x'}), payload))
    assert.equal(one.exitCode, ExitCode.unsafeEnvironment)
    assert.equal(one.message, 'refusing to run as root with NODE_PATH set: they make node load code chosen by whoever set them; unset them (sudo normally strips them) and run again')
    assert.deepEqual(one.details, ['NODE_PATH is set'])
    const both = await refusal(() => lifecycle.install(as(0, {NODE_OPTIONS: '--require=/tmp/x.js', NODE_PATH: '/tmp/x'}), payload))
    assert.match(both.message, /^refusing to run as root with NODE_OPTIONS and NODE_PATH set:/)
    assert.deepEqual(both.details, ['NODE_OPTIONS is set', 'NODE_PATH is set'])
    assert.deepEqual(snapshotTree(w.root), before)
  })

  it('a file where esdctl keeps a directory, or a directory where it keeps a file: unsafeEnvironment naming it; nothing changes', async () => {
    const cases: [(w: ReturnType<typeof env.world>) => string, 'directory' | 'file'][] = [
      [(w) => w.layout.app, 'directory'],
      [(w) => w.layout.lib, 'directory'],
      [(w) => w.layout.modules, 'directory'],
      [(w) => w.layout.share, 'directory'],
      [(w) => w.layout.journal, 'file'],
      [(w) => w.layout.auditLog, 'file'],
      [(w) => w.layout.launchdPlist, 'file'],
      [(w) => new ToolPaths(w.root).lock, 'file'],
    ]
    for (const [pathOf, kind] of cases) {
      const w = env.world()
      const payload = await w.payload('1.0.0')
      const path = pathOf(w)
      mkdirSync(dirname(path), {recursive: true, mode: 0o755})
      if (kind === 'directory') writeFileSync(path, 'planted\n')
      else mkdirSync(path)
      const before = snapshotTree(w.root)
      const e = await refusal(() => lifecycle.install(w.ctx, payload))
      assert.equal(e.exitCode, ExitCode.unsafeEnvironment, `${path}: ${e.message}`)
      assert.equal(e.message, `unsafe path: ${path} should be ${kind === 'directory' ? 'a directory' : 'a regular file'} but is not; move it away and run again`)
      assert.deepEqual(snapshotTree(w.root), before)
    }
  })

  it('a file or a directory where esdctl keeps its bin link: unsafeEnvironment saying which', async () => {
    for (const kind of ['file', 'directory'] as const) {
      const w = env.world()
      assert.equal((await lifecycle.install(w.ctx, await w.payload('1.0.0'))).exitCode, ExitCode.ok)
      const link = w.layout.links[0]!
      rmSync(link.path)
      if (kind === 'file') writeFileSync(link.path, 'planted\n')
      else mkdirSync(link.path)
      const next = await w.payload('1.1.0')
      const before = snapshotTree(w.root)
      const e = await refusal(() => lifecycle.upgrade(w.ctx, next))
      assert.deepEqual(snapshotTree(w.root), before)
      assert.equal(e.exitCode, ExitCode.unsafeEnvironment)
      assert.equal(e.message, `unsafe path: ${link.path} should be esdctl's link to ${link.text} but is a ${kind}; move it away and run again`)
    }
  })

  it('a bin link someone removed is no refusal: the upgrade puts it back', async () => {
    const w = env.world()
    assert.equal((await lifecycle.install(w.ctx, await w.payload('1.0.0'))).exitCode, ExitCode.ok)
    const link = w.layout.links[0]!
    rmSync(link.path)
    const r = await lifecycle.upgrade(w.ctx, await w.payload('1.1.0'))
    assert.equal(r.exitCode, ExitCode.ok, r.message)
    assert.equal(readlinkSync(link.path), link.text)
  })

  it('daemonFs may change the prefix, the plist, esdctl\'s own directory, links outside the prefix and the paths given, each with its temporary sibling where it has one; nothing else', () => {
    const root = '/r'
    const layout = new PrefixLayout({name: 'thed', label: 'com.example.thed', root, links: [{path: 'bin/thed', target: 'Contents/MacOS/thed'}, {path: '/usr/local/bin/thed', target: 'Contents/MacOS/thed'}]})
    const tool = new ToolPaths(root)
    const ctx = {fs: new RootFs()} as unknown as LifecycleContext
    const fs = daemonFs(ctx, layout, tool, layout.links, ['/r/Library/LaunchDaemons/com.example.old.plist'])
    const outside = layout.links.find((l) => !layout.isInsidePrefix(l.path))!.path
    for (const path of [join(layout.prefix, 'x'), layout.launchdPlist, layout.launchdPlist + TEMP_SUFFIX, join(tool.dir, 'registry.json'), outside, outside + TEMP_SUFFIX, '/r/Library/LaunchDaemons/com.example.old.plist']) {
      assert.equal(fs.isAllowed(path), true, path)
    }
    for (const path of ['/r/usr/local/bin/other', '/r/Library/LaunchDaemons/com.example.other.plist', '/r', '/Stryker was here', join(root, 'Stryker was here')]) {
      assert.equal(fs.isAllowed(path), false, path)
    }
    const bare = daemonFs(ctx, layout, tool)
    assert.equal(bare.isAllowed(outside), true)
    assert.equal(bare.isAllowed('/r/Library/LaunchDaemons/com.example.old.plist'), false)
    assert.deepEqual(bare.allowedRoots, [layout.prefix, layout.launchdPlist, layout.launchdPlist + TEMP_SUFFIX, tool.dir, outside, outside + TEMP_SUFFIX])
  })

  it('an unsafe directory: the refusal names the first and lists every one', async () => {
    const w = env.world()
    const payload = await w.payload('1.0.0')
    mkdirSync(join(w.root, 'opt'), {recursive: true, mode: 0o755})
    chmodSync(join(w.root, 'opt'), 0o777)
    chmodSync(join(w.root, 'Library'), 0o775)
    const e = await refusal(() => lifecycle.install(w.ctx, payload))
    assert.equal(e.exitCode, ExitCode.unsafeEnvironment)
    assert.match(e.message, /^unsafe directory: /)
    const details = e.details ?? []
    assert.ok(details.some((d) => d.startsWith(`${join(w.root, 'opt')} (`)), JSON.stringify(details))
    assert.ok(details.some((d) => d.startsWith(`${join(w.root, 'Library')} (`)), JSON.stringify(details))
    assert.equal(e.message, `unsafe directory: ${details[0]}`)
  })
})

describe('requireExistingRoot: an image root must already be a directory', () => {
  const ctxAt = (root: string, fs: Pick<RootFs, 'lstat'>) => ({root, fs}) as unknown as LifecycleContext
  const untouched = {lstat: async () => { throw new Error('the host root is never looked at') }}

  it('the host root (/, or a path that resolves to it) is taken without looking', async () => {
    for (const root of ['/', '/tmp/..', '//']) await requireExistingRoot(ctxAt(root, untouched))
  })

  it('a directory is taken; a missing path or a file is bad input naming --root, and nothing is created', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'esdctl-image-'))
    try {
      const fs = new RootFs()
      await requireExistingRoot(ctxAt(dir, fs))
      writeFileSync(join(dir, 'file'), '')
      for (const [root, why] of [[join(dir, 'missing'), 'does not exist'], [join(dir, 'file'), 'is not a directory']] as const) {
        await assert.rejects(requireExistingRoot(ctxAt(root, fs)), (e: unknown) => lifecycle.isLifecycleError(e) && e.exitCode === ExitCode.badInput &&
          e.message === `--root ${root} ${why}; give the directory that stands for / of the image (esdctl does not create it)`)
      }
      assert.equal(existsSync(join(dir, 'missing')), false)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
