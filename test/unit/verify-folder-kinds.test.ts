import {strict as assert} from 'node:assert'
import {copyFile, mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {renderVerifyText} from '../../src/render/verify-text.js'
import {verifyPath} from '../../src/verify/verify-path.js'
import {REAL_PACKAGES_DIR} from '../support/real-shipped.js'
import {skipBecause} from '../support/skip.js'
import {existsSync} from 'node:fs'
import {ExitCode} from '../../src/exit-codes.js'
import {expectFinding} from '../support/expect-finding.js'

const PKG = join(REAL_PACKAGES_DIR, 'Karabiner-DriverKit-VirtualHIDDevice-6.10.0.pkg')

describe('verify <folder> judges the .pkg and .provisionprofile files in it too', function () {
  this.timeout(60_000)
  before(function () {
    // Real fixtures, read in place from ../shared beside the checkout.
    if (![PKG].every(p => existsSync(p))) skipBecause(this, 'fixtures-absent')
  })
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'esdctl-folder-kinds-'))
  })
  after(() => rm(dir, {recursive: true, force: true}))

  it('a real package and a damaged profile below a folder are items of its one report', async () => {
    const folder = join(dir, 'release')
    await mkdir(join(folder, 'dist'), {recursive: true})
    await copyFile(PKG, join(folder, 'dist', 'driver.pkg'))
    await writeFile(join(folder, 'embedded.provisionprofile'), 'not a profile at all')
    const r = await verifyPath(folder)
    assert.equal(r.kind, 'folder')
    const kinds = Object.fromEntries((r.items ?? []).map(i => [i.path, i.kind]))
    assert.deepEqual(kinds, {'dist/driver.pkg': 'package', 'embedded.provisionprofile': 'profile'})
    const pkg = r.items!.find(i => i.kind === 'package')!
    assert.ok(pkg.slices.length > 0, 'the package payload code was verified')
    assert.ok(r.findings.some(f => f.id === 'profile.malformed' && f.path === join(folder, 'embedded.provisionprofile')), JSON.stringify(r.findings))
    assert.ok(!r.findings.some(f => f.id === 'input.unknown-kind'), 'the folder is not empty of things to verify')
    const text = renderVerifyText(r)
    assert.match(text, /contains dist\/driver\.pkg \(package\)/)
    assert.match(text, /contains embedded\.provisionprofile \(profile\): unreadable — 1 error/)
    // The checks that passed on the package are shown as verifying the .pkg alone shows them, one line per group;
    // only the profile group, where the damaged profile failed, differs.
    const groups = (t: string): string[] => t.split('\n').filter(l => /^[✔✖!–] /.test(l))
    const alone = groups(renderVerifyText(await verifyPath(PKG)))
    assert.ok(alone.includes('✔ Installer package (signatures, checksums, payload)') && alone.includes('✔ Bundle layout and Info.plist'), alone.join('\n'))
    assert.deepEqual(groups(text).filter(l => !l.endsWith('Provisioning profile')), alone.filter(l => !l.endsWith('Provisioning profile')))
    assert.ok(groups(text).includes('✖ Provisioning profile'), text)
  })

  it('a file named .pkg that is no installer package is an item esdctl cannot check → input.item-unchecked (a warning)', async () => {
    const folder = join(dir, 'downloads')
    await mkdir(folder, {recursive: true})
    await copyFile(PKG, join(folder, 'driver.pkg'))
    // What a failed download leaves behind: the server's error page under the package's name.
    await writeFile(join(folder, 'driver-arm64.pkg'), '<html><body>404 Not Found</body></html>\n')
    const r = await verifyPath(folder)
    const f = expectFinding(r, {id: 'input.item-unchecked', severity: 'warning', exitCode: ExitCode.ok})
    assert.equal(f.path, join(folder, 'driver-arm64.pkg'))
    assert.match(f.fix!, /codesign --verify --deep --strict/)
  })
})
