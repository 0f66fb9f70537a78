import {strict as assert} from 'node:assert'
import fc from 'fast-check'
import {FormatError} from '../../src/formats/format-error.js'
import {MAX_REQUIREMENT_DEPTH, decompileRequirement, oidText, parseRequirementSet} from '../../src/formats/requirements.js'
import {BlobMagic, SlotType, entryForSlot} from '../../src/formats/superblob.js'
import {blob, throwsFormat} from '../support/format-assertions.js'
import {ARTIFACTS, realArtifact} from '../support/real-artifacts.js'
import {realSignatures} from '../support/real-slices.js'

/** The requirement set blob of every slice of a real binary. */
async function realRequirementSets(path: string): Promise<Buffer[]> {
  return (await realSignatures(path)).map(sig => entryForSlot(sig, SlotType.requirements)!.blob)
}

// A tiny assembler for the requirement byte code, written from the format description.
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n >>> 0)
  return b
}
const i64 = (n: bigint): Buffer => {
  const b = Buffer.alloc(8)
  b.writeBigInt64BE(n)
  return b
}
const data = (v: Buffer | string): Buffer => {
  const bytes = typeof v === 'string' ? Buffer.from(v) : v
  return Buffer.concat([u32(bytes.length), bytes, Buffer.alloc((4 - (bytes.length % 4)) % 4)])
}
const oid = (hex: string): Buffer => data(Buffer.from(hex, 'hex'))
const op = {
  never: u32(0), always: u32(1), ident: (s: string) => Buffer.concat([u32(2), data(s)]), anchorApple: u32(3),
  anchorHash: (slot: number, h: Buffer) => Buffer.concat([u32(4), u32(slot), data(h)]),
  infoKeyValue: (k: string, v: string) => Buffer.concat([u32(5), data(k), data(v)]),
  and: (a: Buffer, b: Buffer) => Buffer.concat([u32(6), a, b]), or: (a: Buffer, b: Buffer) => Buffer.concat([u32(7), a, b]),
  cdhash: (h: Buffer) => Buffer.concat([u32(8), data(h)]), not: (a: Buffer) => Buffer.concat([u32(9), a]),
  infoKeyField: (k: string, m: Buffer) => Buffer.concat([u32(10), data(k), m]),
  certField: (slot: number, f: string, m: Buffer) => Buffer.concat([u32(11), u32(slot), data(f), m]),
  trustedCert: (slot: number) => Buffer.concat([u32(12), u32(slot)]), trustedCerts: u32(13),
  certGeneric: (slot: number, o: Buffer, m: Buffer) => Buffer.concat([u32(14), u32(slot), o, m]), anchorAppleGeneric: u32(15),
  entitlement: (k: string, m: Buffer) => Buffer.concat([u32(16), data(k), m]),
  certPolicy: (slot: number, o: Buffer, m: Buffer) => Buffer.concat([u32(17), u32(slot), o, m]),
  namedAnchor: (n: string) => Buffer.concat([u32(18), data(n)]), namedCode: (n: string) => Buffer.concat([u32(19), data(n)]),
  platform: (p: number) => Buffer.concat([u32(20), u32(p)]), notarized: u32(21),
  certDate: (slot: number, o: Buffer, m: Buffer) => Buffer.concat([u32(22), u32(slot), o, m]), legacy: u32(23),
}
const match = {
  exists: u32(0), equal: (v: Buffer | string) => Buffer.concat([u32(1), data(v)]), contains: (v: string) => Buffer.concat([u32(2), data(v)]),
  beginsWith: (v: string) => Buffer.concat([u32(3), data(v)]), endsWith: (v: string) => Buffer.concat([u32(4), data(v)]),
  lessThan: (v: string) => Buffer.concat([u32(5), data(v)]), greaterThan: (v: string) => Buffer.concat([u32(6), data(v)]),
  lessEqual: (v: string) => Buffer.concat([u32(7), data(v)]), greaterEqual: (v: string) => Buffer.concat([u32(8), data(v)]),
  on: (t: bigint) => Buffer.concat([u32(9), i64(t)]), before: (t: bigint) => Buffer.concat([u32(10), i64(t)]),
  after: (t: bigint) => Buffer.concat([u32(11), i64(t)]), onOrBefore: (t: bigint) => Buffer.concat([u32(12), i64(t)]),
  onOrAfter: (t: bigint) => Buffer.concat([u32(13), i64(t)]), absent: u32(14),
}

const requirement = (expr: Buffer, kind = 1): Buffer => blob(BlobMagic.requirement, Buffer.concat([u32(kind), expr]))
const text = (expr: Buffer): string => decompileRequirement(requirement(expr))

function requirementSet(entries: Array<[type: number, req: Buffer]>): Buffer {
  const indexEnd = 12 + entries.length * 8
  const index: Buffer[] = []
  let at = indexEnd
  for (const [type, req] of entries) {
    index.push(u32(type), u32(at))
    at += req.length
  }
  return blob(BlobMagic.requirementSet, Buffer.concat([u32(entries.length), ...index, ...entries.map(e => e[1])]))
}

const APPLE_DEV_ID_LEAF = '2a864886f763640601 0d'.replace(' ', '')

describe('code requirements (real binaries)', () => {
  let sets: Buffer[]
  before(async () => {
    sets = await realRequirementSets(await realArtifact(ARTIFACTS.sentryCli))
  })

  it('decompiles the designated requirement of each sentry-cli slice as codesign prints it', () => {
    const expected = (id: string): string =>
      `identifier "${id}" and anchor apple generic and certificate 1[field.1.2.840.113635.100.6.2.6] /* exists */ and certificate leaf[field.1.2.840.113635.100.6.1.13] /* exists */ and certificate leaf[subject.OU] = "97JCY7859U"`
    assert.deepEqual(parseRequirementSet(sets[0]!), [{type: 3, typeName: 'designated', text: expected('sentry-cli-Darwin-universal')}])
    assert.deepEqual(parseRequirementSet(sets[1]!), [{type: 3, typeName: 'designated', text: expected('sentry_cli-3047538001e811ea')}])
  })

  it('survives byte flips, truncations and absurd fields: a result or a FormatError, never anything else', () => {
    const real = sets[0]!
    fc.assert(
      fc.property(
        fc.array(fc.record({at: fc.nat({max: real.length - 1}), value: fc.integer({min: 0, max: 255})}), {minLength: 1, maxLength: 6}),
        fc.option(fc.nat({max: real.length}), {nil: undefined}),
        fc.nat({max: real.length / 4 - 1}),
        fc.constantFrom(0, 1, 6, 7, 9, 0x7fffffff, 0xffffffff, 0x40000006),
        (flips, cut, word, absurd) => {
          const b = Buffer.from(real)
          for (const f of flips) b[f.at] = f.value
          b.writeUInt32BE(absurd, word * 4)
          try {
            for (const entry of parseRequirementSet(cut === undefined ? b : b.subarray(0, cut))) assert.equal(typeof entry.text, 'string')
          } catch (e) {
            if (!(e instanceof FormatError)) throw e
          }
        },
      ),
      {numRuns: 300},
    )
  })
})

describe('code requirements (synthetic)', () => {
  it('writes the anchors and constants', () => {
    assert.equal(text(op.anchorApple), 'anchor apple')
    assert.equal(text(op.anchorAppleGeneric), 'anchor apple generic')
    assert.equal(text(op.trustedCerts), 'anchor trusted')
    assert.equal(text(op.namedAnchor('apple_development')), 'anchor apple "apple_development"')
    assert.equal(text(op.namedAnchor('appleserver')), 'anchor apple appleserver')
    assert.equal(text(op.always), 'always')
    assert.equal(text(op.never), 'never')
    assert.equal(text(op.notarized), 'notarized')
    assert.equal(text(op.legacy), 'legacy')
    assert.equal(text(op.platform(2)), 'platform = 2')
    assert.equal(text(op.namedCode('Safari')), '(Safari)')
  })

  it('writes identifiers bare when they are plain words and quoted otherwise', () => {
    assert.equal(text(op.ident('esbuild')), 'identifier esbuild')
    assert.equal(text(op.ident('com.example.d')), 'identifier "com.example.d"')
    assert.equal(text(op.ident('9lives')), 'identifier "9lives"')
    assert.equal(text(op.ident('say "hi"\\')), 'identifier "say \\"hi\\"\\\\"')
    assert.equal(text(op.ident('')), 'identifier ""')
    assert.equal(text(op.ident('dæmon')), 'identifier "dæmon"')
  })

  it('writes hashes, certificate slots and OIDs', () => {
    const h = Buffer.from('00112233445566778899aabbccddeeff00112233', 'hex')
    assert.equal(text(op.cdhash(h)), 'cdhash H"00112233445566778899aabbccddeeff00112233"')
    assert.equal(text(op.anchorHash(-1, h)), 'certificate root = H"00112233445566778899aabbccddeeff00112233"')
    assert.equal(text(op.anchorHash(0, h)), 'certificate leaf = H"00112233445566778899aabbccddeeff00112233"')
    assert.equal(text(op.trustedCert(2)), 'certificate 2 trusted')
    assert.equal(text(op.trustedCert(-3)), 'certificate -3 trusted')
    assert.equal(text(op.certGeneric(0, oid(APPLE_DEV_ID_LEAF), match.exists)), 'certificate leaf[field.1.2.840.113635.100.6.1.13] /* exists */')
    assert.equal(text(op.certPolicy(-1, oid('2a864886f76364050101'), match.exists)), 'certificate root[policy.1.2.840.113635.100.5.1.1] /* exists */')
    assert.equal(oidText(Buffer.from('0603', 'hex')), '0.6.3')
    assert.equal(oidText(Buffer.from('8837', 'hex')), '2.999')
    throwsFormat(() => text(op.certGeneric(0, oid('2a86'), match.exists)), 'req.bad-oid')
    throwsFormat(() => text(op.certGeneric(0, data(''), match.exists)), 'req.bad-oid')
  })

  it('writes every match operation', () => {
    const field = (m: Buffer): string => text(op.certField(0, 'subject.CN', m))
    assert.equal(field(match.exists), 'certificate leaf[subject.CN] /* exists */')
    assert.equal(field(match.absent), 'certificate leaf[subject.CN] absent')
    assert.equal(field(match.equal('Developer ID Application: X')), 'certificate leaf[subject.CN] = "Developer ID Application: X"')
    assert.equal(field(match.equal(Buffer.from([0, 1, 0xfe]))), 'certificate leaf[subject.CN] = 0x0001fe')
    assert.equal(field(match.contains('Apple')), 'certificate leaf[subject.CN] ~ Apple')
    assert.equal(field(match.beginsWith('Apple')), 'certificate leaf[subject.CN] = "Apple*"')
    assert.equal(field(match.endsWith('Inc.')), 'certificate leaf[subject.CN] = "*Inc."')
    assert.equal(text(op.infoKeyField('CFBundleVersion', match.lessThan('2'))), 'info[CFBundleVersion] < "2"')
    assert.equal(text(op.infoKeyField('CFBundleVersion', match.greaterThan('1.0'))), 'info[CFBundleVersion] > "1.0"')
    assert.equal(text(op.infoKeyField('CFBundleVersion', match.lessEqual('3'))), 'info[CFBundleVersion] <= "3"')
    assert.equal(text(op.infoKeyField('CFBundleVersion', match.greaterEqual('10.2'))), 'info[CFBundleVersion] >= "10.2"')
    assert.equal(text(op.infoKeyValue('CFBundleName', 'Thing')), 'info[CFBundleName] = Thing')
    assert.equal(text(op.entitlement('com.apple.security.app-sandbox', match.exists)), 'entitlement["com.apple.security.app-sandbox"] /* exists */')
    assert.equal(text(op.entitlement('com.apple.developer.team', match.equal('ABCDE12345'))), 'entitlement[com.apple.developer.team] = ABCDE12345')
    const date = (m: Buffer): string => text(op.certDate(0, oid('2a864886f763640621'), m))
    assert.equal(date(match.on(1577836800n)), 'certificate leaf[timestamp.1.2.840.113635.100.6.33] = timestamp "2020-01-01T00:00:00Z"')
    assert.equal(date(match.before(0n)), 'certificate leaf[timestamp.1.2.840.113635.100.6.33] < timestamp "1970-01-01T00:00:00Z"')
    assert.equal(date(match.after(1n)), 'certificate leaf[timestamp.1.2.840.113635.100.6.33] > timestamp "1970-01-01T00:00:01Z"')
    assert.equal(date(match.onOrBefore(60n)), 'certificate leaf[timestamp.1.2.840.113635.100.6.33] <= timestamp "1970-01-01T00:01:00Z"')
    assert.equal(date(match.onOrAfter(2n ** 62n)), `certificate leaf[timestamp.1.2.840.113635.100.6.33] >= timestamp ${2n ** 62n}`)
  })

  it('parenthesises by precedence: and binds tighter than or, not binds tightest', () => {
    const [a, b, c] = [op.ident('a'), op.ident('b'), op.ident('c')]
    assert.equal(text(op.and(a, op.or(b, c))), 'identifier a and (identifier b or identifier c)')
    assert.equal(text(op.or(op.and(a, b), c)), 'identifier a and identifier b or identifier c')
    assert.equal(text(op.and(op.and(a, b), c)), 'identifier a and identifier b and identifier c')
    assert.equal(text(op.not(op.or(a, b))), '! (identifier a or identifier b)')
    assert.equal(text(op.not(a)), '! identifier a')
    assert.equal(text(op.or(op.not(a), op.and(b, c))), '! identifier a or identifier b and identifier c')
  })

  it('refuses malformed byte code with a specific code', () => {
    throwsFormat(() => text(u32(99)), 'req.unknown-op')
    throwsFormat(() => text(Buffer.concat([u32(0x80000063), u32(0)])), 'req.unknown-op')
    throwsFormat(() => text(op.certField(0, 'subject.CN', u32(15))), 'req.unknown-match')
    throwsFormat(() => decompileRequirement(requirement(op.always, 2)), 'req.unsupported-kind')
    throwsFormat(() => text(Buffer.concat([op.always, op.always])), 'req.trailing-bytes')
    throwsFormat(() => text(Buffer.concat([u32(2), u32(1000), Buffer.from('abcd')])), 'bytes.out-of-bounds')
    throwsFormat(() => text(Buffer.concat([u32(2), u32(0xffffffff)])), 'bytes.out-of-bounds')
    throwsFormat(() => text(op.and(op.always, Buffer.alloc(0))), 'bytes.out-of-bounds')
    throwsFormat(() => decompileRequirement(blob(BlobMagic.requirementSet, u32(1))), 'req.bad-magic')
    const long = requirement(op.always)
    long.writeUInt32BE(long.length + 4, 4)
    throwsFormat(() => decompileRequirement(long), 'req.bad-length')
  })

  it('bounds nesting depth and the number of operations', () => {
    let deep = op.always
    for (let i = 0; i < MAX_REQUIREMENT_DEPTH; i++) deep = op.not(deep)
    assert.ok(text(deep).startsWith('! ! '))
    throwsFormat(() => text(op.not(deep)), 'req.too-deep')
    // A balanced tree 15 levels deep stays within the depth bound but has 65535 operations.
    let wide = op.always
    for (let i = 0; i < 15; i++) wide = op.and(wide, wide)
    throwsFormat(() => text(wide), 'req.too-many-ops')
  })

  it('reads requirement sets with several types, and the empty set ad-hoc signers write', () => {
    const set = requirementSet([[1, requirement(op.anchorApple)], [3, requirement(op.ident('esbuild'))], [4, requirement(op.notarized)], [9, requirement(op.never)]])
    assert.deepEqual(parseRequirementSet(set), [
      {type: 1, typeName: 'host', text: 'anchor apple'},
      {type: 3, typeName: 'designated', text: 'identifier esbuild'},
      {type: 4, typeName: 'library', text: 'notarized'},
      {type: 9, typeName: 'type9', text: 'never'},
    ])
    assert.deepEqual(parseRequirementSet(requirementSet([])), [])
  })

  it('refuses requirement sets whose index lies', () => {
    const set = requirementSet([[3, requirement(op.anchorApple)]])
    const dup = requirementSet([[3, requirement(op.anchorApple)], [3, requirement(op.anchorApple)]])
    throwsFormat(() => parseRequirementSet(dup), 'req.duplicate-type')
    const bigCount = Buffer.from(set)
    bigCount.writeUInt32BE(0xffffffff, 8)
    throwsFormat(() => parseRequirementSet(bigCount), 'req.bad-count')
    const intoIndex = Buffer.from(set)
    intoIndex.writeUInt32BE(12, 16)
    throwsFormat(() => parseRequirementSet(intoIndex), 'req.out-of-range')
    const pastEnd = Buffer.from(set)
    pastEnd.writeUInt32BE(set.length, 16)
    throwsFormat(() => parseRequirementSet(pastEnd), 'req.out-of-range')
    throwsFormat(() => parseRequirementSet(blob(BlobMagic.requirementSet, Buffer.alloc(0))), 'req.truncated')
    throwsFormat(() => parseRequirementSet(requirement(op.always)), 'req.bad-magic')
  })
})
