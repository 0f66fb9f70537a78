// A bundle's shape and its stapled ticket, in the cases the other verify-checks files leave out
// (issue 14, area verify-checks): a Versions folder reached through a link, and the ticket's file
// handle given back after the read.
import {strict as assert} from 'node:assert'
import {readdirSync} from 'node:fs'
import {mkdir, mkdtemp, rm, symlink, writeFile} from 'node:fs/promises'
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
