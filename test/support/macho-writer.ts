import {open} from 'node:fs/promises'
import {buildEmbeddedSignature, CodePageHasher, planSignature, type SignaturePlan, type SignOptions} from './signature-writer.js'

/**
 * Writes signed thin and universal Mach-O executables for tests and benchmarks. The code is a
 * deterministic pattern (or the caller's), never run; the structure is what a verifier reads:
 * header, __PAGEZERO/__TEXT/__LINKEDIT segments, LC_MAIN and LC_CODE_SIGNATURE, the signature last.
 */

export type MachOArch = 'arm64' | 'x86_64' | 'arm64e' | 'i386'

export interface MachOSpec {
  arch: MachOArch
  /** Bytes before the signature (the code limit), rounded up to 16 and at least the header. */
  codeSize: number
  /**
   * Writes the content of code page `pageIndex` (signature page size; the last one may be short)
   * into a zeroed buffer. Header and load-command bytes are laid over it afterwards.
   */
  fill?: (pageIndex: number, page: Buffer) => void
}

interface ArchFacts {
  cputype: number
  cpusubtype: number
  is64: boolean
  /** log2 of the slice alignment in a universal file, and of the VM page size. */
  alignLog2: number
}

const ARCHS: Record<string, ArchFacts> = {
  arm64: {cputype: 0x0100000c, cpusubtype: 0, is64: true, alignLog2: 14},
  // arm64e carries the pointer-authentication ABI bit in the subtype's capability byte.
  arm64e: {cputype: 0x0100000c, cpusubtype: 0x80000002, is64: true, alignLog2: 14},
  x86_64: {cputype: 0x01000007, cpusubtype: 3, is64: true, alignLog2: 12},
  i386: {cputype: 7, cpusubtype: 3, is64: false, alignLog2: 12},
}

function archFacts(arch: string): ArchFacts {
  const facts = ARCHS[arch]
  if (!facts) throw new Error(`unknown architecture ${arch}`)
  return facts
}

const LC_SEGMENT = 0x1
const LC_SEGMENT_64 = 0x19
const LC_CODE_SIGNATURE = 0x1d
const LC_MAIN = 0x80000028
const MH_EXECUTE = 2
// MH_NOUNDEFS | MH_DYLDLINK | MH_TWOLEVEL | MH_PIE, as a linked executable has.
const MH_FLAGS = 0x00200085
const VM_PROT_READ = 1
const VM_PROT_EXECUTE = 4
const S_REGULAR_CODE = 0x80000400
const CS_EXECSEG_MAIN_BINARY = 1n

const roundUp = (n: number, to: number): number => Math.ceil(n / to) * to

class ByteWriter {
  offset = 0
  constructor(
    readonly buf: Buffer,
    readonly is64: boolean,
  ) {}
  u32(v: number): void {
    this.buf.writeUInt32LE(v >>> 0, this.offset)
    this.offset += 4
  }
  /** A pointer-sized field: 64-bit in 64-bit files, 32-bit otherwise. */
  word(v: bigint): void {
    if (this.is64) {
      this.buf.writeBigUInt64LE(v, this.offset)
      this.offset += 8
    } else this.u32(Number(v))
  }
  u64(v: bigint): void {
    this.buf.writeBigUInt64LE(v, this.offset)
    this.offset += 8
  }
  name16(s: string): void {
    this.buf.write(s, this.offset, 16, 'latin1')
    this.offset += 16
  }
}

/** Where everything goes in one thin file; shared by the in-memory and the streaming writer. */
export interface MachOLayout {
  facts: ArchFacts
  /** Header plus load commands, exactly as they start the file. */
  header: Buffer
  codeLimit: number
  signature: SignaturePlan
  fileSize: number
}

function segmentCommandSize(is64: boolean, sections: number): number {
  return is64 ? 72 + 80 * sections : 56 + 68 * sections
}

// __PAGEZERO, __TEXT with one section, __LINKEDIT, LC_MAIN, LC_CODE_SIGNATURE.
const LOAD_COMMAND_COUNT = 5

function loadCommandsSize(is64: boolean): number {
  return 2 * segmentCommandSize(is64, 0) + segmentCommandSize(is64, 1) + 24 + 16
}

export function layoutMachO(spec: MachOSpec, sign: SignOptions): MachOLayout {
  const facts = archFacts(spec.arch)
  const {is64} = facts
  const headerSize = is64 ? 32 : 28
  const commandsSize = loadCommandsSize(is64)
  const headerEnd = headerSize + commandsSize
  if (!Number.isSafeInteger(spec.codeSize) || spec.codeSize < 0) throw new Error(`codeSize ${spec.codeSize} is not a byte count`)
  const codeLimit = roundUp(Math.max(spec.codeSize, headerEnd), 16)
  const textFileSize = codeLimit
  const signature = planSignature(sign, {
    codeLimit,
    defaultExecSeg: {base: 0n, limit: BigInt(textFileSize), flags: CS_EXECSEG_MAIN_BINARY},
  })
  const vmPage = 2 ** facts.alignLog2
  const pageZeroSize = is64 ? 0x100000000n : BigInt(vmPage)
  const textVmSize = BigInt(roundUp(textFileSize, vmPage))
  // mmap needs a segment's file offset and address congruent modulo the page size.
  const linkeditVmAddr = pageZeroSize + textVmSize + BigInt(codeLimit % vmPage)
  const linkeditVmSize = BigInt(roundUp(signature.size, vmPage))

  const header = Buffer.alloc(headerEnd)
  const w = new ByteWriter(header, is64)
  w.u32(is64 ? 0xfeedfacf : 0xfeedface)
  w.u32(facts.cputype)
  w.u32(facts.cpusubtype)
  w.u32(MH_EXECUTE)
  w.u32(LOAD_COMMAND_COUNT)
  w.u32(commandsSize)
  w.u32(MH_FLAGS)
  if (is64) w.u32(0)

  const segment = (name: string, vmaddr: bigint, vmsize: bigint, fileoff: number, filesize: number, prot: number, section?: {addr: bigint; size: number; offset: number}): void => {
    w.u32(is64 ? LC_SEGMENT_64 : LC_SEGMENT)
    w.u32(segmentCommandSize(is64, section ? 1 : 0))
    w.name16(name)
    w.word(vmaddr)
    w.word(vmsize)
    w.word(BigInt(fileoff))
    w.word(BigInt(filesize))
    w.u32(prot)
    w.u32(prot)
    w.u32(section ? 1 : 0)
    w.u32(0)
    if (!section) return
    w.name16('__text')
    w.name16(name)
    w.word(section.addr)
    w.word(BigInt(section.size))
    w.u32(section.offset)
    w.u32(2)
    w.u32(0)
    w.u32(0)
    w.u32(S_REGULAR_CODE)
    w.u32(0)
    w.u32(0)
    if (is64) w.u32(0)
  }
  segment('__PAGEZERO', 0n, pageZeroSize, 0, 0, 0)
  segment('__TEXT', pageZeroSize, textVmSize, 0, textFileSize, VM_PROT_READ | VM_PROT_EXECUTE, {
    addr: pageZeroSize + BigInt(headerEnd),
    size: codeLimit - headerEnd,
    offset: headerEnd,
  })
  segment('__LINKEDIT', linkeditVmAddr, linkeditVmSize, codeLimit, signature.size, VM_PROT_READ)
  w.u32(LC_MAIN)
  w.u32(24)
  w.u64(BigInt(headerEnd))
  w.u64(0n)
  w.u32(LC_CODE_SIGNATURE)
  w.u32(16)
  w.u32(codeLimit)
  w.u32(signature.size)
  if (w.offset !== headerEnd) throw new Error(`load commands came to ${w.offset - headerSize} bytes, expected ${commandsSize}`)
  return {facts, header, codeLimit, signature, fileSize: codeLimit + signature.size}
}

// A fixed pseudo-random block, so default pages are incompressible-looking yet reproducible.
const PATTERN = (() => {
  const b = Buffer.alloc(16384)
  let x = 0x9e3779b9
  for (let i = 0; i < b.length; i += 4) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    b.writeUInt32LE(x >>> 0, i)
  }
  return b
})()

function defaultFill(pageIndex: number, page: Buffer): void {
  PATTERN.copy(page, 0, 0, Math.min(page.length, PATTERN.length))
  // The page number makes every page distinct, so a swapped or repeated page changes a hash.
  if (page.length >= 8) page.writeUInt32LE(pageIndex, 4)
}

/** Writes code page `index` of the file into `page` (whose length is that page's length). */
export function renderPage(layout: MachOLayout, spec: MachOSpec, index: number, page: Buffer): void {
  page.fill(0)
  ;(spec.fill ?? defaultFill)(index, page)
  const start = index * layout.signature.pageSize
  if (start < layout.header.length) layout.header.copy(page, 0, start, Math.min(layout.header.length, start + page.length))
}

export interface SignedSlice {
  bytes: Buffer
  codeDirectories: Buffer[]
}

/** Like buildSignedMachO, also returning the CodeDirectories (slot 0 first) for cdhash use. */
export async function buildSignedMachOSlice(spec: MachOSpec, sign: SignOptions): Promise<SignedSlice> {
  const layout = layoutMachO(spec, sign)
  const {pageSize} = layout.signature
  const bytes = Buffer.alloc(layout.fileSize)
  const hasher = new CodePageHasher(layout.signature.hashTypes)
  for (let i = 0, start = 0; start < layout.codeLimit; i++, start += pageSize) {
    const page = bytes.subarray(start, Math.min(start + pageSize, layout.codeLimit))
    renderPage(layout, spec, i, page)
    hasher.addPage(page)
  }
  const signature = await buildEmbeddedSignature(layout.signature, hasher)
  signature.bytes.copy(bytes, layout.codeLimit)
  return {bytes, codeDirectories: signature.codeDirectories}
}

/** An executable (MH_EXECUTE) slice: header, __TEXT/__LINKEDIT segments, LC_CODE_SIGNATURE at a 16-byte aligned dataoff, code pages, then the signature. */
export async function buildSignedMachO(spec: MachOSpec, sign: SignOptions): Promise<Buffer> {
  return (await buildSignedMachOSlice(spec, sign)).bytes
}

const STREAM_CHUNK = 1 << 20

/** Streams a large signed thin Mach-O to disk page by page (hashing as it writes), peak memory independent of size. */
export async function writeSignedMachOFile(path: string, spec: MachOSpec, sign: SignOptions): Promise<void> {
  const layout = layoutMachO(spec, sign)
  const {pageSize} = layout.signature
  const hasher = new CodePageHasher(layout.signature.hashTypes)
  const chunk = Buffer.alloc(roundUp(STREAM_CHUNK, pageSize))
  const file = await open(path, 'w')
  try {
    let position = 0
    let pageIndex = 0
    while (position < layout.codeLimit) {
      const chunkLength = Math.min(chunk.length, layout.codeLimit - position)
      for (let off = 0; off < chunkLength; off += pageSize, pageIndex++) {
        const page = chunk.subarray(off, Math.min(off + pageSize, chunkLength))
        renderPage(layout, spec, pageIndex, page)
        hasher.addPage(page)
      }
      await file.write(chunk, 0, chunkLength, position)
      position += chunkLength
    }
    const signature = await buildEmbeddedSignature(layout.signature, hasher)
    await file.write(signature.bytes, 0, signature.bytes.length, layout.codeLimit)
  } finally {
    await file.close()
  }
}

/** A universal file holding `slices` in order, each aligned to its architecture's page. */
export function buildUniversal(slices: {arch: string; bytes: Buffer}[], form: 'cafebabe' | 'cafebabf' = 'cafebabe'): Buffer {
  const wide = form === 'cafebabf'
  const entrySize = wide ? 32 : 20
  const header = Buffer.alloc(8 + entrySize * slices.length)
  header.writeUInt32BE(wide ? 0xcafebabf : 0xcafebabe, 0)
  header.writeUInt32BE(slices.length, 4)
  const parts: Buffer[] = [header]
  let end = header.length
  slices.forEach((slice, i) => {
    const facts = archFacts(slice.arch)
    const offset = roundUp(end, 2 ** facts.alignLog2)
    if (!wide && offset + slice.bytes.length > 0xffffffff) throw new Error('a slice beyond 4 GiB needs the cafebabf form')
    parts.push(Buffer.alloc(offset - end), slice.bytes)
    end = offset + slice.bytes.length
    const e = 8 + i * entrySize
    header.writeUInt32BE(facts.cputype, e)
    header.writeUInt32BE(facts.cpusubtype, e + 4)
    if (wide) {
      header.writeBigUInt64BE(BigInt(offset), e + 8)
      header.writeBigUInt64BE(BigInt(slice.bytes.length), e + 16)
      header.writeUInt32BE(facts.alignLog2, e + 24)
    } else {
      header.writeUInt32BE(offset, e + 8)
      header.writeUInt32BE(slice.bytes.length, e + 12)
      header.writeUInt32BE(facts.alignLog2, e + 16)
    }
  })
  return Buffer.concat(parts)
}
