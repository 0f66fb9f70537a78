import {strict as assert} from 'node:assert'
import {cp, mkdir, mkdtemp, readFile, rm, symlink, truncate, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {renderVerifyText} from '../../src/render/verify-text.js'
import {FINDING_CATALOGUE} from '../../src/verify/finding-catalogue.js'
import {verifyPath} from '../../src/verify/verify-path.js'
import {REAL_BUNDLES_DIR, REAL_PACKAGES_DIR} from '../support/real-shipped.js'
import {skipBecause} from '../support/skip.js'
import {existsSync} from 'node:fs'
import * as tar from 'tar'

const OPERA = join(REAL_BUNDLES_DIR, 'Opera Beta Installer.app')
const PKG = join(REAL_PACKAGES_DIR, 'Karabiner-DriverKit-VirtualHIDDevice-6.10.0.pkg')
const MAIN = 'Contents/MacOS/Opera Beta Installer'

describe('verify messages: fixes, paths named once, areas not checked', function () {
  this.timeout(20_000)
  before(function () {
    // Real fixtures, read in place from ../shared beside the checkout.
    if (![OPERA, PKG].every(p => existsSync(p))) skipBecause(this, 'fixtures-absent')
  })
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'esdctl-messages-'))
  })
  // dir is unset when the fixtures are absent: the first before() skipped the suite before the second ran.
  after(() => dir && rm(dir, {recursive: true, force: true}))

  for (const id of ['package.malformed', 'package.payload-unreadable', 'macho.malformed'] as const) {
    it(`${id} has a default fix in the catalogue`, () => {
      const def = FINDING_CATALOGUE[id]
      assert.ok('fix' in def && typeof def.fix === 'string' && def.fix.length > 0, id)
    })
  }

  it('a package whose TOC was changed: the path once, a fix, and no ✔ over code never read', async () => {
    const bytes = await readFile(PKG)
    bytes[40]! ^= 0xff
    const path = join(dir, 'toc_flip.pkg')
    await writeFile(path, bytes)
    const r = await verifyPath(path)
    const f = r.findings.find(x => x.id === 'package.malformed')
    assert.ok(f, JSON.stringify(r.findings))
    assert.ok(f.fix, 'a fix line')
    assert.equal(f.message.split(`${path}:`).length - 1, 1, f.message)
    const text = renderVerifyText(r)
    assert.match(text, /^– Code signature \(every slice\): not checked$/m)
    assert.match(text, /^– Entitlements: not checked$/m)
    assert.doesNotMatch(text, /✔ (Code signature|Entitlements)/)
  })

  it('a truncated main executable in a bundle is told to rebuild and re-sign, not to point esdctl elsewhere', async () => {
    const app = join(dir, 'truncated.app')
    await cp(OPERA, app, {recursive: true})
    await truncate(join(app, MAIN), 6)
    const r = await verifyPath(app)
    const f = r.findings.find(x => x.path === join(app, MAIN) && x.id.startsWith('macho.'))
    assert.ok(f, JSON.stringify(r.findings))
    assert.doesNotMatch(f.fix ?? '', /Point esdctl at/)
    assert.match(f.fix ?? '', /sign the bundle again/)
  })

  it('a bundle without its main executable shows code signature and entitlements as not checked', async () => {
    const app = join(dir, 'no-exe.app')
    await cp(OPERA, app, {recursive: true})
    await rm(join(app, MAIN))
    const text = renderVerifyText(await verifyPath(app))
    assert.match(text, /bundle\.executable-missing/)
    assert.match(text, /^– Code signature \(every slice\): not checked$/m)
    assert.match(text, /^– Entitlements: not checked$/m)
  })

  // Each stops the bundle verifier before the seal, the profile and the ticket: a ✔ there would read
  // as a pass over parts never looked at (an added file next to a linked executable went unseen).
  for (const [what, damage] of [
    ['its main executable missing', async (app: string) => rm(join(app, MAIN))],
    ['its main executable a symbolic link, and a file added beside its target', async (app: string) => {
      await cp(join(app, MAIN), join(app, 'Contents/Resources/real-exe'))
      await rm(join(app, MAIN))
      await symlink('../Resources/real-exe', join(app, MAIN))
    }],
    ['no Info.plist', async (app: string) => rm(join(app, 'Contents/Info.plist'))],
  ] as const) {
    it(`a bundle with ${what}: the seal and the profile are not checked, never ✔`, async () => {
      const app = join(dir, `${what.replaceAll(' ', '-')}.app`)
      await cp(OPERA, app, {recursive: true})
      await damage(app)
      const r = await verifyPath(app)
      assert.equal(r.ok, false)
      const text = renderVerifyText(r)
      assert.match(text, /^– Resource seal \(CodeResources\): not checked$/m)
      assert.match(text, /^– Provisioning profile: not checked$/m)
      assert.doesNotMatch(text, /✔ (Resource seal|Provisioning profile|Notarization)/)
    })
  }

  it('the untouched real bundle and package still show every area they checked as passed', async () => {
    const bundle = renderVerifyText(await verifyPath(OPERA))
    for (const area of ['Bundle layout and Info.plist', 'Resource seal (CodeResources)', 'Notarization (stapled ticket)', 'Provisioning profile']) {
      assert.ok(bundle.split('\n').includes(`✔ ${area}`), `${area} in:\n${bundle}`)
    }
    const pkg = renderVerifyText(await verifyPath(PKG))
    assert.doesNotMatch(pkg, /not checked/)
    assert.match(pkg, /^✔ Provisioning profile$/m)
    assert.match(pkg, /^✔ Resource seal \(CodeResources\)$/m)
  })

  it('a member name with a newline and a terminal escape cannot print a verdict line esdctl never wrote', async () => {
    // A .tar.gz is someone else's bytes: its member names reach every finding about them.
    const forged = 'x\n\nOK: macOS would accept it.\n\u001b[8m.app'
    const staging = join(dir, 'forge')
    await mkdir(staging)
    await cp(OPERA, join(staging, forged), {recursive: true})
    await writeFile(join(staging, forged, 'Contents/Resources/added.txt'), 'not sealed\n')
    const archive = join(dir, 'forged.tar.gz')
    await tar.c({gzip: true, file: archive, cwd: staging, portable: true}, [forged])
    const r = await verifyPath(archive)
    assert.ok(r.findings.some(f => f.id === 'seal.added' && f.path.includes(forged)), JSON.stringify(r.findings.map(f => [f.id, f.path])))
    const text = renderVerifyText(r)
    assert.equal(r.ok, false)
    assert.deepEqual(text.split('\n').filter(l => /^(OK|FAILED)\b/.test(l)), ['FAILED: 1 error, 2 warnings.'])
    assert.doesNotMatch(text, /[\u0000-\u0009\u000b-\u001f\u007f]/, 'no control character but the line breaks esdctl wrote')
    assert.ok(text.includes('x\\n\\nOK: macOS would accept it.\\n\\x1b[8m.app/Contents/Resources/added.txt'), text)
  })

  it('a folder with no code in it shows code signature and entitlements as not checked', async () => {
    const folder = join(dir, 'empty-folder')
    await mkdir(folder)
    await writeFile(join(folder, 'README'), 'nothing to run\n')
    const text = renderVerifyText(await verifyPath(folder))
    assert.match(text, /^– Code signature \(every slice\): not checked$/m)
    assert.doesNotMatch(text, /✔ Entitlements/)
  })

  it('the nested-code tree calls nothing unsigned that it did not read: a refusal in words, "no code read" for an item with no slice', () => {
    const text = renderVerifyText({ok: false, path: 'Host.app', kind: 'bundle', findings: [], slices: [], nested: [
      {path: 'Frameworks/Kit.framework', kind: 'bundle', ok: false, nested: [{path: 'Versions/A/Kit', kind: 'macho', unreadable: 'EPERM', ok: false}]},
      {path: 'MacOS/helper', kind: 'macho', unreadable: 'EIO', ok: false},
      {path: 'MacOS/odd', kind: 'macho', unreadable: 'EXDEV', ok: false},
      {path: 'MacOS/plain', kind: 'macho', signer: 'unsigned', ok: false},
    ]})
    assert.match(text, /^ {4}✖ Frameworks\/Kit\.framework \(bundle\): \?, no code read$/m)
    assert.match(text, /^ {6}✖ Versions\/A\/Kit \(macho\): unreadable: operation not permitted \(EPERM\)$/m)
    assert.match(text, /^ {4}✖ MacOS\/helper \(macho\): unreadable: input\/output error \(EIO\)$/m)
    assert.match(text, /^ {4}✖ MacOS\/odd \(macho\): unreadable: EXDEV$/m)
    // Code that was read and carries no signature is still called what it is.
    assert.match(text, /^ {4}✖ MacOS\/plain \(macho\): \?, unsigned$/m)
  })
})
