import {strict as assert} from 'node:assert'
import fc from 'fast-check'
import {FormatError} from '../../src/formats/format-error.js'
import {
  FILE_HEAD_BYTES, LC_CODE_SIGNATURE, LC_SEGMENT, LC_SEGMENT_64, archName, machHeaderExtent, parseFileLayout, parseMachO,
} from '../../src/formats/macho.js'
import {throwsFormat} from '../support/format-assertions.js'
import {ARTIFACTS, realArtifact} from '../support/real-artifacts.js'
import {fileSize, readRange} from '../support/real-slices.js'

/** A thin Mach-O header with the given load commands (each already a full command, cmd and cmdsize included). */
function thinImage(opts: {is64?: boolean; cpuType?: number; cpuSubtype?: number; ncmds?: number; commands?: Buffer[]; sizeofcmds?: number}): Buffer {
  const is64 = opts.is64 ?? true
  const cmds = Buffer.concat(opts.commands ?? [])
  const hdr = Buffer.alloc(is64 ? 32 : 28)
  hdr.writeUInt32LE(is64 ? 0xfeedfacf : 0xfeedface, 0)
  hdr.writeUInt32LE(opts.cpuType ?? (is64 ? 0x0100000c : 7), 4)
  hdr.writeUInt32LE(opts.cpuSubtype ?? (is64 ? 0 : 3), 8)
  hdr.writeUInt32LE(2, 12)
  hdr.writeUInt32LE(opts.ncmds ?? (opts.commands ?? []).length, 16)
  hdr.writeUInt32LE(opts.sizeofcmds ?? cmds.length, 20)
  hdr.writeUInt32LE(0x85, 24)
  return Buffer.concat([hdr, cmds])
}

function command(cmd: number, size: number, fill: (b: Buffer) => void = () => {}): Buffer {
  const b = Buffer.alloc(size)
  b.writeUInt32LE(cmd, 0)
  b.writeUInt32LE(size, 4)
  fill(b)
  return b
}

function codeSignatureCommand(dataoff: number, datasize: number, cmdsize = 16): Buffer {
  return command(LC_CODE_SIGNATURE, cmdsize, b => {
    b.writeUInt32LE(dataoff, 8)
    b.writeUInt32LE(datasize, 12)
  })
}

function segment64(name: string, fileoff: number, filesize: number, vmaddr = 0x100000000n): Buffer {
  return command(LC_SEGMENT_64, 72, b => {
    b.write(name, 8, 'latin1')
    b.writeBigUInt64LE(vmaddr, 24)
    b.writeBigUInt64LE(BigInt(filesize), 32)
    b.writeBigUInt64LE(BigInt(fileoff), 40)
    b.writeBigUInt64LE(BigInt(filesize), 48)
  })
}

function segment32(name: string, fileoff: number, filesize: number): Buffer {
  return command(LC_SEGMENT, 56, b => {
    b.write(name, 8, 'latin1')
    b.writeUInt32LE(0x1000, 24)
    b.writeUInt32LE(filesize, 28)
    b.writeUInt32LE(fileoff, 32)
    b.writeUInt32LE(filesize, 36)
  })
}

interface FatArch {cpuType: number; cpuSubtype: number; offset: number | bigint; size: number | bigint; align?: number}

function fatHeader(archs: FatArch[], is64: boolean, nfat = archs.length): Buffer {
  const entry = is64 ? 32 : 20
  const b = Buffer.alloc(8 + archs.length * entry)
  b.writeUInt32BE(is64 ? 0xcafebabf : 0xcafebabe, 0)
  b.writeUInt32BE(nfat, 4)
  archs.forEach((a, i) => {
    const at = 8 + i * entry
    b.writeUInt32BE(a.cpuType, at)
    b.writeUInt32BE(a.cpuSubtype, at + 4)
    if (is64) {
      b.writeBigUInt64BE(BigInt(a.offset), at + 8)
      b.writeBigUInt64BE(BigInt(a.size), at + 16)
      b.writeUInt32BE(a.align ?? 14, at + 24)
    } else {
      b.writeUInt32BE(Number(a.offset), at + 8)
      b.writeUInt32BE(Number(a.size), at + 12)
      b.writeUInt32BE(a.align ?? 14, at + 16)
    }
  })
  return b
}

const X86_64 = 0x01000007
const ARM64 = 0x0100000c

describe('Mach-O layout and headers (real binaries)', () => {
  let sentry: string
  let esbuild: string
  before(async () => {
    sentry = await realArtifact(ARTIFACTS.sentryCli)
    esbuild = await realArtifact(ARTIFACTS.esbuild)
  })

  it('finds both slices of the universal sentry-cli, where lipo puts them', async () => {
    const size = await fileSize(sentry)
    const layout = parseFileLayout(await readRange(sentry, 0, FILE_HEAD_BYTES), size)
    assert.equal(layout.kind, 'universal')
    assert.deepEqual(
      layout.slices.map(s => [s.arch, s.offset, s.size, s.align]),
      [['x86_64', 0x4000, 0x1206790, 14], ['arm64', 0x120c000, 0x1034e50, 14]],
    )
  })

  it('reads every sentry-cli slice header and its LC_CODE_SIGNATURE', async () => {
    const size = await fileSize(sentry)
    const layout = parseFileLayout(await readRange(sentry, 0, FILE_HEAD_BYTES), size)
    const found = []
    for (const slice of layout.slices) {
      const extent = machHeaderExtent(await readRange(sentry, slice.offset, 32), slice.size)
      const image = parseMachO(await readRange(sentry, slice.offset, extent), slice.size)
      assert.equal(image.arch, slice.arch)
      assert.equal(image.is64, true)
      assert.equal(image.fileType, 2, 'MH_EXECUTE')
      assert.equal(image.loadCommandsEnd, extent)
      const linkedit = image.segments.find(s => s.name === '__LINKEDIT')!
      // The signature is the last thing in __LINKEDIT, which ends at the end of the slice.
      assert.equal(linkedit.fileOffset + linkedit.fileSize, slice.size)
      found.push([image.loadCommands.length, extent, image.codeSignature])
    }
    assert.deepEqual(found, [
      [22, 32 + 2616, {dataOffset: 18738064, dataSize: 162816}],
      [41, 32 + 5176, {dataOffset: 16845392, dataSize: 148480}],
    ])
  })

  it('treats the linker-signed esbuild as one thin arm64 slice whose signature ends the file', async () => {
    const size = await fileSize(esbuild)
    const layout = parseFileLayout(await readRange(esbuild, 0, FILE_HEAD_BYTES), size)
    assert.equal(layout.kind, 'thin')
    assert.deepEqual(layout.slices.map(s => [s.arch, s.offset, s.size]), [['arm64', 0, 9800610]])
    const extent = machHeaderExtent(await readRange(esbuild, 0, 32), size)
    const image = parseMachO(await readRange(esbuild, 0, extent), size)
    assert.deepEqual(image.codeSignature, {dataOffset: 9724496, dataSize: 76114})
    assert.equal(image.codeSignature!.dataOffset + image.codeSignature!.dataSize, size)
    assert.deepEqual(image.segments.map(s => s.name), ['__PAGEZERO', '__TEXT', '__DATA_CONST', '__DATA', '__LINKEDIT'])
    assert.equal(image.loadCommands.length, 16)
  })

  it('survives byte flips, truncation and absurd fields in real headers: a result or a FormatError, never anything else', async () => {
    const size = await fileSize(sentry)
    const head = await readRange(sentry, 0, FILE_HEAD_BYTES)
    const esSize = await fileSize(esbuild)
    const esHeader = await readRange(esbuild, 0, 2072)
    const mutation = fc.record({
      flips: fc.array(fc.record({at: fc.nat(), value: fc.integer({min: 0, max: 255})}), {maxLength: 8}),
      words: fc.array(fc.record({at: fc.nat(), value: fc.constantFrom(0, 1, 0x7fffffff, 0xffffffff, 0x80000000, 16, 8)}), {maxLength: 3}),
      cut: fc.nat(),
    })
    const mutate = (src: Buffer, m: {flips: {at: number; value: number}[]; words: {at: number; value: number}[]; cut: number}): Buffer => {
      const b = Buffer.from(src)
      for (const f of m.flips) b[f.at % b.length] = f.value
      for (const w of m.words) b.writeUInt32LE(w.value, (w.at % (b.length / 4)) * 4)
      return m.cut % 5 === 0 ? b.subarray(0, m.cut % b.length) : b
    }
    fc.assert(
      fc.property(mutation, m => {
        for (const [buf, total] of [[mutate(head, m), size], [mutate(esHeader, m), esSize]] as const) {
          try {
            const layout = parseFileLayout(buf, total)
            for (const s of layout.slices) {
              assert.ok(s.offset >= 0 && s.offset + s.size <= total)
            }
          } catch (e) {
            if (!(e instanceof FormatError)) throw e
          }
          try {
            const extent = machHeaderExtent(buf, total)
            const image = parseMachO(buf.subarray(0, extent), total)
            for (const c of image.loadCommands) assert.ok(c.offset + c.size <= image.loadCommandsEnd)
          } catch (e) {
            if (!(e instanceof FormatError)) throw e
          }
        }
      }),
      {numRuns: 300},
    )
  })
})

describe('Mach-O layout (synthetic)', () => {
  it('reads a 64-bit universal header (0xcafebabf) with 64-bit offsets', () => {
    const header = fatHeader([
      {cpuType: X86_64, cpuSubtype: 3, offset: 0x1000, size: 0x2000, align: 12},
      {cpuType: ARM64, cpuSubtype: (2 | 0x80000000) >>> 0, offset: 0x4000, size: 0x100, align: 14},
    ], true)
    const layout = parseFileLayout(header, 0x4100)
    assert.equal(layout.kind, 'universal')
    assert.deepEqual(layout.slices.map(s => [s.arch, s.offset, s.size, s.align]), [['x86_64', 0x1000, 0x2000, 12], ['arm64e', 0x4000, 0x100, 14]])
  })

  it('reads a 32-bit universal header (0xcafebabe)', () => {
    const header = fatHeader([{cpuType: 7, cpuSubtype: 3, offset: 4096, size: 100}, {cpuType: 18, cpuSubtype: 10, offset: 8192, size: 50}], false)
    assert.deepEqual(parseFileLayout(header, 8242).slices.map(s => s.arch), ['i386', 'ppc7400'])
  })

  it('rejects universal headers that lie about their slices', () => {
    const ok = {cpuType: ARM64, cpuSubtype: 0, offset: 4096, size: 4096}
    throwsFormat(() => parseFileLayout(fatHeader([], false), 4096), 'macho.fat-empty')
    throwsFormat(() => parseFileLayout(fatHeader([ok], false, 65), 1 << 20), 'macho.fat-too-many')
    throwsFormat(() => parseFileLayout(fatHeader([ok], false, 64), 1 << 20), 'macho.truncated')
    throwsFormat(() => parseFileLayout(fatHeader([{...ok, size: 4097}], false), 8192), 'macho.slice-out-of-range')
    throwsFormat(() => parseFileLayout(fatHeader([{...ok, offset: 8}], false), 8192), 'macho.slice-overlaps-header')
    throwsFormat(() => parseFileLayout(fatHeader([{...ok, size: 0}], false), 8192), 'macho.slice-empty')
    throwsFormat(
      () => parseFileLayout(fatHeader([ok, {cpuType: X86_64, cpuSubtype: 3, offset: 6000, size: 4096}], false), 16384),
      'macho.slice-overlap',
    )
    throwsFormat(() => parseFileLayout(fatHeader([ok, {...ok, offset: 8192}], false), 16384), 'macho.fat-duplicate-arch')
    throwsFormat(() => parseFileLayout(fatHeader([{...ok, offset: 2n ** 60n}], true), 16384), 'macho.slice-out-of-range')
  })

  it('rejects what is not little-endian Mach-O', () => {
    throwsFormat(() => parseFileLayout(Buffer.from('#!/bin/sh\necho hi\n'), 18), 'macho.not-macho')
    throwsFormat(() => parseFileLayout(Buffer.from([0xfe, 0xed]), 2), 'macho.not-macho')
    throwsFormat(() => parseFileLayout(Buffer.from('feedfacf0000001200000000', 'hex'), 12), 'macho.big-endian')
    throwsFormat(() => parseFileLayout(Buffer.from('cffaedfe0c000001', 'hex'), 8), 'macho.truncated')
  })

  it('parses a 32-bit thin image with a segment and a code signature', () => {
    const image = thinImage({is64: false, commands: [segment32('__TEXT', 0, 4096), codeSignatureCommand(4096, 512)]})
    assert.equal(parseFileLayout(image, 8192).slices[0]!.arch, 'i386')
    assert.equal(machHeaderExtent(image, 8192), 28 + 56 + 16)
    const parsed = parseMachO(image, 8192)
    assert.equal(parsed.is64, false)
    assert.deepEqual(parsed.segments, [{name: '__TEXT', fileOffset: 0, fileSize: 4096, vmAddr: 0x1000n, vmSize: 4096n}])
    assert.deepEqual(parsed.codeSignature, {dataOffset: 4096, dataSize: 512})
    assert.deepEqual(parsed.loadCommands.map(c => [c.cmd, c.offset, c.size]), [[LC_SEGMENT, 28, 56], [LC_CODE_SIGNATURE, 84, 16]])
  })

  it('parses a 64-bit image without a signature', () => {
    const image = parseMachO(thinImage({commands: [segment64('__TEXT', 0, 16384)]}), 16384)
    assert.equal(image.codeSignature, undefined)
    assert.equal(image.segments[0]!.vmAddr, 0x100000000n)
  })

  it('bounds and validates load commands', () => {
    const sig = codeSignatureCommand(4096, 100)
    throwsFormat(() => machHeaderExtent(thinImage({commands: [sig], sizeofcmds: 17 * 1024 * 1024}), 1 << 30), 'macho.load-commands-too-large')
    throwsFormat(() => machHeaderExtent(thinImage({commands: [sig]}), 40), 'macho.truncated')
    throwsFormat(() => parseMachO(thinImage({commands: [sig], ncmds: 3}), 8192), 'macho.bad-ncmds')
    throwsFormat(() => parseMachO(thinImage({commands: [sig], ncmds: 0xffffffff}), 8192), 'macho.bad-ncmds')
    throwsFormat(() => parseMachO(thinImage({commands: [command(0x2, 12)]}), 8192), 'macho.bad-load-command')
    const tooShort = Buffer.from('0200000004000000', 'hex')
    throwsFormat(() => parseMachO(thinImage({commands: [command(0x2, 8), tooShort], sizeofcmds: 16}), 8192), 'macho.bad-load-command')
    throwsFormat(() => parseMachO(thinImage({commands: [codeSignatureCommand(4096, 100, 24)]}), 8192), 'macho.bad-code-signature-command')
    throwsFormat(() => parseMachO(thinImage({commands: [sig, sig]}), 8192), 'macho.duplicate-code-signature')
    throwsFormat(() => parseMachO(thinImage({commands: [codeSignatureCommand(8000, 200)]}), 8192), 'macho.code-signature-out-of-range')
    throwsFormat(() => parseMachO(thinImage({commands: [codeSignatureCommand(16, 200)]}), 8192), 'macho.code-signature-overlaps-header')
    throwsFormat(() => parseMachO(thinImage({commands: [segment64('__TEXT', 4096, 8192)]}), 8192), 'macho.segment-out-of-range')
    throwsFormat(() => parseMachO(thinImage({commands: [sig]}).subarray(0, 40), 8192), 'macho.truncated')
  })

  it('names architectures the way Apple tools do', () => {
    assert.equal(archName(X86_64, 3), 'x86_64')
    assert.equal(archName(X86_64, 8), 'x86_64h')
    assert.equal(archName(ARM64, 0), 'arm64')
    assert.equal(archName(ARM64, 0x80000002), 'arm64e')
    assert.equal(archName(0x0200000c, 1), 'arm64_32')
    assert.equal(archName(12, 9), 'armv7')
    assert.equal(archName(12, 11), 'armv7s')
    assert.equal(archName(7, 3), 'i386')
    assert.equal(archName(18, 0), 'ppc')
    assert.equal(archName(0x01000012, 0), 'ppc64')
    assert.equal(archName(99, 4), 'cpu99/4')
  })
})
