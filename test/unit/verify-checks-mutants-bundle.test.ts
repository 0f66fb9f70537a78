// A bundle's shape and its stapled ticket, in the cases the other verify-checks files leave out
// (issue 14, area verify-checks): a Versions folder reached through a link, and the ticket's file
// handle given back after the read.
import {strict as assert} from 'node:assert'
import {readdirSync} from 'node:fs'
import {chmod, mkdir, mkdtemp, rm, symlink, writeFile} from 'node:fs/promises'
import {execa} from 'execa'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {checkBundleTicket, STAPLED_TICKET_REL} from '../../src/verify/bundle-ticket.js'
import {bundleShapeOf} from '../../src/verify/bundle-shape.js'
import {createTestPki} from '../support/test-pki.js'

describe('verify checks: bundle shape and ticket, the remaining cases', () => {
  let root: string
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'esdctl-bundlemut-'))
  })
  after(() => rm(root, {recursive: true, force: true}))

  it('a Versions that is a link to a folder of versions makes no framework: its parts are never reached through links', async () => {
    const elsewhere = join(root, 'elsewhere')
    await mkdir(join(elsewhere, 'A'), {recursive: true})
    const fw = join(root, 'Linked.framework')
    await mkdir(fw)
    await symlink(elsewhere, join(fw, 'Versions'))
    assert.equal(await bundleShapeOf(fw), undefined)
  })

  it('a Versions folder that cannot be listed gives no version, never an exception (bundleShapeOf never throws)', async () => {
    const fw = join(root, 'Unlistable.framework')
    await mkdir(join(fw, 'Versions', 'A'), {recursive: true})
    assert.equal((await bundleShapeOf(fw))?.contentDir, join(fw, 'Versions', 'A'), 'listable, its only version is the one')
    // Search but no read permission: lstat of Versions works, listing it does not (EACCES).
    await chmod(join(fw, 'Versions'), 0o311)
    await chmod(root, 0o755)
    try {
      if (process.geteuid?.() !== 0) {
        assert.equal(await bundleShapeOf(fw), undefined)
        return
      }
      // Root lists any folder: the call runs in a child as nobody, who is refused the listing.
      const module = new URL('../../src/verify/bundle-shape.js', import.meta.url).href
      const script = `const {bundleShapeOf} = await import(${JSON.stringify(module)}); process.stdout.write(JSON.stringify(await bundleShapeOf(${JSON.stringify(fw)}) ?? null))`
      const r = await execa(process.execPath, ['--input-type=module', '-e', script], {reject: false, uid: 65534, gid: 65534, cwd: '/'})
      assert.equal(r.exitCode, 0, r.stderr)
      assert.equal(r.stdout, 'null')
    } finally {
      await chmod(join(fw, 'Versions'), 0o755)
    }
  })

  it('reading Contents/CodeResources leaves no file open, whether or not it holds a ticket', async () => {
    const contents = join(root, 'B.app', 'Contents')
    await mkdir(contents, {recursive: true})
    await writeFile(join(contents, STAPLED_TICKET_REL), '<plist/>')
    const trust = (await createTestPki()).trust
    // /dev/fd lists this process's open descriptors, on Linux and macOS alike.
    const open = () => readdirSync('/dev/fd').length
    const before = open()
    for (let i = 0; i < 5; i++) {
      const r = await checkBundleTicket(contents, rel => `B.app/Contents/${rel}`, 'MacOS/b', [], trust)
      assert.deepEqual(r, {report: {stapled: false, verified: false, cdhashes: []}, findings: []})
    }
    assert.equal(open(), before)
  })
})
