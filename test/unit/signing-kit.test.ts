import {strict as assert} from 'node:assert'
import {createHash} from 'node:crypto'
import {mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {buildSignedMachO, buildSignedMachOSlice, buildUniversal, writeSignedMachOFile, type MachOSpec} from '../support/macho-writer.js'
import {derEntitlementsPayload, type SignOptions} from '../support/signature-writer.js'

// Everything here is read back with offsets taken from the format facts, not with the project's
// parsers, so a shared misunderstanding cannot hide.

const sha = (alg: string, b: Buffer): Buffer => createHash(alg).update(b).digest()

interface Signature {
  dataoff: number
  datasize: number
  superBlob: Buffer
  slots: Map<number, Buffer>
}

function readSignature(file: Buffer): Signature {
  const magic = file.readUInt32LE(0)
  assert.ok(magic === 0xfeedfacf || magic === 0xfeedface, `thin magic, got ${magic.toString(16)}`)
  const ncmds = file.readUInt32LE(16)
  let at = magic === 0xfeedfacf ? 32 : 28
  let found: {dataoff: number; datasize: number} | undefined
  for (let i = 0; i < ncmds; i++) {
    const cmd = file.readUInt32LE(at)
    const size = file.readUInt32LE(at + 4)
    if (cmd === 0x1d) {
      assert.equal(size, 16)
      found = {dataoff: file.readUInt32LE(at + 8), datasize: file.readUInt32LE(at + 12)}
    }
    at += size
  }
  assert.equal(at, (magic === 0xfeedfacf ? 32 : 28) + file.readUInt32LE(20), 'ncmds commands fill sizeofcmds exactly')
  assert.ok(found, 'LC_CODE_SIGNATURE present')
  const {dataoff, datasize} = found
  assert.equal(dataoff % 16, 0)
  assert.equal(dataoff + datasize, file.length, 'the signature ends the file')
  const sig = file.subarray(dataoff, dataoff + datasize)
  assert.equal(sig.readUInt32BE(0), 0xfade0cc0)
  const length = sig.readUInt32BE(4)
  assert.ok(length <= datasize)
  assert.ok(sig.subarray(length).every((b) => b === 0), 'zero padding after the SuperBlob')
  const superBlob = sig.subarray(0, length)
  const count = superBlob.readUInt32BE(8)
  const slots = new Map<number, Buffer>()
  for (let i = 0; i < count; i++) {
    const type = superBlob.readUInt32BE(12 + 8 * i)
    const offset = superBlob.readUInt32BE(16 + 8 * i)
    const blobLength = superBlob.readUInt32BE(offset + 4)
    slots.set(type, superBlob.subarray(offset, offset + blobLength))
  }
  return {dataoff, datasize, superBlob, slots}
}

interface CodeDirectory {
  version: number
  flags: number
  hashOffset: number
  identOffset: number
  nSpecial: number
  nCode: number
  codeLimit: number
  hashSize: number
  hashType: number
  pageLog2: number
  identifier: string
  teamId?: string
  special(n: number): Buffer
  code(i: number): Buffer
}

function readCodeDirectory(cd: Buffer): CodeDirectory {
  assert.equal(cd.readUInt32BE(0), 0xfade0c02)
  assert.equal(cd.readUInt32BE(4), cd.length)
  const version = cd.readUInt32BE(0x08)
  const hashOffset = cd.readUInt32BE(0x10)
  const identOffset = cd.readUInt32BE(0x14)
  const hashSize = cd.readUInt8(0x24)
  const cString = (at: number): string => cd.toString('utf8', at, cd.indexOf(0, at))
  const teamOffset = version >= 0x20200 ? cd.readUInt32BE(0x30) : 0
  return {
    version,
    flags: cd.readUInt32BE(0x0c),
    hashOffset,
    identOffset,
    nSpecial: cd.readUInt32BE(0x18),
    nCode: cd.readUInt32BE(0x1c),
    codeLimit: cd.readUInt32BE(0x20),
    hashSize,
    hashType: cd.readUInt8(0x25),
    pageLog2: cd.readUInt8(0x27),
    identifier: cString(identOffset),
    ...(teamOffset ? {teamId: cString(teamOffset)} : {}),
    special: (n) => cd.subarray(hashOffset - n * hashSize, hashOffset - (n - 1) * hashSize),
    code: (i) => cd.subarray(hashOffset + i * hashSize, hashOffset + (i + 1) * hashSize),
  }
}

function assertCodeSlots(file: Buffer, cd: CodeDirectory, alg: string, size: number): void {
  const page = 2 ** cd.pageLog2
  assert.equal(cd.nCode, Math.ceil(cd.codeLimit / page))
  for (let i = 0; i < cd.nCode; i++) {
    const expected = sha(alg, file.subarray(i * page, Math.min((i + 1) * page, cd.codeLimit))).subarray(0, size)
    assert.deepEqual(cd.code(i), expected, `code slot ${i}`)
  }
}

const arm64 = (codeSize: number): MachOSpec => ({arch: 'arm64', codeSize})

describe('signing kit: signed Mach-O writer', () => {
  it('writes an ad-hoc arm64 executable whose slots hash the pages and the requirement set', async () => {
    const file = await buildSignedMachO(arm64(3 * 4096 + 100), {identifier: 'com.example.thed'})
    assert.equal(file.readUInt32LE(4), 0x0100000c)
    assert.equal(file.readUInt32LE(12), 2, 'MH_EXECUTE')
    const sig = readSignature(file)
    assert.deepEqual([...sig.slots.keys()], [0, 2, 0x10000])
    assert.deepEqual(sig.slots.get(0x10000), Buffer.from('fade0b0100000008', 'hex'), 'ad-hoc: empty CMS wrapper')
    const requirements = sig.slots.get(2)!
    assert.deepEqual(requirements, Buffer.from('fade0c010000000c00000000', 'hex'))
    const cd = readCodeDirectory(sig.slots.get(0)!)
    assert.equal(cd.version, 0x20400)
    assert.equal(cd.flags, 0x2)
    assert.equal(cd.hashType, 2)
    assert.equal(cd.hashSize, 32)
    assert.equal(cd.pageLog2, 12)
    assert.equal(cd.codeLimit, sig.dataoff)
    assert.equal(cd.codeLimit, 3 * 4096 + 112, 'code size rounded up to 16')
    assert.equal(cd.identifier, 'com.example.thed')
    assert.equal(cd.nSpecial, 2)
    assert.deepEqual(cd.special(2), sha('sha256', requirements))
    assert.ok(cd.special(1).every((b) => b === 0), 'no Info.plist bound')
    assertCodeSlots(file, cd, 'sha256', 32)
    const cdBlob = sig.slots.get(0)!
    assert.equal(cdBlob.readBigUInt64BE(0x48), BigInt(sig.dataoff), 'execSegLimit = __TEXT size')
    assert.equal(cdBlob.readBigUInt64BE(0x50), 1n, 'main-binary exec segment')
  })

  it('binds Info.plist, requirements, CodeResources, entitlements and DER entitlements in their special slots', async () => {
    const infoPlist = Buffer.from('<plist>info</plist>')
    const codeResources = Buffer.from('<plist>seal</plist>')
    const requirementsBlob = Buffer.from('fade0c010000001c000000010000000300000014fade0c0000000008', 'hex')
    const entitlements = {'com.apple.developer.endpoint-security.client': true, 'com.apple.application-identifier': 'TEAM.x'}
    const file = await buildSignedMachO(arm64(8192), {
      identifier: 'x', teamId: 'TEAMID1234', flags: 0x10000, infoPlist, codeResources, requirementsBlob, entitlements, derEntitlements: true,
    })
    const sig = readSignature(file)
    assert.deepEqual([...sig.slots.keys()], [0, 2, 5, 7, 0x10000])
    const xml = sig.slots.get(5)!
    assert.equal(xml.readUInt32BE(0), 0xfade7171)
    assert.match(xml.subarray(8).toString('utf8'), /<key>com\.apple\.developer\.endpoint-security\.client<\/key>\s*<true\/>/)
    const derBlob = sig.slots.get(7)!
    assert.equal(derBlob.readUInt32BE(0), 0xfade7172)
    assert.deepEqual(sig.slots.get(2), requirementsBlob)
    const cd = readCodeDirectory(sig.slots.get(0)!)
    assert.equal(cd.flags, 0x10000)
    assert.equal(cd.teamId, 'TEAMID1234')
    assert.equal(cd.nSpecial, 7)
    assert.deepEqual(cd.special(1), sha('sha256', infoPlist))
    assert.deepEqual(cd.special(2), sha('sha256', requirementsBlob))
    assert.deepEqual(cd.special(3), sha('sha256', codeResources))
    assert.deepEqual(cd.special(5), sha('sha256', xml))
    assert.deepEqual(cd.special(7), sha('sha256', derBlob))
    for (const empty of [4, 6]) assert.ok(cd.special(empty).every((b) => b === 0), `slot -${empty} absent`)
  })

  it('encodes DER entitlements in Apple\'s layout', () => {
    assert.deepEqual(derEntitlementsPayload({}), Buffer.from([0x70, 5, 2, 1, 1, 0xb0, 0]))
    assert.deepEqual(derEntitlementsPayload({key: false}), Buffer.from([0x70, 15, 2, 1, 1, 0xb0, 10, 0x30, 8, 0x0c, 3, 0x6b, 0x65, 0x79, 1, 1, 0]))
    const mixed = derEntitlementsPayload({b: [128, -1], a: 'é'})
    // Keys sorted; 128 needs a leading zero byte, -1 is a single 0xff.
    assert.deepEqual(
      mixed,
      Buffer.from('701c020101b017' + '30070c01610c02c3a9' + '300c0c0162' + '300702020080' + '0201ff', 'hex'),
    )
  })

  it('writes a SHA-1 CodeDirectory in slot 0 and a SHA-256 alternate at 0x1000 when asked for both', async () => {
    const file = await buildSignedMachO(arm64(20000), {identifier: 'legacy', hashTypes: [1, 2], entitlements: {a: true}})
    const sig = readSignature(file)
    assert.deepEqual([...sig.slots.keys()], [0, 2, 5, 0x1000, 0x10000])
    const sha1Cd = readCodeDirectory(sig.slots.get(0)!)
    const sha256Cd = readCodeDirectory(sig.slots.get(0x1000)!)
    assert.equal(sha1Cd.hashType, 1)
    assert.equal(sha1Cd.hashSize, 20)
    assert.equal(sha256Cd.hashType, 2)
    assertCodeSlots(file, sha1Cd, 'sha1', 20)
    assertCodeSlots(file, sha256Cd, 'sha256', 32)
    assert.deepEqual(sha1Cd.special(5), sha('sha1', sig.slots.get(5)!))
    assert.deepEqual(sha256Cd.special(5), sha('sha256', sig.slots.get(5)!))
  })

  it('lays out every CodeDirectory version with the header size its fields need', async () => {
    const headerSizes: [number, number][] = [[0x20001, 0x2c], [0x20100, 0x30], [0x20200, 0x34], [0x20300, 0x40], [0x20400, 0x58], [0x20500, 0x60], [0x20600, 0x6c]]
    for (const [version, headerSize] of headerSizes) {
      const withTeam = version >= 0x20200
      const file = await buildSignedMachO(arm64(5000), {identifier: 'v', version, flags: 0x10000, ...(withTeam ? {teamId: 'T'} : {}), hashTypes: [4], pageSize: 16384})
      const blob = readSignature(file).slots.get(0)!
      const cd = readCodeDirectory(blob)
      assert.equal(cd.version, version)
      assert.equal(cd.identOffset, headerSize, `0x${version.toString(16)}`)
      assert.equal(cd.hashOffset, headerSize + 2 + (withTeam ? 2 : 0) + 2 * 48)
      assert.equal(cd.teamId, withTeam ? 'T' : undefined)
      assert.equal(cd.pageLog2, 14)
      assertCodeSlots(file, cd, 'sha384', 48)
      if (version >= 0x20300) assert.equal(blob.readBigUInt64BE(0x38), BigInt(cd.codeLimit))
      if (version >= 0x20500) assert.equal(blob.readUInt32BE(0x58), 0x000e0000, 'runtime version defaults with the runtime flag')
    }
    await assert.rejects(buildSignedMachO(arm64(100), {identifier: 'v', version: 0x20100, teamId: 'T'}), /0x20200/)
  })

  it('writes 32-bit i386, x86_64 and arm64e headers', async () => {
    const i386 = await buildSignedMachO({arch: 'i386', codeSize: 4096}, {identifier: 'i'})
    assert.equal(i386.readUInt32LE(0), 0xfeedface)
    assert.equal(i386.readUInt32LE(4), 7)
    assertCodeSlots(i386, readCodeDirectory(readSignature(i386).slots.get(0)!), 'sha256', 32)
    const x64 = await buildSignedMachO({arch: 'x86_64', codeSize: 4096}, {identifier: 'x'})
    assert.equal(x64.readUInt32LE(4), 0x01000007)
    assert.equal(x64.readUInt32LE(8), 3)
    const arm64e = await buildSignedMachO({arch: 'arm64e', codeSize: 4096}, {identifier: 'e'})
    assert.equal(arm64e.readUInt32LE(8), 0x80000002)
    readSignature(x64)
    readSignature(arm64e)
  })

  it('writes a linker-style signature: the CodeDirectory alone, adhoc | linker-signed', async () => {
    const file = await buildSignedMachO(arm64(10000), {identifier: 'ld', linkerStyle: true})
    const sig = readSignature(file)
    assert.deepEqual([...sig.slots.keys()], [0])
    const cd = readCodeDirectory(sig.slots.get(0)!)
    assert.equal(cd.flags, 0x20002)
    assert.equal(cd.nSpecial, 0)
    assertCodeSlots(file, cd, 'sha256', 32)
  })

  it('lets the caller fill pages but keeps the header', async () => {
    const file = await buildSignedMachO({arch: 'arm64', codeSize: 3 * 4096, fill: (i, page) => page.fill(0x40 + i)}, {identifier: 'f'})
    assert.equal(file.readUInt32LE(0), 0xfeedfacf)
    assert.equal(file[4095], 0x40)
    assert.equal(file[4096], 0x41)
    assert.equal(file[3 * 4096 - 1], 0x42)
  })

  it('hands the CodeDirectories to the CMS signer and wraps its DER in the reserved space', async () => {
    let seen: Buffer[] = []
    const cms = async (cds: Buffer[]): Promise<Buffer> => {
      seen = cds
      return Buffer.from('3082000401020304', 'hex')
    }
    const {bytes, codeDirectories} = await buildSignedMachOSlice(arm64(4096), {identifier: 's', hashTypes: [1, 2], cms, cmsReserve: 1000})
    const sig = readSignature(bytes)
    assert.deepEqual(seen, [sig.slots.get(0), sig.slots.get(0x1000)])
    assert.deepEqual(codeDirectories, seen)
    assert.deepEqual(sig.slots.get(0x10000), Buffer.from('fade0b01000000103082000401020304', 'hex'))
    assert.ok(sig.datasize >= sig.superBlob.length + 1000 - 8)
    assert.equal(readCodeDirectory(sig.slots.get(0)!).flags, 0, 'not ad-hoc when CMS-signed')
    const tooBig = async (): Promise<Buffer> => Buffer.alloc(2000)
    await assert.rejects(buildSignedMachO(arm64(4096), {identifier: 's', cms: tooBig, cmsReserve: 1000}), /cmsReserve/)
  })
})

describe('signing kit: universal files', () => {
  for (const form of ['cafebabe', 'cafebabf'] as const) {
    it(`writes a ${form} header whose entries locate each slice, aligned`, async () => {
      const x64 = await buildSignedMachO({arch: 'x86_64', codeSize: 5000}, {identifier: 'u'})
      const a64 = await buildSignedMachO(arm64(7000), {identifier: 'u'})
      const fat = buildUniversal([{arch: 'x86_64', bytes: x64}, {arch: 'arm64', bytes: a64}], form)
      assert.equal(fat.readUInt32BE(0), form === 'cafebabe' ? 0xcafebabe : 0xcafebabf)
      assert.equal(fat.readUInt32BE(4), 2)
      const wide = form === 'cafebabf'
      const entries = [0, 1].map((i) => {
        const e = 8 + i * (wide ? 32 : 20)
        return {
          cputype: fat.readUInt32BE(e),
          offset: wide ? Number(fat.readBigUInt64BE(e + 8)) : fat.readUInt32BE(e + 8),
          size: wide ? Number(fat.readBigUInt64BE(e + 16)) : fat.readUInt32BE(e + 12),
          align: fat.readUInt32BE(e + (wide ? 24 : 16)),
        }
      })
      assert.deepEqual(entries.map((e) => [e.cputype, e.align]), [[0x01000007, 12], [0x0100000c, 14]])
      for (const [i, slice] of [x64, a64].entries()) {
        const e = entries[i]!
        assert.equal(e.offset % 2 ** e.align, 0)
        assert.deepEqual(fat.subarray(e.offset, e.offset + e.size), slice)
      }
      assert.equal(entries[1]!.offset + entries[1]!.size, fat.length)
    })
  }
})

describe('signing kit: streaming writer', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'signing-kit-'))
  })
  after(async () => {
    await rm(dir, {recursive: true, force: true})
  })

  const cases: [string, MachOSpec, SignOptions][] = [
    ['a few MiB, SHA-256, 4 KiB pages', {arch: 'arm64', codeSize: 3 * 1024 * 1024 + 123}, {identifier: 'big', teamId: 'T1', entitlements: {a: true}, derEntitlements: true}],
    ['SHA-1 + SHA-256, 16 KiB pages', {arch: 'x86_64', codeSize: 2 * 1024 * 1024 + 4096 * 3}, {identifier: 'big2', hashTypes: [1, 2], pageSize: 16384}],
    ['a custom fill', {arch: 'arm64', codeSize: 1024 * 1024 + 1, fill: (i, p) => p.fill(i & 0xff)}, {identifier: 'big3'}],
  ]
  for (const [name, spec, sign] of cases) {
    it(`writes the same bytes as the in-memory writer (${name})`, async () => {
      const path = join(dir, `${sign.identifier}.bin`)
      await writeSignedMachOFile(path, spec, sign)
      const streamed = await readFile(path)
      const inMemory = await buildSignedMachO(spec, sign)
      assert.equal(streamed.length, inMemory.length)
      assert.ok(streamed.equals(inMemory), 'byte-identical')
      const sig = readSignature(streamed)
      const cd = readCodeDirectory(sig.slots.get(0)!)
      assertCodeSlots(streamed, cd, cd.hashType === 1 ? 'sha1' : 'sha256', cd.hashSize)
    })
  }
})
