import {strict as assert} from 'node:assert'
import {createWriteStream} from 'node:fs'
import {copyFile, mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {create as tarCreate} from 'tar'
import yazl from 'yazl'
import type {CpioEntry} from '../../src/formats/cpio-odc.js'
import {namedKindOf, scanPayload} from '../../src/verify/package-payload.js'
import {renderVerifyText} from '../../src/render/verify-text.js'
import {verifyPath} from '../../src/verify/verify-path.js'
import type {VerifyReport} from '../../src/verify/report.js'
import {realProfile} from '../support/real-artifacts.js'
import {realPackage} from '../support/real-shipped.js'
import {skipBecause} from '../support/skip.js'
import {expectFinding} from '../support/expect-finding.js'
import {ExitCode} from '../../src/exit-codes.js'

async function zipOf(members: Array<[string, string]>, out: string): Promise<void> {
  const zip = new yazl.ZipFile()
  for (const [src, name] of members) zip.addFile(src, name)
  zip.end()
  await new Promise<void>((resolve, reject) => zip.outputStream.pipe(createWriteStream(out)).on('close', resolve).on('error', reject))
}

/** The parts of a report that must not depend on whether the item was read from a folder or an archive. */
function comparable(r: VerifyReport, where: string) {
  return (r.items ?? []).map(i => ({path: i.path, kind: i.kind, slices: i.slices, contains: i.contains, ids: i.findings.map(f => f.id).sort(), paths: i.findings.map(f => f.path.split(where).join('<at>'))}))
}

describe('verify <archive> reads .pkg and .provisionprofile members as a folder does', function () {
  this.timeout(180_000)
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'esdctl-archive-members-'))
  })
  after(() => rm(dir, {recursive: true, force: true}))

  function inputs(ctx: Mocha.Context): {pkg: string; profile: string} {
    const pkg = realPackage(ctx, 'Karabiner-DriverKit-VirtualHIDDevice-6.0.0.pkg')
    const profile = realProfile('karabiner-daemon-devid')
    if (!profile) skipBecause(ctx, 'fixtures-absent')
    return {pkg, profile: profile!}
  }

  it('a zip holding a real .pkg: the package verified as in a folder (same items, slices, findings), not input.unknown-kind', async function () {
    const {pkg} = inputs(this)
    const zip = join(dir, 'k.zip')
    await zipOf([[pkg, 'k.pkg']], zip)
    const folder = join(dir, 'k-folder')
    await mkdir(folder)
    await copyFile(pkg, join(folder, 'k.pkg'))
    const [r, f] = await Promise.all([verifyPath(zip), verifyPath(folder)])
    assert.equal(r.kind, 'archive')
    assert.ok(!r.findings.some(x => x.id === 'input.unknown-kind'), JSON.stringify(r.findings))
    assert.deepEqual(r.items!.map(i => [i.path, i.kind]), [['k.pkg', 'package']])
    assert.ok(r.items![0]!.slices.length > 0, 'the code in the package payload was verified')
    assert.deepEqual(comparable(r, `${zip}:k.pkg`), comparable(f, join(folder, 'k.pkg')))
    assert.equal(r.ok, f.ok)
    assert.deepEqual(r.items![0]!.contains, ['bundle'], 'the package holds bundles, as its payload shows')
    // No finding names the private spool file the member was checked from.
    assert.ok(!JSON.stringify(r).includes(tmpdir() + '/esdctl-stage'), JSON.stringify(r.findings))
  })

  it('a .tar.gz holding a real .provisionprofile and a .pkg: both verified, the profile report named inside the archive', async function () {
    const {pkg, profile} = inputs(this)
    const src = join(dir, 'release')
    await mkdir(join(src, 'dist'), {recursive: true})
    await copyFile(pkg, join(src, 'dist', 'driver.pkg'))
    await copyFile(profile, join(src, 'embedded.provisionprofile'))
    const tgz = join(dir, 'release.tar.gz')
    await tarCreate({gzip: true, file: tgz, cwd: dir, portable: true}, ['release'])
    const [r, f] = await Promise.all([verifyPath(tgz), verifyPath(src)])
    assert.equal(r.kind, 'archive')
    const kinds = Object.fromEntries(r.items!.map(i => [i.path, i.kind]))
    assert.deepEqual(kinds, {'release/dist/driver.pkg': 'package', 'release/embedded.provisionprofile': 'profile'})
    const prof = r.items!.find(i => i.kind === 'profile')!
    const onDisk = f.items!.find(i => i.kind === 'profile')!
    assert.equal(prof.profile?.path, `${tgz}:release/embedded.provisionprofile`)
    assert.deepEqual({...prof.profile, path: ''}, {...onDisk.profile, path: ''})
    assert.deepEqual(prof.findings.map(x => x.id).sort(), onDisk.findings.map(x => x.id).sort())
  })

  it('an empty .pkg or .provisionprofile member (a build cut short): input.empty alone, naming it inside the archive', async () => {
    const empty = join(dir, 'empty')
    await writeFile(empty, '')
    const zip = join(dir, 'empties.zip')
    await zipOf([[empty, 'e.pkg'], [empty, 'e.provisionprofile']], zip)
    const r = await verifyPath(zip)
    assert.deepEqual(r.items!.map(i => [i.path, i.kind, i.slices, i.findings.map(f => [f.id, f.path])]), [
      ['e.pkg', 'package', [], [['input.empty', `${zip}:e.pkg`]]],
      ['e.provisionprofile', 'profile', [], [['input.empty', `${zip}:e.provisionprofile`]]],
    ])
    // Nothing was read, so no area passes over it, as in a folder.
    const text = renderVerifyText(r)
    assert.match(text, /contains e\.pkg \(package\): empty \(0 bytes\) — 1 error/)
    assert.doesNotMatch(text, /^✔ /m)
  })

  it('namedKindOf: a package or a profile by how the name ends, whatever its case; a longer name is neither', () => {
    assert.deepEqual(['a.pkg', 'A.MPKG', 'dist/x.Pkg', 'p.provisionprofile', 'P.PROVISIONPROFILE'].map(namedKindOf), ['package', 'package', 'package', 'profile', 'profile'])
    assert.deepEqual(['a.pkg.part', 'a.mpkg.1', 'p.provisionprofile.old', 'pkg', 'a.pkgx', 'p.mobileprovision'].map(namedKindOf), [undefined, undefined, undefined, undefined, undefined, undefined])
  })

  it('a damaged profile member: profile.malformed naming the member inside the archive (an error, exit 3)', async () => {
    const bad = join(dir, 'bad.provisionprofile')
    await import('node:fs/promises').then(fs => fs.writeFile(bad, 'not a profile at all'))
    const zip = join(dir, 'bad.zip')
    await zipOf([[bad, 'x/embedded.provisionprofile']], zip)
    const r = await verifyPath(zip)
    const f = expectFinding(r, {id: 'profile.malformed', severity: 'error', exitCode: ExitCode.verificationFailed})
    assert.equal(f.path, `${zip}:x/embedded.provisionprofile`)
  })

  it('a .pkg member larger than the spool bound: archive.item-unchecked naming it, never verified from a partial copy', async function () {
    const {pkg} = inputs(this)
    const bytes = await readFile(pkg)
    const entries = (async function* (): AsyncGenerator<CpioEntry> {
      yield {path: 'big.pkg', mode: 0o100644, kind: 'file', size: bytes.length, body: async function* () { yield bytes }}
    })()
    let verified = 0
    const r = await scanPayload(entries, {pkgPath: 'a.zip', prefix: '', uncheckedId: 'archive.item-unchecked', namedItems: true, maxItemBytes: 1024, verifyItem: async p => {
      verified++
      return verifyPath(p)
    }})
    assert.equal(verified, 0)
    assert.deepEqual(r.items.map(i => [i.path, i.kind, i.findings.map(f => f.id)]), [['big.pkg', 'package', ['archive.item-unchecked']]])
    assert.match(r.items[0]!.findings[0]!.message, /^a\.zip:big\.pkg: could not be taken out of the archive for checking/)
  })

  it('a package payload (namedItems off) leaves a file named .pkg alone: only code the installer writes is judged there', async function () {
    const {pkg} = inputs(this)
    const bytes = await readFile(pkg)
    const entries = (async function* (): AsyncGenerator<CpioEntry> {
      yield {path: 'usr/share/x.pkg', mode: 0o100644, kind: 'file', size: bytes.length, body: async function* () { yield bytes }}
    })()
    const r = await scanPayload(entries, {pkgPath: 'p.pkg', prefix: 'Payload', verifyItem: verifyPath})
    assert.deepEqual(r.items, [])
  })
})
