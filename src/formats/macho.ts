import {BoundedBytes} from './bounded-bytes.js'
import {FormatError} from './format-error.js'

/** One architecture's Mach-O image inside the file: a universal slice, or the whole file when thin. */
export interface SliceLocation {
  offset: number
  size: number
  cpuType: number
  cpuSubtype: number
  arch: string
  /** log2 of the alignment the fat header asks for (0 for a thin file). */
  align: number
}

export interface FileLayout {
  kind: 'thin' | 'universal'
  slices: SliceLocation[]
}

/** How much of the start of a file parseFileLayout needs (or the whole file when smaller). */
export const FILE_HEAD_BYTES = 4096

/** More architectures than any real universal binary carries; a bigger count is corruption or an attack. */
export const MAX_FAT_ARCHS = 64

/** Load commands beyond this are refused: real binaries use a few KiB, and the I/O layer reads this much up front. */
export const MAX_LOAD_COMMAND_BYTES = 16 * 1024 * 1024

const MH_MAGIC = 0xfeedface
const MH_MAGIC_64 = 0xfeedfacf
const FAT_MAGIC = 0xcafebabe
const FAT_MAGIC_64 = 0xcafebabf
// Read little-endian, a big-endian (PowerPC-era) thin header shows up as the byte-swapped magic.
const MH_CIGAM = 0xcefaedfe
const MH_CIGAM_64 = 0xcffaedfe

export const LC_SEGMENT = 0x1
export const LC_SEGMENT_64 = 0x19
export const LC_CODE_SIGNATURE = 0x1d

const CPU_ARCH_ABI64 = 0x01000000
const CPU_ARCH_ABI64_32 = 0x02000000
const CPU_TYPE_X86 = 7
const CPU_TYPE_ARM = 12
const CPU_TYPE_POWERPC = 18
// The top byte of cpusubtype carries capability bits (e.g. arm64e pointer-auth ABI version), not the subtype.
const CPU_SUBTYPE_MASK = 0x00ffffff

const ARM_SUBTYPES: ReadonlyMap<number, string> = new Map([
  [0, 'arm'], [5, 'armv4t'], [6, 'armv6'], [7, 'armv5'], [8, 'xscale'], [9, 'armv7'], [10, 'armv7f'],
  [11, 'armv7s'], [12, 'armv7k'], [13, 'armv8'], [14, 'armv6m'], [15, 'armv7m'], [16, 'armv7em'],
])
const PPC_SUBTYPES: ReadonlyMap<number, string> = new Map([
  [0, 'ppc'], [1, 'ppc601'], [2, 'ppc602'], [3, 'ppc603'], [4, 'ppc603e'], [5, 'ppc603ev'], [6, 'ppc604'],
  [7, 'ppc604e'], [8, 'ppc620'], [9, 'ppc750'], [10, 'ppc7400'], [11, 'ppc7450'], [100, 'ppc970'],
])

/** The name Apple's tools use for a cputype/cpusubtype pair (as `lipo -archs` prints it). */
export function archName(cpuType: number, cpuSubtype: number): string {
  const sub = cpuSubtype & CPU_SUBTYPE_MASK
  const type = cpuType >>> 0
  switch (type) {
    case CPU_TYPE_X86:
      return 'i386'
    case (CPU_TYPE_X86 | CPU_ARCH_ABI64) >>> 0:
      return sub === 8 ? 'x86_64h' : 'x86_64'
    case (CPU_TYPE_ARM | CPU_ARCH_ABI64) >>> 0:
      if (sub === 2) return 'arm64e'
      if (sub === 1) return 'arm64v8'
      return 'arm64'
    case (CPU_TYPE_ARM | CPU_ARCH_ABI64_32) >>> 0:
      return 'arm64_32'
    case CPU_TYPE_ARM:
      return ARM_SUBTYPES.get(sub) ?? `cpu${type}/${sub}`
    case CPU_TYPE_POWERPC:
      return PPC_SUBTYPES.get(sub) ?? 'ppc'
    case (CPU_TYPE_POWERPC | CPU_ARCH_ABI64) >>> 0:
      return 'ppc64'
    default:
      return `cpu${type}/${sub}`
  }
}

function thinKind(magicLE: number): '32' | '64' | undefined {
  if (magicLE === MH_MAGIC_64) return '64'
  if (magicLE === MH_MAGIC) return '32'
  return undefined
}

/**
 * Where the Mach-O images in a file are. `head` is the first min(FILE_HEAD_BYTES, fileSize) bytes.
 * Every slice must lie inside the file, after the fat header, without overlapping another slice.
 */
export function parseFileLayout(head: Buffer, fileSize: number): FileLayout {
  if (!Number.isSafeInteger(fileSize) || fileSize < 0) throw new FormatError('macho.bad-size', `file size ${fileSize} is not a byte count`)
  const bytes = new BoundedBytes(head.subarray(0, Math.min(head.length, fileSize)), 'Mach-O file header')
  if (bytes.length < 4) throw new FormatError('macho.not-macho', `file of ${fileSize} bytes is too short to be Mach-O`)
  const magicBE = bytes.u32be(0, 'magic')
  const magicLE = bytes.u32le(0, 'magic')
  if (magicBE === FAT_MAGIC || magicBE === FAT_MAGIC_64) return parseFatLayout(bytes, fileSize, magicBE === FAT_MAGIC_64)
  if (thinKind(magicLE) !== undefined) {
    if (bytes.length < 12) throw new FormatError('macho.truncated', `thin Mach-O of ${fileSize} bytes ends inside its header`)
    const cpuType = bytes.u32le(4, 'cputype')
    const cpuSubtype = bytes.u32le(8, 'cpusubtype')
    return {kind: 'thin', slices: [{offset: 0, size: fileSize, cpuType, cpuSubtype, arch: archName(cpuType, cpuSubtype), align: 0}]}
  }
  if (magicLE === MH_CIGAM || magicLE === MH_CIGAM_64) {
    throw new FormatError('macho.big-endian', 'big-endian (PowerPC) Mach-O is not supported: macOS on Intel and Apple silicon cannot run it')
  }
  throw new FormatError('macho.not-macho', `magic 0x${magicBE.toString(16).padStart(8, '0')} is neither Mach-O nor universal`)
}

function parseFatLayout(bytes: BoundedBytes, fileSize: number, is64: boolean): FileLayout {
  const count = bytes.u32be(4, 'nfat_arch')
  if (count === 0) throw new FormatError('macho.fat-empty', 'universal header lists no architectures')
  if (count > MAX_FAT_ARCHS) throw new FormatError('macho.fat-too-many', `universal header claims ${count} architectures (at most ${MAX_FAT_ARCHS} accepted)`)
  const entrySize = is64 ? 32 : 20
  const headerEnd = 8 + count * entrySize
  if (headerEnd > fileSize) throw new FormatError('macho.truncated', `universal header of ${headerEnd} bytes does not fit in the ${fileSize}-byte file`)
  if (headerEnd > bytes.length) throw new FormatError('macho.truncated', `universal header of ${headerEnd} bytes is longer than the ${bytes.length} bytes read`)
  const slices: SliceLocation[] = []
  for (let i = 0; i < count; i++) {
    const at = 8 + i * entrySize
    const cpuType = bytes.u32be(at, `arch ${i} cputype`)
    const cpuSubtype = bytes.u32be(at + 4, `arch ${i} cpusubtype`)
    const offset = is64 ? safeNumber(bytes.u64be(at + 8, `arch ${i} offset`), `arch ${i} offset`) : bytes.u32be(at + 8, `arch ${i} offset`)
    const size = is64 ? safeNumber(bytes.u64be(at + 16, `arch ${i} size`), `arch ${i} size`) : bytes.u32be(at + 12, `arch ${i} size`)
    const align = bytes.u32be(at + (is64 ? 24 : 16), `arch ${i} align`)
    const arch = archName(cpuType, cpuSubtype)
    if (size === 0) throw new FormatError('macho.slice-empty', `slice ${i} (${arch}) is empty`)
    if (offset < headerEnd) throw new FormatError('macho.slice-overlaps-header', `slice ${i} (${arch}) at ${offset} overlaps the ${headerEnd}-byte universal header`)
    if (offset + size > fileSize) throw new FormatError('macho.slice-out-of-range', `slice ${i} (${arch}) [${offset}, ${offset + size}) extends past the end of the ${fileSize}-byte file`)
    slices.push({offset, size, cpuType, cpuSubtype, arch, align})
  }
  rejectDuplicateArchs(slices)
  rejectOverlaps(slices)
  return {kind: 'universal', slices}
}

function safeNumber(value: bigint, field: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new FormatError('macho.slice-out-of-range', `${field} ${value} is beyond any file size`)
  return Number(value)
}

// The loader picks a slice by cputype/cpusubtype; two slices for one arch would let a verifier check one while the kernel runs the other.
function rejectDuplicateArchs(slices: readonly SliceLocation[]): void {
  const seen = new Set<string>()
  for (const s of slices) {
    const key = `${s.cpuType >>> 0}/${(s.cpuSubtype & CPU_SUBTYPE_MASK) >>> 0}`
    if (seen.has(key)) throw new FormatError('macho.fat-duplicate-arch', `universal file has two slices for ${s.arch}`)
    seen.add(key)
  }
}

function rejectOverlaps(slices: readonly SliceLocation[]): void {
  const sorted = [...slices].sort((a, b) => a.offset - b.offset)
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!
    const cur = sorted[i]!
    if (prev.offset + prev.size > cur.offset) {
      throw new FormatError('macho.slice-overlap', `slices ${prev.arch} [${prev.offset}, ${prev.offset + prev.size}) and ${cur.arch} at ${cur.offset} overlap`)
    }
  }
}

function headerSize(magicLE: number): number {
  const kind = thinKind(magicLE)
  if (kind === undefined) {
    if (magicLE === MH_CIGAM || magicLE === MH_CIGAM_64) throw new FormatError('macho.big-endian', 'big-endian (PowerPC) Mach-O slice is not supported')
    throw new FormatError('macho.bad-magic', `slice magic 0x${magicLE.toString(16).padStart(8, '0')} is not a little-endian Mach-O header`)
  }
  return kind === '64' ? 32 : 28
}

/**
 * Bytes to read at the slice start to parse the header and all load commands. `head` is at least
 * the first 32 bytes of the slice (fewer only when the slice itself is shorter).
 */
export function machHeaderExtent(head: Buffer, sliceSize: number): number {
  const bytes = new BoundedBytes(head, 'Mach-O header')
  const size = headerSize(bytes.u32le(0, 'magic'))
  const sizeofcmds = bytes.u32le(20, 'sizeofcmds')
  const extent = size + sizeofcmds
  if (sizeofcmds > MAX_LOAD_COMMAND_BYTES) throw new FormatError('macho.load-commands-too-large', `load commands claim ${sizeofcmds} bytes (at most ${MAX_LOAD_COMMAND_BYTES} accepted)`)
  if (extent > sliceSize) throw new FormatError('macho.truncated', `header and load commands (${extent} bytes) do not fit in the ${sliceSize}-byte slice`)
  return extent
}

/** `filetype` of an executable image (mach-o/loader.h): the only kind the kernel starts as a process's main program. */
export const MH_EXECUTE = 2

/** mach-o/loader.h's names for the `filetype` values, as otool -h and Apple's docs print them. */
const FILE_TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [1, 'MH_OBJECT'], [2, 'MH_EXECUTE'], [3, 'MH_FVMLIB'], [4, 'MH_CORE'], [5, 'MH_PRELOAD'], [6, 'MH_DYLIB'],
  [7, 'MH_DYLINKER'], [8, 'MH_BUNDLE'], [9, 'MH_DYLIB_STUB'], [10, 'MH_DSYM'], [11, 'MH_KEXT_BUNDLE'], [12, 'MH_FILESET'],
])

/** `MH_DYLIB (6)`; an unknown value as `filetype 0x…`. */
export function fileTypeName(fileType: number): string {
  const name = FILE_TYPE_NAMES.get(fileType)
  return name === undefined ? `filetype 0x${fileType.toString(16)}` : `${name} (${fileType})`
}

/**
 * The `filetype` of the slice whose header starts `head` (at least its first 16 bytes). Throws
 * FormatError for a header that is not little-endian Mach-O or is cut short.
 */
export function sliceFileType(head: Buffer): number {
  const bytes = new BoundedBytes(head, 'Mach-O header')
  headerSize(bytes.u32le(0, 'magic'))
  return bytes.u32le(12, 'filetype')
}

export interface LoadCommand {
  cmd: number
  /** Offset of the command from the start of the slice. */
  offset: number
  size: number
}

export interface SegmentInfo {
  name: string
  fileOffset: number
  fileSize: number
  vmAddr: bigint
  vmSize: bigint
}

export interface MachOImage {
  is64: boolean
  cpuType: number
  cpuSubtype: number
  arch: string
  fileType: number
  flags: number
  /** Offset where the load commands end (header size + sizeofcmds). */
  loadCommandsEnd: number
  loadCommands: LoadCommand[]
  segments: SegmentInfo[]
  /** LC_CODE_SIGNATURE, offsets relative to the slice. */
  codeSignature?: {dataOffset: number; dataSize: number}
}

/**
 * Parses the Mach-O header and load commands. `buf` is the first machHeaderExtent() bytes of the slice.
 * Every command must be whole and inside sizeofcmds; LC_CODE_SIGNATURE must appear at most once with its
 * data inside the slice and after the load commands.
 */
export function parseMachO(buf: Buffer, sliceSize: number): MachOImage {
  const bytes = new BoundedBytes(buf, 'Mach-O header')
  const magic = bytes.u32le(0, 'magic')
  const hdr = headerSize(magic)
  const is64 = hdr === 32
  bytes.check(0, hdr, 'mach header')
  const cpuType = bytes.u32le(4, 'cputype')
  const cpuSubtype = bytes.u32le(8, 'cpusubtype')
  const fileType = bytes.u32le(12, 'filetype')
  const ncmds = bytes.u32le(16, 'ncmds')
  const sizeofcmds = bytes.u32le(20, 'sizeofcmds')
  const flags = bytes.u32le(24, 'flags')
  const end = hdr + sizeofcmds
  if (sizeofcmds > MAX_LOAD_COMMAND_BYTES || end > sliceSize) {
    throw new FormatError('macho.truncated', `load commands (${sizeofcmds} bytes) do not fit in the ${sliceSize}-byte slice`)
  }
  if (end > bytes.length) throw new FormatError('macho.truncated', `load commands end at ${end} but only ${bytes.length} bytes were read`)
  // Each command is at least 8 bytes, so a count that cannot fit is rejected before looping over it.
  if (ncmds > Math.floor(sizeofcmds / 8)) throw new FormatError('macho.bad-ncmds', `${ncmds} load commands cannot fit in ${sizeofcmds} bytes`)
  const alignment = is64 ? 8 : 4
  const loadCommands: LoadCommand[] = []
  const segments: SegmentInfo[] = []
  let codeSignature: MachOImage['codeSignature']
  let at = hdr
  for (let i = 0; i < ncmds; i++) {
    if (at + 8 > end) throw new FormatError('macho.bad-load-command', `load command ${i} at ${at} starts past the end of the load commands (${end})`)
    const cmd = bytes.u32le(at, `load command ${i} cmd`)
    const size = bytes.u32le(at + 4, `load command ${i} cmdsize`)
    if (size < 8 || size % alignment !== 0 || at + size > end) {
      throw new FormatError('macho.bad-load-command', `load command ${i} (0x${cmd.toString(16)}) at ${at} has cmdsize ${size}: must be ≥ 8, a multiple of ${alignment}, and end by ${end}`)
    }
    const command = new BoundedBytes(bytes.slice(at, size, `load command ${i}`), `load command ${i}`)
    if (cmd === LC_SEGMENT_64 || cmd === LC_SEGMENT) segments.push(parseSegment(command, cmd === LC_SEGMENT_64, sliceSize, i))
    if (cmd === LC_CODE_SIGNATURE) {
      if (codeSignature) throw new FormatError('macho.duplicate-code-signature', `load command ${i} is a second LC_CODE_SIGNATURE`)
      codeSignature = parseCodeSignatureCommand(command, size, end, sliceSize)
    }
    loadCommands.push({cmd, offset: at, size})
    at += size
  }
  const image: MachOImage = {is64, cpuType, cpuSubtype, arch: archName(cpuType, cpuSubtype), fileType, flags, loadCommandsEnd: end, loadCommands, segments}
  if (codeSignature) image.codeSignature = codeSignature
  return image
}

function parseSegment(command: BoundedBytes, is64: boolean, sliceSize: number, index: number): SegmentInfo {
  command.check(0, is64 ? 72 : 56, `segment command ${index}`)
  const rawName = command.slice(8, 16, 'segname')
  const nul = rawName.indexOf(0)
  const name = rawName.toString('latin1', 0, nul < 0 ? 16 : nul)
  const vmAddr = is64 ? command.u64le(24, 'vmaddr') : BigInt(command.u32le(24, 'vmaddr'))
  const vmSize = is64 ? command.u64le(32, 'vmsize') : BigInt(command.u32le(28, 'vmsize'))
  const fileOffset64 = is64 ? command.u64le(40, 'fileoff') : BigInt(command.u32le(32, 'fileoff'))
  const fileSize64 = is64 ? command.u64le(48, 'filesize') : BigInt(command.u32le(36, 'filesize'))
  if (fileOffset64 + fileSize64 > BigInt(sliceSize)) {
    throw new FormatError('macho.segment-out-of-range', `segment ${name} file range [${fileOffset64}, ${fileOffset64 + fileSize64}) extends past the ${sliceSize}-byte slice`)
  }
  return {name, fileOffset: Number(fileOffset64), fileSize: Number(fileSize64), vmAddr, vmSize}
}

function parseCodeSignatureCommand(command: BoundedBytes, size: number, loadCommandsEnd: number, sliceSize: number): {dataOffset: number; dataSize: number} {
  if (size !== 16) throw new FormatError('macho.bad-code-signature-command', `LC_CODE_SIGNATURE has cmdsize ${size}, not 16`)
  const dataOffset = command.u32le(8, 'dataoff')
  const dataSize = command.u32le(12, 'datasize')
  if (dataOffset + dataSize > sliceSize) {
    throw new FormatError('macho.code-signature-out-of-range', `signature data [${dataOffset}, ${dataOffset + dataSize}) extends past the ${sliceSize}-byte slice`)
  }
  // The signature hashes everything before it, headers included, so it cannot sit inside them.
  if (dataOffset < loadCommandsEnd) {
    throw new FormatError('macho.code-signature-overlaps-header', `signature data at ${dataOffset} overlaps the header and load commands (which end at ${loadCommandsEnd})`)
  }
  return {dataOffset, dataSize}
}
