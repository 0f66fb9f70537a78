import {buildEmbeddedSignature, CodePageHasher, planSignature, type SignOptions} from '../../support/signature-writer.js'

/**
 * Re-signs Mach-O files the way codesign does, from the format facts alone (no code from src/):
 * per slice, the old signature (everything from LC_CODE_SIGNATURE's dataoff) is dropped, the new
 * SuperBlob is sized first, LC_CODE_SIGNATURE and __LINKEDIT are grown or shrunk to hold it, the
 * pages of those updated bytes are hashed and the signature is appended. A universal file is
 * re-laid out with every slice at its alignment and the fat header updated.
 */

const MH_MAGIC = 0xfeedface
const MH_MAGIC_64 = 0xfeedfacf
const FAT_MAGIC = 0xcafebabe
const FAT_MAGIC_64 = 0xcafebabf
const LC_SEGMENT = 0x1
const LC_SEGMENT_64 = 0x19
const LC_CODE_SIGNATURE = 0x1d
const LC_VERSION_MIN_MACOSX = 0x24
const LC_BUILD_VERSION = 0x32
const MH_EXECUTE = 2
const CPU_TYPE_ARM64 = 0x0100000c
const CS_EXECSEG_MAIN_BINARY = 1n
/** codesign hashes 4 KiB pages on macOS whatever the VM page size. */
export const CODESIGN_PAGE_SIZE = 4096

const roundUp = (n: number, to: number): number => Math.ceil(n / to) * to

export class MachOError extends Error {}

/** What one thin slice says about itself that signing needs. */
export interface SliceFacts {
  cputype: number
  cpusubtype: number
  is64: boolean
  filetype: number
  /** File offset where the signature starts (the code limit) once the old one is dropped. */
  codeLimit: number
  execSeg: {base: bigint; limit: bigint; flags: bigint}
  /** SDK from LC_BUILD_VERSION / LC_VERSION_MIN_MACOSX (e.g. 0x000e0000), 0 when absent. */
  sdk: number
  hadSignature: boolean
}

interface Segment {
  cmdOffset: number
  name: string
  fileoff: number
  filesize: number
}

interface ParsedSlice {
  facts: SliceFacts
  headerEnd: number
  /** The bytes up to the code limit, load commands already rewritten for a signature of `size`. */
  body: (signatureSize: number) => Buffer
}

function segmentName(buf: Buffer, at: number): string {
  const raw = buf.subarray(at, at + 16)
  const nul = raw.indexOf(0)
  return raw.subarray(0, nul < 0 ? 16 : nul).toString('latin1')
}

function parseSlice(slice: Buffer): ParsedSlice {
  if (slice.length < 28) throw new MachOError('truncated Mach-O header')
  const magic = slice.readUInt32LE(0)
  if (magic !== MH_MAGIC && magic !== MH_MAGIC_64) throw new MachOError(`not a little-endian Mach-O (magic 0x${magic.toString(16)})`)
  const is64 = magic === MH_MAGIC_64
  const headerSize = is64 ? 32 : 28
  const cputype = slice.readUInt32LE(4)
  const cpusubtype = slice.readUInt32LE(8)
  const filetype = slice.readUInt32LE(12)
  const ncmds = slice.readUInt32LE(16)
  const sizeofcmds = slice.readUInt32LE(20)
  const headerEnd = headerSize + sizeofcmds
  if (headerEnd > slice.length) throw new MachOError('load commands run past the end of the slice')
  let codeSig: {cmdOffset: number; dataoff: number; datasize: number} | undefined
  const segments: Segment[] = []
  let firstSectionData = Number.POSITIVE_INFINITY
  let sdk = 0
  let at = headerSize
  for (let i = 0; i < ncmds; i++) {
    if (at + 8 > headerEnd) throw new MachOError(`load command ${i} starts past the load commands`)
    const cmd = slice.readUInt32LE(at)
    const cmdsize = slice.readUInt32LE(at + 4)
    if (cmdsize < 8 || at + cmdsize > headerEnd) throw new MachOError(`load command ${i} has a bad size ${cmdsize}`)
    if (cmd === LC_SEGMENT_64 || cmd === LC_SEGMENT) {
      const wide = cmd === LC_SEGMENT_64
      const fileoff = wide ? Number(slice.readBigUInt64LE(at + 40)) : slice.readUInt32LE(at + 32)
      const filesize = wide ? Number(slice.readBigUInt64LE(at + 48)) : slice.readUInt32LE(at + 36)
      segments.push({cmdOffset: at, name: segmentName(slice, at + 8), fileoff, filesize})
      const nsects = slice.readUInt32LE(at + (wide ? 64 : 48))
      const sectionsAt = at + (wide ? 72 : 56)
      for (let s = 0; s < nsects; s++) {
        const sect = sectionsAt + s * (wide ? 80 : 68)
        const offset = slice.readUInt32LE(sect + (wide ? 48 : 40))
        if (offset > 0) firstSectionData = Math.min(firstSectionData, offset)
      }
    } else if (cmd === LC_CODE_SIGNATURE) {
      if (codeSig) throw new MachOError('two LC_CODE_SIGNATURE commands')
      codeSig = {cmdOffset: at, dataoff: slice.readUInt32LE(at + 8), datasize: slice.readUInt32LE(at + 12)}
    } else if (cmd === LC_BUILD_VERSION) {
      sdk = slice.readUInt32LE(at + 16)
    } else if (cmd === LC_VERSION_MIN_MACOSX && sdk === 0) {
      sdk = slice.readUInt32LE(at + 12)
    }
    at += cmdsize
  }
  const linkedit = segments.find(s => s.name === '__LINKEDIT')
  if (!linkedit) throw new MachOError('no __LINKEDIT segment to hold a signature')
  const text = segments.find(s => s.name === '__TEXT')
  const linkeditEnd = linkedit.fileoff + linkedit.filesize

  let codeLimit: number
  let addCommandAt: number | undefined
  if (codeSig) {
    codeLimit = codeSig.dataoff
    if (codeSig.dataoff + codeSig.datasize !== linkeditEnd) throw new MachOError('the signature is not the last thing in __LINKEDIT')
    if (codeSig.dataoff + codeSig.datasize > slice.length) throw new MachOError('the signature runs past the end of the slice')
  } else {
    // codesign adds the command in the padding after the load commands, and the signature at the end of __LINKEDIT.
    if (headerEnd + 16 > Math.min(firstSectionData, slice.length)) throw new MachOError('no room after the load commands for LC_CODE_SIGNATURE')
    if (linkeditEnd !== slice.length) throw new MachOError('data follows __LINKEDIT; cannot place a signature')
    codeLimit = roundUp(linkeditEnd, 16)
    addCommandAt = headerEnd
  }
  if (codeLimit < headerEnd + (addCommandAt === undefined ? 0 : 16)) throw new MachOError('the signature would overlap the load commands')
  const execSeg = {
    base: BigInt(text?.fileoff ?? 0),
    limit: BigInt(text?.filesize ?? 0),
    flags: filetype === MH_EXECUTE ? CS_EXECSEG_MAIN_BINARY : 0n,
  }
  const vmPage = cputype === CPU_TYPE_ARM64 ? 0x4000 : 0x1000
  const facts: SliceFacts = {cputype, cpusubtype, is64, filetype, codeLimit, execSeg, sdk, hadSignature: codeSig !== undefined}

  const body = (signatureSize: number): Buffer => {
    // A copy: the caller's bytes are never touched.
    const out = Buffer.alloc(codeLimit)
    slice.copy(out, 0, 0, Math.min(codeLimit, slice.length))
    let sigCmd = codeSig?.cmdOffset
    if (addCommandAt !== undefined) {
      out.writeUInt32LE(LC_CODE_SIGNATURE, addCommandAt)
      out.writeUInt32LE(16, addCommandAt + 4)
      out.writeUInt32LE(ncmds + 1, 16)
      out.writeUInt32LE(sizeofcmds + 16, 20)
      sigCmd = addCommandAt
    }
    out.writeUInt32LE(codeLimit, sigCmd! + 8)
    out.writeUInt32LE(signatureSize, sigCmd! + 12)
    const filesize = codeLimit + signatureSize - linkedit.fileoff
    const vmsize = roundUp(filesize, vmPage)
    if (is64) {
      out.writeBigUInt64LE(BigInt(vmsize), linkedit.cmdOffset + 32)
      out.writeBigUInt64LE(BigInt(filesize), linkedit.cmdOffset + 48)
    } else {
      out.writeUInt32LE(vmsize, linkedit.cmdOffset + 28)
      out.writeUInt32LE(filesize, linkedit.cmdOffset + 36)
    }
    return out
  }
  return {facts, headerEnd, body}
}

export interface SignedSliceResult {
  facts: SliceFacts
  /** Slot 0 first, then the alternates. */
  codeDirectories: Buffer[]
}

/** Signs one thin slice; `options` sees the slice's facts (for the exec segment, SDK, …). */
export async function resignSlice(slice: Buffer, options: (facts: SliceFacts) => SignOptions): Promise<{bytes: Buffer} & SignedSliceResult> {
  const parsed = parseSlice(slice)
  const {facts} = parsed
  const sign = options(facts)
  const plan = planSignature(sign, {codeLimit: facts.codeLimit, defaultExecSeg: facts.execSeg})
  const body = parsed.body(plan.size)
  const hasher = new CodePageHasher(plan.hashTypes)
  for (let start = 0; start < body.length; start += plan.pageSize) hasher.addPage(body.subarray(start, Math.min(start + plan.pageSize, body.length)))
  const signature = await buildEmbeddedSignature(plan, hasher)
  return {bytes: Buffer.concat([body, signature.bytes]), facts, codeDirectories: signature.codeDirectories}
}

interface FatEntry {
  cputype: number
  cpusubtype: number
  offset: number
  size: number
  align: number
}

function readFat(file: Buffer): {wide: boolean; entries: FatEntry[]} | undefined {
  if (file.length < 8) return undefined
  const magic = file.readUInt32BE(0)
  if (magic !== FAT_MAGIC && magic !== FAT_MAGIC_64) return undefined
  const wide = magic === FAT_MAGIC_64
  const count = file.readUInt32BE(4)
  const entrySize = wide ? 32 : 20
  if (count === 0 || 8 + count * entrySize > file.length) throw new MachOError('bad universal header')
  const entries: FatEntry[] = []
  for (let i = 0; i < count; i++) {
    const e = 8 + i * entrySize
    const offset = wide ? Number(file.readBigUInt64BE(e + 8)) : file.readUInt32BE(e + 8)
    const size = wide ? Number(file.readBigUInt64BE(e + 16)) : file.readUInt32BE(e + 12)
    const align = file.readUInt32BE(e + (wide ? 24 : 16))
    if (offset + size > file.length) throw new MachOError(`slice ${i} runs past the end of the file`)
    entries.push({cputype: file.readUInt32BE(e), cpusubtype: file.readUInt32BE(e + 4), offset, size, align})
  }
  return {wide, entries}
}

/** Signs every slice of a thin or universal file; returns the new file and each slice's CodeDirectories in slice order. */
export async function resignMachO(file: Buffer, options: (facts: SliceFacts) => SignOptions): Promise<{bytes: Buffer; slices: SignedSliceResult[]}> {
  const fat = readFat(file)
  if (!fat) {
    const r = await resignSlice(file, options)
    return {bytes: r.bytes, slices: [{facts: r.facts, codeDirectories: r.codeDirectories}]}
  }
  const signed: ({bytes: Buffer} & SignedSliceResult)[] = []
  for (const e of fat.entries) signed.push(await resignSlice(file.subarray(e.offset, e.offset + e.size), options))
  const entrySize = fat.wide ? 32 : 20
  const header = Buffer.alloc(8 + entrySize * fat.entries.length)
  header.writeUInt32BE(fat.wide ? FAT_MAGIC_64 : FAT_MAGIC, 0)
  header.writeUInt32BE(fat.entries.length, 4)
  const parts: Buffer[] = [header]
  let end = header.length
  fat.entries.forEach((e, i) => {
    const bytes = signed[i]!.bytes
    const offset = roundUp(end, 2 ** e.align)
    if (!fat.wide && offset + bytes.length > 0xffffffff) throw new MachOError('the signed file outgrows the 32-bit universal header')
    parts.push(Buffer.alloc(offset - end), bytes)
    end = offset + bytes.length
    const at = 8 + i * entrySize
    header.writeUInt32BE(e.cputype, at)
    header.writeUInt32BE(e.cpusubtype, at + 4)
    if (fat.wide) {
      header.writeBigUInt64BE(BigInt(offset), at + 8)
      header.writeBigUInt64BE(BigInt(bytes.length), at + 16)
      header.writeUInt32BE(e.align, at + 24)
    } else {
      header.writeUInt32BE(offset, at + 8)
      header.writeUInt32BE(bytes.length, at + 12)
      header.writeUInt32BE(e.align, at + 16)
    }
  })
  return {bytes: Buffer.concat(parts), slices: signed.map(s => ({facts: s.facts, codeDirectories: s.codeDirectories}))}
}

/**
 * The CodeDirectories of every slice of a signed file, slot 0 first, read from the SuperBlob; for
 * sealing nested code by cdhash. Empty for a slice without a signature.
 */
export function codeDirectoriesOf(file: Buffer): Buffer[][] {
  const fat = readFat(file)
  const slices = fat ? fat.entries.map(e => file.subarray(e.offset, e.offset + e.size)) : [file]
  return slices.map(slice => {
    const parsed = parseSlice(slice)
    if (!parsed.facts.hadSignature) return []
    const sigAt = parsed.facts.codeLimit
    if (slice.length < sigAt + 12 || slice.readUInt32BE(sigAt) !== 0xfade0cc0) return []
    const count = slice.readUInt32BE(sigAt + 8)
    const cds: {slot: number; bytes: Buffer}[] = []
    for (let i = 0; i < count; i++) {
      const slot = slice.readUInt32BE(sigAt + 12 + 8 * i)
      const offset = slice.readUInt32BE(sigAt + 16 + 8 * i)
      const at = sigAt + offset
      if (slice.readUInt32BE(at) !== 0xfade0c02) continue
      if (slot === 0 || (slot >= 0x1000 && slot < 0x1006)) cds.push({slot, bytes: slice.subarray(at, at + slice.readUInt32BE(at + 4))})
    }
    return cds.sort((a, b) => a.slot - b.slot).map(c => c.bytes)
  })
}
