import {strict as assert} from 'node:assert'
import {createHash} from 'node:crypto'
import {cdhash, codeSlotHash, parseCodeDirectory, specialSlotHash} from '../../src/formats/code-directory.js'
import {parseCodeResources} from '../../src/formats/code-resources.js'
import {encodeDerEntitlements} from '../../src/formats/der-entitlements-encode.js'
import {parseDerEntitlementsBlob, parseEntitlementsBlob} from '../../src/formats/entitlements.js'
import {parseFileLayout, parseMachO} from '../../src/formats/macho.js'
import {codeDirectoryEntries, entryForSlot, parseEmbeddedSignature} from '../../src/formats/superblob.js'
import {buildCodeResources} from '../support/code-resources-writer.js'
import {buildSignedMachO, buildUniversal} from '../support/macho-writer.js'
import {cdhashOf, derEntitlementsPayload, type SignOptions} from '../support/signature-writer.js'

// The writer and the parsers were written apart from the format facts; agreeing here is evidence
// both read the facts the same way, disagreeing means one of them is wrong.

const sha256 = (b: Buffer): Buffer => createHash('sha256').update(b).digest()

describe('signing kit: round trip through the project parsers', () => {
  const entitlements = {
    'com.apple.application-identifier': 'ABCDE12345.com.example.esd',
    'com.apple.developer.team-identifier': 'ABCDE12345',
    'com.apple.developer.endpoint-security.client': true,
    'keychain-access-groups': ['ABCDE12345.*'],
    nested: {n: 300, neg: -129},
  }
  const infoPlist = Buffer.from('<plist version="1.0"><dict/></plist>')
  const sign: SignOptions = {identifier: 'com.example.esd', teamId: 'ABCDE12345', flags: 0x10000, hashTypes: [1, 2], entitlements, derEntitlements: true, infoPlist, version: 0x20500}

  it('parses every slice of a universal file the writer made, with matching hashes', async () => {
    const slices = [
      {arch: 'x86_64', bytes: await buildSignedMachO({arch: 'x86_64', codeSize: 9000}, sign)},
      {arch: 'arm64', bytes: await buildSignedMachO({arch: 'arm64', codeSize: 12345}, sign)},
    ]
    const fat = buildUniversal(slices, 'cafebabf')
    const layout = parseFileLayout(fat.subarray(0, 4096), fat.length)
    assert.equal(layout.kind, 'universal')
    assert.deepEqual(layout.slices.map((s) => s.arch), ['x86_64', 'arm64'])
    for (const location of layout.slices) {
      const slice = fat.subarray(location.offset, location.offset + location.size)
      const image = parseMachO(slice, slice.length)
      assert.deepEqual(image.segments.map((s) => s.name), ['__PAGEZERO', '__TEXT', '__LINKEDIT'])
      const {dataOffset, dataSize} = image.codeSignature!
      const signature = parseEmbeddedSignature(slice.subarray(dataOffset, dataOffset + dataSize))
      const cds = codeDirectoryEntries(signature).map((e) => parseCodeDirectory(e.blob))
      assert.deepEqual(cds.map((cd) => cd.hashType), [1, 2])
      for (const cd of cds) {
        assert.equal(cd.identifier, 'com.example.esd')
        assert.equal(cd.teamId, 'ABCDE12345')
        assert.equal(cd.codeLimit, dataOffset)
        assert.equal(cd.runtime, 0x000e0000)
        assert.deepEqual(cdhash(cd), cdhashOf(cd.blob))
        assert.ok(specialSlotHash(cd, 1), 'Info.plist bound')
        assert.equal(specialSlotHash(cd, 3), undefined, 'no CodeResources bound')
      }
      const sha256Cd = cds[1]!
      assert.deepEqual(specialSlotHash(sha256Cd, 1), sha256(infoPlist))
      assert.deepEqual(codeSlotHash(sha256Cd, 1), sha256(slice.subarray(4096, 8192)))
      assert.deepEqual(parseEntitlementsBlob(entryForSlot(signature, 5)!.blob), entitlements)
      assert.deepEqual(parseDerEntitlementsBlob(entryForSlot(signature, 7)!.blob), entitlements)
    }
  })

  it('encodes DER entitlements byte-for-byte like the project encoder', () => {
    assert.deepEqual(derEntitlementsPayload(entitlements), encodeDerEntitlements(entitlements))
  })

  it('writes a CodeResources the project parser reads back', () => {
    const conf = Buffer.from('x')
    const seal = parseCodeResources(
      buildCodeResources([
        {path: 'Resources/x.conf', bytes: conf, optional: true},
        {path: 'Resources/link', symlinkTarget: 'x.conf'},
        {path: 'MacOS/helper', nested: {cdhash: Buffer.alloc(20, 1), requirement: 'cdhash H"01"'}},
      ]),
      'CodeResources',
    )
    assert.equal(seal.version, 2)
    assert.deepEqual(seal.files.get('Resources/x.conf'), {kind: 'file', sha256: sha256(conf), sha1: createHash('sha1').update(conf).digest(), optional: true})
    assert.deepEqual(seal.files.get('Resources/link'), {kind: 'symlink', target: 'x.conf', optional: false})
    assert.deepEqual(seal.files.get('MacOS/helper'), {kind: 'nested', cdhash: Buffer.alloc(20, 1), requirement: 'cdhash H"01"', optional: false})
    const infoRule = seal.rules.find((r) => r.source === '^Info\\.plist$')
    assert.deepEqual([infoRule?.omit, infoRule?.weight], [true, 20])
  })
})
