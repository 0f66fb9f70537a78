import {strict as assert} from 'node:assert'
import {createHash} from 'node:crypto'
import {existsSync} from 'node:fs'
import {mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import * as plist from 'plist'
import {cdhash, parseCodeDirectory, specialSlotHash, type CodeDirectory} from '../../src/formats/code-directory.js'
import {verifyCms} from '../../src/trust/cms.js'
import {parseEntitlementsBlob} from '../../src/formats/entitlements.js'
import {parseFileLayout, parseMachO} from '../../src/formats/macho.js'
import {readProvisioningProfile} from '../../src/trust/provisioning-profile.js'
import {blobPayload, codeDirectoryEntries, entryForSlot, parseEmbeddedSignature, type EmbeddedSignature} from '../../src/formats/superblob.js'
import {buildBundle, defaultBundleEntitlements} from '../support/bundle-builder.js'
import {createTestPki} from '../support/test-pki.js'

const sha256 = (b: Buffer): Buffer => createHash('sha256').update(b).digest()
type Dict = {[key: string]: unknown}

interface SignedSlice {
  signature: EmbeddedSignature
  cds: CodeDirectory[]
}

function slicesOf(file: Buffer): SignedSlice[] {
  return parseFileLayout(file.subarray(0, 4096), file.length).slices.map((loc) => {
    const slice = file.subarray(loc.offset, loc.offset + loc.size)
    const {dataOffset, dataSize} = parseMachO(slice, slice.length).codeSignature!
    const signature = parseEmbeddedSignature(slice.subarray(dataOffset, dataOffset + dataSize))
    return {signature, cds: codeDirectoryEntries(signature).map((e) => parseCodeDirectory(e.blob))}
  })
}

// Seal data comes back from the plist package as Uint8Array; Buffer makes comparisons exact.
function readSeal(bytes: Buffer): Record<string, Dict> {
  const files2 = (plist.parse(bytes.toString('utf8')) as Dict).files2 as Record<string, Dict>
  return Object.fromEntries(Object.entries(files2).map(([k, v]) => [k, Object.fromEntries(Object.entries(v).map(([f, x]) => [f, x instanceof Uint8Array ? Buffer.from(x) : x]))]))
}

describe('signing kit: bundle builder', () => {
  let dir: string
  const signedAt = new Date('2030-06-01T12:00:00Z')
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'signing-kit-bundle-'))
  })
  after(async () => {
    await rm(dir, {recursive: true, force: true})
  })

  it('writes the full positive ES case: a signed universal daemon, its seal and a matching signed profile', async () => {
    const pki = await createTestPki()
    const identity = await pki.developerId('ABCDE12345')
    const conf = Buffer.from('mode = strict\n')
    const app = await buildBundle({dir, name: 'thed', bundleId: 'com.example.thed', teamId: 'ABCDE12345', arch: ['x86_64', 'arm64'], extraFiles: {'Resources/thed.conf': conf}, timestamp: true, signedAt, identity})
    assert.equal(app, join(dir, 'thed.app'))
    const contents = join(app, 'Contents')
    const info = await readFile(join(contents, 'Info.plist'))
    const seal = await readFile(join(contents, '_CodeSignature', 'CodeResources'))
    const profileBytes = await readFile(join(contents, 'embedded.provisionprofile'))
    const main = await readFile(join(contents, 'MacOS', 'thed'))
    const infoDict = plist.parse(info.toString('utf8')) as Dict
    assert.equal(infoDict.CFBundleExecutable, 'thed')
    assert.equal(infoDict.CFBundleIdentifier, 'com.example.thed')

    const files2 = readSeal(seal)
    assert.deepEqual(Object.keys(files2).sort(), ['Resources/thed.conf', 'embedded.provisionprofile'], 'main executable and Info.plist stay out of the seal')
    assert.deepEqual(files2['Resources/thed.conf']!.hash2, sha256(conf))
    assert.deepEqual(files2['embedded.provisionprofile']!.hash2, sha256(profileBytes))

    const slices = slicesOf(main)
    assert.equal(slices.length, 2)
    for (const {signature, cds} of slices) {
      const [cd] = cds
      assert.ok(cd)
      assert.equal(cd.identifier, 'com.example.thed')
      assert.equal(cd.teamId, 'ABCDE12345')
      assert.equal(cd.flags & 0x10000, 0x10000, 'hardened runtime')
      assert.deepEqual(specialSlotHash(cd, 1), sha256(info))
      assert.deepEqual(specialSlotHash(cd, 3), sha256(seal))
      assert.deepEqual(parseEntitlementsBlob(entryForSlot(signature, 5)!.blob), defaultBundleEntitlements('ABCDE12345', 'com.example.thed'))
      const cms = await verifyCms(blobPayload(entryForSlot(signature, 0x10000)!), {trust: pki.trust, now: signedAt, detachedContent: cd.blob, validity: 'timestamp-or-now'})
      assert.ok(cms.signatureValid, cms.signatureError)
      assert.deepEqual(cms.signer?.der, identity.certDer)
      assert.deepEqual(cms.appleCdHashes, [cdhash(cd)])
      assert.ok(cms.timestamp, 'timestamped')
    }

    const reading = await readProvisioningProfile(profileBytes, {trust: pki.trust, now: signedAt})
    assert.ok(reading.cms.signatureValid)
    assert.equal(reading.profile.kind, 'developer-id')
    assert.equal(reading.profile.appId, 'ABCDE12345.com.example.thed')
    assert.deepEqual(reading.profile.teamIds, ['ABCDE12345'])
    assert.deepEqual(reading.profile.entitlements, defaultBundleEntitlements('ABCDE12345', 'com.example.thed'))
    assert.deepEqual(reading.profile.developerCertificates.map((c) => c.der), [identity.certDer])
    assert.ok(reading.profile.expirationDate! > signedAt && reading.profile.creationDate! < signedAt)
  })

  it('seals extra executables as nested code by their cdhash, and leaves the profile out when asked', async () => {
    const app = await buildBundle({
      dir, name: 'twin', bundleId: 'com.example.twin', teamId: 'ABCDE12345', profile: 'none', hardenedRuntime: false, signedAt,
      extraExecutables: [{name: 'copy', identical: true}, {name: 'helper', entitlements: {'com.apple.security.cs.allow-jit': true}}],
    })
    const contents = join(app, 'Contents')
    assert.equal(existsSync(join(contents, 'embedded.provisionprofile')), false)
    const files2 = readSeal(await readFile(join(contents, '_CodeSignature', 'CodeResources')))
    assert.deepEqual(Object.keys(files2).sort(), ['MacOS/copy', 'MacOS/helper'])
    const main = slicesOf(await readFile(join(contents, 'MacOS', 'twin')))[0]!
    assert.equal(main.cds[0]!.flags & 0x10000, 0)
    for (const name of ['copy', 'helper']) {
      const nested = slicesOf(await readFile(join(contents, 'MacOS', name)))[0]!
      const cd = nested.cds[0]!
      assert.deepEqual(files2[`MacOS/${name}`]!.cdhash, cdhash(cd), `${name} sealed by cdhash`)
      assert.match(String(files2[`MacOS/${name}`]!.requirement), new RegExp(`identifier "${cd.identifier}".*subject\\.OU\\] = ABCDE12345`))
      assert.equal(specialSlotHash(cd, 1), undefined, 'nested code binds no Info.plist')
    }
    const copy = slicesOf(await readFile(join(contents, 'MacOS', 'copy')))[0]!
    assert.equal(copy.cds[0]!.identifier, 'com.example.twin')
    assert.deepEqual(parseEntitlementsBlob(entryForSlot(copy.signature, 5)!.blob), parseEntitlementsBlob(entryForSlot(main.signature, 5)!.blob))
    await assert.rejects(buildBundle({dir, name: 'twin', bundleId: 'x', teamId: 'T', profile: 'none'}), /already exists/)
  })

  it('applies signing overrides to the main executable for mismatch cases', async () => {
    const app = await buildBundle({dir, name: 'odd', bundleId: 'com.example.odd', teamId: 'ABCDE12345', signedAt, signOverrides: {teamId: 'ZZZZZ99999'}})
    const [slice] = slicesOf(await readFile(join(app, 'Contents', 'MacOS', 'odd')))
    assert.equal(slice!.cds[0]!.teamId, 'ZZZZZ99999')
  })
})
