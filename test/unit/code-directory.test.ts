import {strict as assert} from 'node:assert'
import {createHash} from 'node:crypto'
import fc from 'fast-check'
import {
  cdhash, cdhashFull, codeDirectoryFlagNames, codeSlotHash, codeSlotHashes, parseCodeDirectory, specialSlotHash, type CodeDirectory,
} from '../../src/formats/code-directory.js'
import {FormatError} from '../../src/formats/format-error.js'
import {digest, hashAlgorithmOf, hashSizeOf, nodeDigestName} from '../../src/formats/hash-type.js'
import {BlobMagic, SlotType, entryForSlot, parseEmbeddedSignature, type EmbeddedSignature} from '../../src/formats/superblob.js'
import {throwsFormat} from '../support/format-assertions.js'
import {ARTIFACTS, realArtifact} from '../support/real-artifacts.js'
import {readRange, realSlices} from '../support/real-slices.js'

interface SliceWithCd {arch: string; bytes: Buffer; signature: EmbeddedSignature; cd: CodeDirectory}

/** Every slice of a real binary read whole (the page-hash checks need its pages), with its signature and slot-0 CodeDirectory. */
async function slicesWithCd(path: string): Promise<SliceWithCd[]> {
  const out = []
  for (const slice of await realSlices(path)) {
    const signature = parseEmbeddedSignature(slice.signatureData)
    const bytes = await readRange(path, slice.offset, slice.size)
    out.push({arch: slice.arch, bytes, signature, cd: parseCodeDirectory(entryForSlot(signature, SlotType.codeDirectory)!.blob)})
  }
  return out
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

describe('hash types', () => {
  it('maps the four CodeDirectory hash types', () => {
    assert.deepEqual([1, 2, 3, 4, 5].map(hashAlgorithmOf), ['sha1', 'sha256', 'sha256-truncated', 'sha384', undefined])
    assert.deepEqual([1, 2, 3, 4, 0].map(hashSizeOf), [20, 32, 20, 48, undefined])
    assert.deepEqual([1, 2, 3, 4, 9].map(nodeDigestName), ['sha1', 'sha256', 'sha256', 'sha384', undefined])
  })

  it('digests and truncates type 3', () => {
    const data = Buffer.from('abc')
    assert.equal(digest(2, data).toString('hex'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
    assert.equal(digest(3, data).toString('hex'), 'ba7816bf8f01cfea414140de5dae2223b00361a3')
    assert.equal(digest(1, [Buffer.from('a'), Buffer.from('bc')]).toString('hex'), 'a9993e364706816aba3e25717850c26c9cd0d89d')
    assert.equal(digest(4, data).length, 48)
    throwsFormat(() => digest(7, data), 'hash.unknown-type')
  })
})

describe('CodeDirectory (real binaries)', () => {
  let sentry: SliceWithCd[]
  let esbuild: SliceWithCd[]
  before(async () => {
    sentry = await slicesWithCd(await realArtifact(ARTIFACTS.sentryCli))
    esbuild = await slicesWithCd(await realArtifact(ARTIFACTS.esbuild))
  })

  it('reads the hardened-runtime Developer ID CodeDirectory of each sentry-cli slice', () => {
    const fields = sentry.map(({arch, cd}) => ({
      arch, version: cd.version, identifier: cd.identifier, teamId: cd.teamId, flagNames: cd.flagNames, hashType: cd.hashType,
      hashSize: cd.hashSize, pageSize: cd.pageSize, nSpecialSlots: cd.nSpecialSlots, nCodeSlots: cd.nCodeSlots, codeLimit: cd.codeLimit,
      runtime: cd.runtime, execSegLimit: cd.execSegLimit, execSegFlags: cd.execSegFlags,
    }))
    assert.deepEqual(fields, [
      {arch: 'x86_64', version: 0x20500, identifier: 'sentry-cli-Darwin-universal', teamId: '97JCY7859U', flagNames: ['runtime'], hashType: 2, hashSize: 32, pageSize: 4096, nSpecialSlots: 7, nCodeSlots: 4575, codeLimit: 18738064, runtime: 0xe0500, execSegLimit: 15065088n, execSegFlags: 1n},
      {arch: 'arm64', version: 0x20500, identifier: 'sentry_cli-3047538001e811ea', teamId: '97JCY7859U', flagNames: ['runtime'], hashType: 2, hashSize: 32, pageSize: 4096, nSpecialSlots: 7, nCodeSlots: 4113, codeLimit: 16845392, runtime: 0xe0500, execSegLimit: 13352960n, execSegFlags: 1n},
    ])
  })

  it('reads the linker-signed ad-hoc CodeDirectory of esbuild', () => {
    const {cd} = esbuild[0]!
    assert.deepEqual(
      {version: cd.version, identifier: cd.identifier, teamId: cd.teamId, flags: cd.flags, flagNames: cd.flagNames, hashType: cd.hashType, pageSize: cd.pageSize, nSpecialSlots: cd.nSpecialSlots, nCodeSlots: cd.nCodeSlots, codeLimit: cd.codeLimit},
      {version: 0x20400, identifier: 'a.out', teamId: undefined, flags: 0x20002, flagNames: ['adhoc', 'linker-signed'], hashType: 2, pageSize: 4096, nSpecialSlots: 0, nCodeSlots: 2375, codeLimit: 9724496},
    )
  })

  it('has code slots that are the SHA-256 of each page of the slice, up to the signature', () => {
    for (const {arch, bytes, cd} of [...sentry, ...esbuild]) {
      assert.equal(codeSlotHashes(cd).length, cd.nCodeSlots * 32)
      for (let i = 0; i < cd.nCodeSlots; i++) {
        const page = bytes.subarray(i * cd.pageSize, Math.min((i + 1) * cd.pageSize, cd.codeLimit))
        assert.equal(codeSlotHash(cd, i)!.toString('hex'), sha256(page), `${arch} page ${i}`)
      }
      assert.equal(codeSlotHash(cd, cd.nCodeSlots), undefined)
    }
  })

  it('binds the requirements and both entitlements blobs through special slots 2, 5 and 7', () => {
    for (const {signature, cd} of sentry) {
      assert.equal(specialSlotHash(cd, 1), undefined, 'no Info.plist bound')
      assert.equal(specialSlotHash(cd, 3), undefined, 'no CodeResources bound')
      for (const slot of [SlotType.requirements, SlotType.entitlements, SlotType.derEntitlements]) {
        assert.equal(specialSlotHash(cd, slot)!.toString('hex'), sha256(entryForSlot(signature, slot)!.blob), `slot ${slot}`)
      }
      assert.equal(specialSlotHash(cd, 8), undefined, 'beyond nSpecialSlots')
      assert.equal(specialSlotHash(cd, 0), undefined)
    }
    assert.equal(specialSlotHash(esbuild[0]!.cd, 1), undefined)
  })

  it('computes the cdhashes (checked against openssl over the extracted blobs)', () => {
    assert.deepEqual(sentry.map(s => cdhash(s.cd).toString('hex')), ['fd8e58c1c974191806324e45dbb4f5708afae929', '316b642db08134a14aadcbb6bc8c96922ef5b7aa'])
    assert.equal(cdhashFull(sentry[0]!.cd).toString('hex'), 'fd8e58c1c974191806324e45dbb4f5708afae92954b176c7ae92b0a2763efb85')
    assert.equal(cdhash(esbuild[0]!.cd).toString('hex'), '7b650a1369b4ee7142ebc620f128a3828b17eb9a')
  })

  it('survives byte flips, truncations and absurd fields: a result or a FormatError, never anything else', () => {
    const real = entryForSlot(sentry[1]!.signature, SlotType.codeDirectory)!.blob
    fc.assert(
      fc.property(
        fc.array(fc.record({at: fc.integer({min: 0, max: 0x70}), value: fc.integer({min: 0, max: 255})}), {minLength: 1, maxLength: 6}),
        fc.option(fc.nat({max: real.length}), {nil: undefined}),
        fc.integer({min: 1, max: 23}),
        fc.constantFrom(0, 1, 0x7fffffff, 0xffffffff, 0x20600, 0x1fffff),
        (flips, cut, word, absurd) => {
          const b = Buffer.from(real)
          for (const f of flips) b[f.at] = f.value
          b.writeUInt32BE(absurd, word * 4)
          const input = cut === undefined ? b : b.subarray(0, cut)
          try {
            const cd = parseCodeDirectory(input)
            assert.equal(codeSlotHashes(cd).length, cd.nCodeSlots * cd.hashSize)
            for (let s = 1; s <= Math.min(cd.nSpecialSlots, 10); s++) specialSlotHash(cd, s)
            cdhash(cd)
          } catch (e) {
            if (!(e instanceof FormatError)) throw e
          }
        },
      ),
      {numRuns: 300},
    )
  })
})

interface CdSpec {
  version: number
  hashType?: number
  hashSize?: number
  pageSizeLog2?: number
  codeLimit?: number
  codeLimit64?: bigint
  nCodeSlots?: number
  nSpecialSlots?: number
  identifier?: string
  team?: string
  flags?: number
  scatter?: boolean
}

/** Header sizes written out by hand from the struct layout, independent of the parser's table. */
const HEADER_SIZE_BY_VERSION: ReadonlyArray<readonly [number, number]> = [
  [0x20001, 44], [0x20100, 48], [0x20200, 52], [0x20300, 64], [0x20400, 88], [0x20500, 96], [0x20600, 108],
]

function buildCd(spec: CdSpec): Buffer {
  const header = HEADER_SIZE_BY_VERSION.filter(([v]) => spec.version >= v).at(-1)?.[1] ?? 44
  const hashType = spec.hashType ?? 2
  const hashSize = spec.hashSize ?? ({1: 20, 2: 32, 3: 20, 4: 48} as Record<number, number>)[hashType] ?? 32
  const pageSizeLog2 = spec.pageSizeLog2 ?? 12
  const codeLimit = Number(spec.codeLimit64 ?? BigInt(spec.codeLimit ?? 10000))
  const nCodeSlots = spec.nCodeSlots ?? (pageSizeLog2 === 0 ? (codeLimit ? 1 : 0) : Math.ceil(codeLimit / 2 ** pageSizeLog2))
  const nSpecial = spec.nSpecialSlots ?? 2
  const ident = Buffer.from(`${spec.identifier ?? 'com.example.daemon'}\0`)
  const team = spec.team === undefined ? Buffer.alloc(0) : Buffer.from(`${spec.team}\0`)
  const scatter = spec.scatter ? Buffer.alloc(24) : Buffer.alloc(0)
  const identOffset = header
  const teamOffset = identOffset + ident.length
  const scatterOffset = teamOffset + team.length
  const hashOffset = scatterOffset + scatter.length + nSpecial * hashSize
  const slots = Buffer.alloc((nSpecial + nCodeSlots) * hashSize)
  for (let i = 0; i < slots.length; i++) slots[i] = (i % 251) + 1
  const b = Buffer.concat([Buffer.alloc(header), ident, team, scatter, slots])
  b.writeUInt32BE(BlobMagic.codeDirectory, 0)
  b.writeUInt32BE(b.length, 4)
  b.writeUInt32BE(spec.version, 8)
  b.writeUInt32BE(spec.flags ?? 0x10000, 12)
  b.writeUInt32BE(hashOffset, 16)
  b.writeUInt32BE(identOffset, 20)
  b.writeUInt32BE(nSpecial, 24)
  b.writeUInt32BE(nCodeSlots, 28)
  b.writeUInt32BE(spec.codeLimit64 === undefined ? codeLimit : 0, 32)
  b[36] = hashSize
  b[37] = hashType
  b[38] = 0
  b[39] = pageSizeLog2
  if (spec.version >= 0x20100 && spec.scatter) b.writeUInt32BE(scatterOffset, 44)
  if (spec.version >= 0x20200 && spec.team !== undefined) b.writeUInt32BE(teamOffset, 48)
  if (spec.version >= 0x20300 && spec.codeLimit64 !== undefined) b.writeBigUInt64BE(spec.codeLimit64, 56)
  if (spec.version >= 0x20400) {
    b.writeBigUInt64BE(0n, 64)
    b.writeBigUInt64BE(0x4000n, 72)
    b.writeBigUInt64BE(1n, 80)
  }
  if (spec.version >= 0x20500) b.writeUInt32BE(0xe0500, 88)
  return b
}

describe('CodeDirectory (synthetic)', () => {
  for (const [version, size] of HEADER_SIZE_BY_VERSION) {
    it(`reads version 0x${version.toString(16)} with its ${size}-byte header, and refuses it cut short`, () => {
      const cd = parseCodeDirectory(buildCd({version, team: version >= 0x20200 ? 'ABCDE12345' : undefined}))
      assert.equal(cd.version, version)
      assert.equal(cd.headerSize, size)
      assert.equal(cd.identifier, 'com.example.daemon')
      assert.equal(cd.teamId, version >= 0x20200 ? 'ABCDE12345' : undefined)
      assert.equal(cd.execSegLimit, version >= 0x20400 ? 0x4000n : undefined)
      assert.equal(cd.runtime, version >= 0x20500 ? 0xe0500 : undefined)
      assert.equal(cd.nCodeSlots, 3)
      const truncated = Buffer.from(buildCd({version}).subarray(0, size - 1))
      truncated.writeUInt32BE(size - 1, 4)
      throwsFormat(() => parseCodeDirectory(truncated), 'cd.truncated')
    })
  }

  it('takes codeLimit from codeLimit64 when the version has it and it is set', () => {
    const big = 5n * 2n ** 32n + 1n
    const cd = parseCodeDirectory(buildCd({version: 0x20400, codeLimit64: big, pageSizeLog2: 24}))
    assert.equal(cd.codeLimit, Number(big))
    assert.equal(cd.nCodeSlots, Math.ceil(Number(big) / 2 ** 24))
    const absurd = buildCd({version: 0x20400, codeLimit64: big, pageSizeLog2: 24})
    absurd.writeBigUInt64BE(2n ** 60n, 56)
    throwsFormat(() => parseCodeDirectory(absurd), 'cd.code-limit')
  })

  it('accepts every hash type with its own size, and SHA-1 cdhash untruncated', () => {
    for (const hashType of [1, 2, 3, 4]) {
      const cd = parseCodeDirectory(buildCd({version: 0x20400, hashType}))
      assert.equal(cd.hashSize, hashSizeOf(hashType))
      assert.equal(cdhash(cd).length, 20)
      assert.equal(cdhashFull(cd).length, {1: 20, 2: 32, 3: 32, 4: 48}[hashType])
    }
  })

  it('treats page size 0 as one page covering codeLimit', () => {
    const cd = parseCodeDirectory(buildCd({version: 0x20400, pageSizeLog2: 0, codeLimit: 123456}))
    assert.equal(cd.pageSize, 0)
    assert.equal(cd.nCodeSlots, 1)
  })

  it('does not derive the slot count when a scatter vector lists the pages', () => {
    const cd = parseCodeDirectory(buildCd({version: 0x20100, scatter: true, nCodeSlots: 1, codeLimit: 100000}))
    assert.ok(cd.scatterOffset !== undefined)
  })

  it('names flags, listing unnamed bits in hex', () => {
    assert.deepEqual(codeDirectoryFlagNames(0x2 | 0x100 | 0x200 | 0x400 | 0x800 | 0x1000 | 0x2000 | 0x10000 | 0x20000), [
      'adhoc', 'hard', 'kill', 'force-expiration', 'restrict', 'enforcement', 'library-validation', 'runtime', 'linker-signed',
    ])
    assert.deepEqual(codeDirectoryFlagNames(0x80000001), ['host', '0x80000000'])
  })

  it('rejects inconsistent CodeDirectories with a specific code', () => {
    const base: CdSpec = {version: 0x20400}
    throwsFormat(() => parseCodeDirectory(buildCd({...base, hashType: 9, hashSize: 32})), 'cd.unknown-hash-type')
    throwsFormat(() => parseCodeDirectory(buildCd({...base, hashType: 2, hashSize: 20})), 'cd.hash-size')
    throwsFormat(() => parseCodeDirectory(buildCd({...base, nCodeSlots: 2})), 'cd.slot-count')
    throwsFormat(() => parseCodeDirectory(buildCd({...base, pageSizeLog2: 8})), 'cd.page-size')
    throwsFormat(() => parseCodeDirectory(buildCd({...base, pageSizeLog2: 25})), 'cd.page-size')
    throwsFormat(() => parseCodeDirectory(buildCd({version: 0x10000})), 'cd.unsupported-version')
    throwsFormat(() => parseCodeDirectory(buildCd({version: 0x30000})), 'cd.unsupported-version')

    const wrongMagic = buildCd(base)
    wrongMagic.writeUInt32BE(BlobMagic.requirement, 0)
    throwsFormat(() => parseCodeDirectory(wrongMagic), 'cd.bad-magic')
    const longer = buildCd(base)
    longer.writeUInt32BE(longer.length + 1, 4)
    throwsFormat(() => parseCodeDirectory(longer), 'cd.bad-length')

    const hashPastEnd = buildCd(base)
    hashPastEnd.writeUInt32BE(hashPastEnd.readUInt32BE(16) + 1, 16)
    throwsFormat(() => parseCodeDirectory(hashPastEnd), 'cd.hash-offset-out-of-range')
    const specialIntoHeader = buildCd(base)
    specialIntoHeader.writeUInt32BE(1000, 24)
    throwsFormat(() => parseCodeDirectory(specialIntoHeader), 'cd.hash-offset-out-of-range')
    const hugeSlots = buildCd({...base, codeLimit: 0xffffffff, nCodeSlots: 0})
    hugeSlots.writeUInt32BE(Math.ceil(0xffffffff / 4096), 28)
    throwsFormat(() => parseCodeDirectory(hugeSlots), 'cd.hash-offset-out-of-range')

    const identIntoHeader = buildCd(base)
    identIntoHeader.writeUInt32BE(8, 20)
    throwsFormat(() => parseCodeDirectory(identIntoHeader), 'cd.string-out-of-range')
    const identPastEnd = buildCd(base)
    identPastEnd.writeUInt32BE(identPastEnd.length, 20)
    throwsFormat(() => parseCodeDirectory(identPastEnd), 'cd.string-out-of-range')
    const teamUnterminated = buildCd({version: 0x20400, nSpecialSlots: 0, nCodeSlots: 0, codeLimit: 0, team: 'T'})
    teamUnterminated.writeUInt32BE(teamUnterminated.length - 1, 48)
    teamUnterminated[teamUnterminated.length - 1] = 0x41
    throwsFormat(() => parseCodeDirectory(teamUnterminated), 'cd.string-unterminated')
  })
})
