import {strict as assert} from 'node:assert'
import {execFileSync} from 'node:child_process'
import {cp, mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {verifyPath} from '../../src/verify/verify-path.js'
import {REAL_BUNDLES_DIR} from '../support/real-shipped.js'
import {skipBecause} from '../support/skip.js'
import {existsSync} from 'node:fs'

// Opening a named pipe for reading blocks until a writer comes, so a verify that opens one never
// returns: each case here would time out (20 s) rather than fail, which is the point.
const OPERA = join(REAL_BUNDLES_DIR, 'Opera Beta Installer.app')

function mkfifo(path: string): void {
  execFileSync('mkfifo', [path])
}

describe('verify never opens a named pipe', function () {
  this.timeout(20_000)
  before(function () {
    // Real fixtures, read in place from ../shared beside the checkout.
    if (![OPERA].every(p => existsSync(p))) skipBecause(this, 'fixtures-absent')
  })
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'esdctl-fifo-'))
  })
  after(() => rm(dir, {recursive: true, force: true}))

  it('a FIFO given as the path is input.unknown-kind, named a named pipe', async () => {
    const path = join(dir, 'f')
    mkfifo(path)
    const r = await verifyPath(path)
    assert.equal(r.ok, false)
    assert.equal(r.findings[0]!.id, 'input.unknown-kind')
    assert.match(r.findings[0]!.message, /a named pipe/)
  })

  for (const [rel, id] of [
    ['Contents/Info.plist', 'bundle.info-plist-malformed'],
    ['Contents/CodeResources', 'notarization.malformed'],
    ['Contents/_CodeSignature/CodeResources', 'seal.malformed'],
    ['Contents/embedded.provisionprofile', 'profile.malformed'],
  ] as const) {
    it(`a bundle whose ${rel} is a FIFO finishes with ${id}`, async () => {
      const app = join(dir, `${rel.replaceAll('/', '_')}.app`)
      await cp(OPERA, app, {recursive: true})
      await rm(join(app, rel), {force: true})
      mkfifo(join(app, rel))
      const r = await verifyPath(app)
      const f = r.findings.find(x => x.id === id)
      assert.ok(f, JSON.stringify(r.findings.map(x => [x.id, x.message])))
      assert.match(f.message, /a named pipe/)
      assert.doesNotMatch(JSON.stringify(r.findings), /a other/)
    })
  }

  it('a FIFO among sealed resources is seal.modified, "now a named pipe"', async () => {
    const app = join(dir, 'resource.app')
    await cp(OPERA, app, {recursive: true})
    await rm(join(app, 'Contents/Resources/bg.jpg'))
    mkfifo(join(app, 'Contents/Resources/bg.jpg'))
    const r = await verifyPath(app)
    const f = r.findings.find(x => x.id === 'seal.modified')
    assert.ok(f, JSON.stringify(r.findings.map(x => [x.id, x.message])))
    assert.match(f.message, /is now a named pipe/)
  })
})
