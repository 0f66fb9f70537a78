import {strict as assert} from 'node:assert'
import {copyFile, mkdir, mkdtemp, readdir, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {checkNativeAddons} from '../../scripts/dist-darwin/native-addons.js'
import {ARTIFACTS, realArtifact} from '../support/real-artifacts.js'

/**
 * The darwin build refuses native code a Mac cannot load: it runs with install scripts off on any
 * OS, so an addon compiled at install time would be missing or a Linux ELF in the tarball.
 */
describe('the darwin build checks native addons', function () {
  let dir: string
  let universal: string
  before(async () => {
    universal = await realArtifact(ARTIFACTS.sentryCli) // a real universal (arm64 + x86_64) Mach-O
  })
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'esdctl-addons-'))
    await mkdir(join(dir, 'node_modules', 'plain'), {recursive: true})
    await writeFile(join(dir, 'node_modules', 'plain', 'index.js'), '')
  })
  afterEach(() => rm(dir, {recursive: true, force: true}))

  it('keeps a Mach-O build for the processor and removes other platforms\' builds', async () => {
    const pkg = join(dir, 'node_modules', '@scope', 'lock', 'binaries')
    await mkdir(pkg, {recursive: true})
    await copyFile(universal, join(pkg, 'lock-darwin-arm64.node'))
    await writeFile(join(pkg, 'lock-linux-x64.node'), Buffer.from('\x7fELF\x02\x01\x01\x00', 'binary'))
    const r = await checkNativeAddons(dir, 'arm64')
    assert.deepEqual(r.kept, [{package: join('node_modules', '@scope', 'lock'), addon: join('node_modules', '@scope', 'lock', 'binaries', 'lock-darwin-arm64.node')}])
    assert.deepEqual(r.removed, [join('node_modules', '@scope', 'lock', 'binaries', 'lock-linux-x64.node')])
    assert.deepEqual(await readdir(pkg), ['lock-darwin-arm64.node'])
  })

  it('refuses a package that compiles its addon at install time (binding.gyp, no darwin build), naming it', async () => {
    const pkg = join(dir, 'node_modules', 'compiled-lock')
    await mkdir(join(pkg, 'build', 'Release'), {recursive: true})
    await writeFile(join(pkg, 'binding.gyp'), '{}')
    await writeFile(join(pkg, 'build', 'Release', 'lock.node'), Buffer.from('\x7fELF\x02\x01\x01\x00', 'binary'))
    await assert.rejects(checkNativeAddons(dir, 'x64'), /native code with no darwin-x64 build, which a Mac cannot load: node_modules\/compiled-lock/)
  })

  it('refuses a Mach-O addon built for the other processor only', async () => {
    const pkg = join(dir, 'node_modules', 'thin')
    await mkdir(pkg, {recursive: true})
    await writeFile(join(pkg, 'binding.gyp'), '{}')
    // A thin x86_64 Mach-O header: magic, CPU_TYPE_X86_64, subtype, MH_BUNDLE, no load commands.
    const header = Buffer.alloc(32)
    header.writeUInt32LE(0xfeedfacf, 0)
    header.writeUInt32LE(0x01000007, 4)
    header.writeUInt32LE(3, 8)
    header.writeUInt32LE(8, 12)
    await writeFile(join(pkg, 'addon.node'), header)
    assert.equal((await checkNativeAddons(dir, 'x64')).kept.length, 1)
    await writeFile(join(pkg, 'addon.node'), header)
    await assert.rejects(checkNativeAddons(dir, 'arm64'), /no darwin-arm64 build/)
  })

  it('passes a tree with no native code untouched', async () => {
    assert.deepEqual(await checkNativeAddons(dir, 'arm64'), {kept: [], removed: []})
  })
})
