import {strict as assert} from 'node:assert'
import {chmodSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {StatLike} from '../../src/safety/check-ancestors.js'
import {checkProgram, type ProgramFs} from '../../src/safety/check-program.js'

type Entry = {uid: number; mode: number} | Error

const DIR = {uid: 0, mode: 0o40755}
const PROGRAM = {uid: 0, mode: 0o100755}
const SAFE_TREE: Record<string, Entry> = {'/': DIR, '/usr': DIR, '/usr/local': DIR, '/usr/local/bin': DIR, '/usr/local/bin/probe': PROGRAM}

/** A file system of `entries` by path; `links` maps a path to what realpath resolves it to. */
function fakeFs(entries: Record<string, Entry>, links: Record<string, string> = {}): ProgramFs {
  return {
    async lstat(path: string): Promise<StatLike> {
      const entry = entries[path]
      if (entry === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), {code: 'ENOENT'})
      if (entry instanceof Error) throw entry
      const type = entry.mode & 0o170000
      return {uid: entry.uid, gid: 0, mode: entry.mode, isDirectory: () => type === 0o040000, isSymbolicLink: () => type === 0o120000}
    },
    async realpath(path: string): Promise<string> {
      const to = links[path] ?? path
      if (entries[to] === undefined) throw Object.assign(new Error(`ENOENT: ${to}`), {code: 'ENOENT'})
      return to
    },
  }
}

/** The health probe esdctl runs as root: only a program root alone can change may run. */
describe('checkProgram: whether root may run a program', () => {
  it('a root-owned 0755 file in root-only directories: ok, to be run by its own path', async () => {
    assert.deepEqual(await checkProgram('/usr/local/bin/probe', fakeFs(SAFE_TREE)), {ok: true, resolved: '/usr/local/bin/probe'})
  })

  it('a link: the file it resolves to is checked and is what must run', async () => {
    const fs = fakeFs({...SAFE_TREE, '/usr/local/bin/p': {uid: 0, mode: 0o120777}}, {'/usr/local/bin/p': '/usr/local/bin/probe'})
    assert.deepEqual(await checkProgram('/usr/local/bin/p', fs), {ok: true, resolved: '/usr/local/bin/probe'})
  })

  it('a relative path, or one with ..: refused before anything is looked at', async () => {
    for (const path of ['probe', 'bin/probe', '/usr/../tmp/probe']) {
      assert.deepEqual(await checkProgram(path, fakeFs(SAFE_TREE)), {ok: false, problems: [`${JSON.stringify(path)} is not an absolute path without '..'`], fix: 'Name the program by its full path.'})
    }
  })

  it('a path that does not resolve: named with the system\'s code, and the fix says where to put it', async () => {
    assert.deepEqual(await checkProgram('/usr/local/bin/nothing', fakeFs(SAFE_TREE)), {
      ok: false,
      problems: ['/usr/local/bin/nothing cannot be resolved (ENOENT)'],
      fix: 'Install the program at /usr/local/bin/nothing (root-owned, mode 0755), or correct the path.',
    })
    const codeless: ProgramFs = {...fakeFs(SAFE_TREE), realpath: async () => { throw new Error('no code') }}
    assert.deepEqual((await checkProgram('/x', codeless)).ok === false && (await checkProgram('/x', codeless) as {problems: string[]}).problems, ['/x cannot be resolved (no code)'])
  })

  it('a file another user owns, or one its group or everyone may write: each problem named, with chown/chmod as the fix', async () => {
    const fix = 'Keep the program where only root can change it: sudo chown root:wheel /usr/local/bin/probe && sudo chmod 0755 /usr/local/bin/probe, in a directory only root can write (e.g. inside the daemon\'s bundle, "{bundle}/Contents/MacOS/<tool>").'
    const cases: Array<[Entry, string[]]> = [
      [{uid: 501, mode: 0o100755}, ['/usr/local/bin/probe is owned by uid 501, not root']],
      [{uid: 0, mode: 0o100775}, ['/usr/local/bin/probe (mode 0775) is writable by its group']],
      [{uid: 0, mode: 0o100757}, ['/usr/local/bin/probe (mode 0757) is writable by everyone']],
      [{uid: 0, mode: 0o104777}, ['/usr/local/bin/probe (mode 4777) is writable by everyone']],
      [{uid: 501, mode: 0o100777}, ['/usr/local/bin/probe is owned by uid 501, not root', '/usr/local/bin/probe (mode 0777) is writable by everyone']],
    ]
    for (const [entry, problems] of cases) {
      assert.deepEqual(await checkProgram('/usr/local/bin/probe', fakeFs({...SAFE_TREE, '/usr/local/bin/probe': entry})), {ok: false, problems, fix}, JSON.stringify(entry))
    }
  })

  it('a directory, a FIFO or a device where the program should be: not a regular file', async () => {
    for (const mode of [0o40755, 0o10755, 0o20755]) {
      const r = await checkProgram('/usr/local/bin/probe', fakeFs({...SAFE_TREE, '/usr/local/bin/probe': {uid: 0, mode}}))
      assert.deepEqual(r.ok === false && r.problems, ['/usr/local/bin/probe is not a regular file'], mode.toString(8))
    }
  })

  it('a file that cannot be inspected after it resolved: named, never passed', async () => {
    const r = await checkProgram('/usr/local/bin/probe', fakeFs({...SAFE_TREE, '/usr/local/bin/probe': Object.assign(new Error('EACCES'), {code: 'EACCES'})}, {}))
    assert.equal(r.ok === false && r.problems.join('; '), '/usr/local/bin/probe cannot be inspected')
  })

  it('a safe file below a directory others may write: the directory named, its own fix', async () => {
    const r = await checkProgram('/usr/local/bin/probe', fakeFs({...SAFE_TREE, '/usr/local': {uid: 501, mode: 0o40755}}))
    assert.equal(r.ok, false)
    if (r.ok) return
    assert.equal(r.problems.length, 1)
    assert.match(r.problems[0]!, /\/usr\/local/)
    assert.match(r.fix, /sudo chown root:wheel \/usr\/local && sudo chmod go-w \/usr\/local/)
  })

  it('a link to a file elsewhere: the message shows both, and the directories checked are those of the file it resolves to', async () => {
    const fs = fakeFs({...SAFE_TREE, '/tmp': {uid: 501, mode: 0o40777}, '/tmp/probe': {uid: 501, mode: 0o100755}, '/usr/local/bin/p': {uid: 0, mode: 0o120777}}, {'/usr/local/bin/p': '/tmp/probe'})
    const r = await checkProgram('/usr/local/bin/p', fs)
    assert.equal(r.ok, false)
    if (r.ok) return
    assert.equal(r.problems[0], '/usr/local/bin/p (which resolves to /tmp/probe) is owned by uid 501, not root')
    assert.equal(r.problems.length, 2)
    assert.match(r.problems[1]!, /\/tmp/)
    assert.match(r.fix, /sudo chown root:wheel \/tmp\/probe && sudo chmod 0755 \/tmp\/probe/)
  })
})

describe('checkProgram on the real file system (its default)', () => {
  it('a file made here, and a link to it: judged by owner and mode, the link resolved to the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'esdctl-program-'))
    try {
      const program = join(dir, 'probe')
      writeFileSync(program, '#!/bin/sh\n')
      chmodSync(program, 0o755)
      symlinkSync(program, join(dir, 'link'))
      const uid = process.getuid!()
      for (const path of [program, join(dir, 'link')]) {
        const r = await checkProgram(path)
        // As root (CI), a 0755 file of one's own in a private directory under the sticky, root-owned temp directory may run.
        if (uid === 0) assert.deepEqual(r, {ok: true, resolved: realpathSync(program)}, JSON.stringify(r))
        else assert.equal(r.ok === false && r.problems[0], `${path === program ? program : `${path} (which resolves to ${realpathSync(program)})`} is owned by uid ${uid}, not root`)
      }
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
