import {createHash} from 'node:crypto'
import * as plist from 'plist'
import type {PlistDict, PlistValue} from '../../src/formats/property-list.js'

/**
 * Writes embedded code signatures (SuperBlob + CodeDirectories + bound blobs) from the format
 * facts alone. It deliberately shares no constants or code with the parsers in src/formats, so a
 * misread offset or magic on either side shows up as a disagreement in tests.
 */

export interface SignOptions {
  identifier: string
  teamId?: string
  /** CodeDirectory flags; default adhoc (0x2) without `cms`, 0 with it. */
  flags?: number
  /** First → slot 0, the rest → alternate CodeDirectories at 0x1000, 0x1001, … Default [2]. */
  hashTypes?: number[]
  pageSize?: 4096 | 16384
  /** CodeDirectory version, default 0x20400; 0x20001 up to 0x20600 are laid out. */
  version?: number
  entitlements?: PlistDict
  /**
   * The XML entitlements blob's payload exactly as given (codesign embeds the --entitlements file
   * verbatim); default plist.build(entitlements). The DER blob is still derived from `entitlements`.
   */
  entitlementsXml?: Buffer
  /** Also write the DER entitlements blob (slot 7). Needs `entitlements`. */
  derEntitlements?: boolean
  /** Default: an empty requirement set. */
  requirementsBlob?: Buffer
  infoPlist?: Buffer
  codeResources?: Buffer
  /** Default for an executable: the __TEXT segment with CS_EXECSEG_MAIN_BINARY. */
  execSeg?: {base: bigint; limit: bigint; flags: bigint}
  /** Default 0x000e0000 (macOS 14) with the runtime flag, else 0. Only stored from version 0x20500. */
  runtimeVersion?: number
  platform?: number
  /** Signs the CodeDirectories (slot 0 first) and returns detached CMS DER. None → ad-hoc. */
  cms?: (codeDirectories: Buffer[]) => Promise<Buffer>
  /**
   * Write only the CodeDirectory (plus any entitlements asked for), no requirement set and no CMS
   * wrapper, as the linker's ad-hoc signature is; flags then default to adhoc | linker-signed.
   */
  linkerStyle?: boolean
  /** Bytes reserved for the CMS DER, since the space is fixed before the pages are hashed. Default 16384. */
  cmsReserve?: number
  /** Special slots (SLOT.*) left zero although their subject is written: a blob or file present but not bound. */
  unboundSlots?: number[]
  /** Blobs (by SLOT.*) bound by the CodeDirectory but left out of the SuperBlob: bound but absent. */
  omittedBlobs?: number[]
}

export const BLOB_MAGIC = {
  superBlob: 0xfade0cc0,
  requirementSet: 0xfade0c01,
  codeDirectory: 0xfade0c02,
  entitlements: 0xfade7171,
  derEntitlements: 0xfade7172,
  cmsWrapper: 0xfade0b01,
} as const

export const SLOT = {
  codeDirectory: 0,
  infoPlist: 1,
  requirements: 2,
  codeResources: 3,
  entitlements: 5,
  derEntitlements: 7,
  firstAlternateCodeDirectory: 0x1000,
  cms: 0x10000,
} as const

export const FLAG = {adhoc: 0x2, hard: 0x100, kill: 0x200, runtime: 0x10000, linkerSigned: 0x20000} as const

const HASHES: Record<number, {algorithm: string; size: number}> = {
  1: {algorithm: 'sha1', size: 20},
  2: {algorithm: 'sha256', size: 32},
  3: {algorithm: 'sha256', size: 20},
  4: {algorithm: 'sha384', size: 48},
}

const DEFAULT_CMS_RESERVE = 16384
const SIGNATURE_ALIGN = 16

function hashInfo(hashType: number): {algorithm: string; size: number} {
  const info = HASHES[hashType]
  if (!info) throw new Error(`unsupported hash type ${hashType}`)
  return info
}

/** The hash Apple's code signing uses for `hashType`, truncated to its slot size. */
export function codeHash(hashType: number, bytes: Buffer): Buffer {
  const {algorithm, size} = hashInfo(hashType)
  return createHash(algorithm).update(bytes).digest().subarray(0, size)
}

/** cdhash: the CodeDirectory blob hashed with its own hash type, truncated to 20 bytes. */
export function cdhashOf(codeDirectory: Buffer): Buffer {
  return codeHash(codeDirectory.readUInt8(0x25), codeDirectory).subarray(0, 20)
}

function blob(magic: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(8)
  header.writeUInt32BE(magic, 0)
  header.writeUInt32BE(8 + payload.length, 4)
  return Buffer.concat([header, payload])
}

export const EMPTY_REQUIREMENT_SET = (() => {
  const b = Buffer.alloc(12)
  b.writeUInt32BE(BLOB_MAGIC.requirementSet, 0)
  b.writeUInt32BE(12, 4)
  return b
})()

/**
 * Collects the code-slot hashes of each page, for every hash type at once, as pages stream by.
 * Hashes are packed into one growing buffer per type, so a 1 GiB file costs a few MiB here.
 */
export class CodePageHasher {
  private readonly slotsByType: Map<number, {bytes: Buffer; used: number}>
  pageCount = 0

  constructor(readonly hashTypes: number[]) {
    this.slotsByType = new Map(hashTypes.map((t) => [t, {bytes: Buffer.alloc(hashInfo(t).size * 64), used: 0}]))
  }

  addPage(page: Buffer): void {
    for (const [hashType, slots] of this.slotsByType) {
      const hash = codeHash(hashType, page)
      if (slots.used + hash.length > slots.bytes.length) {
        const grown = Buffer.alloc(slots.bytes.length * 2)
        slots.bytes.copy(grown, 0, 0, slots.used)
        slots.bytes = grown
      }
      slots.used += hash.copy(slots.bytes, slots.used)
    }
    this.pageCount++
  }

  slots(hashType: number): Buffer {
    const slots = this.slotsByType.get(hashType)
    if (!slots) throw new Error(`hash type ${hashType} was not collected`)
    return slots.bytes.subarray(0, slots.used)
  }
}

// Apple's DER entitlements: [APPLICATION 16] { INTEGER 1, value }, dictionaries as
// [CONTEXT 16] of SEQUENCE {UTF8String key, value} sorted by key, arrays as SEQUENCE.
function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n])
  const bytes: number[] = []
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff)
  return Buffer.from([0x80 | bytes.length, ...bytes])
}

function der(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), derLength(content.length), content])
}

function derInteger(value: number): Buffer {
  if (!Number.isSafeInteger(value)) throw new Error(`DER entitlements: ${value} is not an integer`)
  let bytes = Buffer.from(BigInt.asUintN(64, BigInt(value)).toString(16).padStart(16, '0'), 'hex')
  // Minimal two's complement: drop leading bytes that only repeat the sign.
  while (bytes.length > 1 && ((bytes[0] === 0 && (bytes[1]! & 0x80) === 0) || (bytes[0] === 0xff && (bytes[1]! & 0x80) !== 0))) bytes = bytes.subarray(1)
  return der(0x02, bytes)
}

function derValue(value: PlistValue, where: string): Buffer {
  if (typeof value === 'boolean') return der(0x01, Buffer.from([value ? 0xff : 0x00]))
  if (typeof value === 'number') return derInteger(value)
  if (typeof value === 'string') return der(0x0c, Buffer.from(value, 'utf8'))
  if (Array.isArray(value)) return der(0x30, Buffer.concat(value.map((v, i) => derValue(v, `${where}[${i}]`))))
  if (typeof value === 'object' && value !== null && !(value instanceof Date) && !Buffer.isBuffer(value) && !ArrayBuffer.isView(value)) {
    const dict = value as PlistDict
    const keys = Object.keys(dict).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    return der(0xb0, Buffer.concat(keys.map((k) => der(0x30, Buffer.concat([der(0x0c, Buffer.from(k, 'utf8')), derValue(dict[k]!, `${where}.${k}`)])))))
  }
  throw new Error(`DER entitlements: ${where} has a type Apple's DER form cannot hold`)
}

/** The DER entitlements payload (without its 0xfade7172 blob header). */
export function derEntitlementsPayload(entitlements: PlistDict): Buffer {
  return der(0x70, Buffer.concat([derInteger(1), derValue(entitlements, 'entitlements')]))
}

function codeDirectoryHeaderSize(version: number): number {
  if (version < 0x20001) throw new Error(`CodeDirectory version 0x${version.toString(16)} is older than any Apple wrote`)
  if (version >= 0x20600) return 0x6c
  if (version >= 0x20500) return 0x60
  if (version >= 0x20400) return 0x58
  if (version >= 0x20300) return 0x40
  if (version >= 0x20200) return 0x34
  if (version >= 0x20100) return 0x30
  return 0x2c
}

interface CodeDirectoryFields {
  version: number
  flags: number
  identifier: string
  teamId: string | undefined
  hashType: number
  platform: number
  pageSize: number
  codeLimit: number
  /** specialHashes[n - 1] is slot −n; undefined slots are written as zeros. */
  specialHashes: (Buffer | undefined)[]
  codeSlots: Buffer
  execSeg: {base: bigint; limit: bigint; flags: bigint}
  runtime: number
}

function codeDirectorySize(f: Omit<CodeDirectoryFields, 'specialHashes' | 'codeSlots'> & {specialCount: number; codeSlotCount: number}): number {
  const {size} = hashInfo(f.hashType)
  const teamBytes = f.teamId === undefined ? 0 : Buffer.byteLength(f.teamId) + 1
  return codeDirectoryHeaderSize(f.version) + Buffer.byteLength(f.identifier) + 1 + teamBytes + (f.specialCount + f.codeSlotCount) * size
}

function buildCodeDirectory(f: CodeDirectoryFields): Buffer {
  const {size: hashSize} = hashInfo(f.hashType)
  if (f.codeSlots.length % hashSize !== 0) throw new Error('code slots are not whole hashes')
  if (f.teamId !== undefined && f.version < 0x20200) throw new Error(`a team id needs CodeDirectory version 0x20200 or later, not 0x${f.version.toString(16)}`)
  const headerSize = codeDirectoryHeaderSize(f.version)
  const ident = Buffer.from(`${f.identifier}\0`, 'utf8')
  const team = f.teamId === undefined ? Buffer.alloc(0) : Buffer.from(`${f.teamId}\0`, 'utf8')
  const special = Buffer.alloc(f.specialHashes.length * hashSize)
  f.specialHashes.forEach((h, i) => {
    // Slot −(i+1) sits (i+1) hashes before hashOffset, so the array is stored back to front.
    if (h) h.copy(special, (f.specialHashes.length - 1 - i) * hashSize)
  })
  const identOffset = headerSize
  const teamOffset = identOffset + ident.length
  const hashOffset = teamOffset + team.length + special.length
  const total = hashOffset + f.codeSlots.length
  const h = Buffer.alloc(headerSize)
  const bigLimit = f.codeLimit > 0xffffffff
  if (bigLimit && f.version < 0x20300) throw new Error('a code limit beyond 4 GiB needs CodeDirectory version 0x20300')
  h.writeUInt32BE(BLOB_MAGIC.codeDirectory, 0x00)
  h.writeUInt32BE(total, 0x04)
  h.writeUInt32BE(f.version, 0x08)
  h.writeUInt32BE(f.flags >>> 0, 0x0c)
  h.writeUInt32BE(hashOffset, 0x10)
  h.writeUInt32BE(identOffset, 0x14)
  h.writeUInt32BE(f.specialHashes.length, 0x18)
  h.writeUInt32BE(f.codeSlots.length / hashSize, 0x1c)
  h.writeUInt32BE(bigLimit ? 0 : f.codeLimit, 0x20)
  h.writeUInt8(hashSize, 0x24)
  h.writeUInt8(f.hashType, 0x25)
  h.writeUInt8(f.platform, 0x26)
  h.writeUInt8(Math.log2(f.pageSize), 0x27)
  // 0x28 spare2, 0x2c scatterOffset (none), 0x34 spare3: zero.
  if (f.version >= 0x20200 && f.teamId !== undefined) h.writeUInt32BE(teamOffset, 0x30)
  if (f.version >= 0x20300) h.writeBigUInt64BE(BigInt(f.codeLimit), 0x38)
  if (f.version >= 0x20400) {
    h.writeBigUInt64BE(f.execSeg.base, 0x40)
    h.writeBigUInt64BE(f.execSeg.limit, 0x48)
    h.writeBigUInt64BE(f.execSeg.flags, 0x50)
  }
  if (f.version >= 0x20500) h.writeUInt32BE(f.runtime, 0x58)
  return Buffer.concat([h, ident, team, special, f.codeSlots])
}

/** What an executable knows about itself that the signature records. */
export interface SignedRange {
  /** Bytes covered by code slots; also the signature's file offset. */
  codeLimit: number
  /** Used when SignOptions.execSeg is not given. */
  defaultExecSeg: {base: bigint; limit: bigint; flags: bigint}
}

/**
 * Everything about a signature that does not depend on the code pages, fixed before any page is
 * written so the load commands (which are themselves hashed in page 0) can state its size.
 */
export interface SignaturePlan {
  sign: SignOptions
  range: SignedRange
  hashTypes: number[]
  pageSize: number
  /** Space the signature occupies in the file (LC_CODE_SIGNATURE datasize); the SuperBlob may be shorter. */
  size: number
  boundBlobs: {slot: number; bytes: Buffer}[]
  cmsReserve: number
}

function boundBlobsFor(sign: SignOptions): {slot: number; bytes: Buffer}[] {
  const blobs: {slot: number; bytes: Buffer}[] = sign.linkerStyle ? [] : [{slot: SLOT.requirements, bytes: sign.requirementsBlob ?? EMPTY_REQUIREMENT_SET}]
  if (sign.entitlements) blobs.push({slot: SLOT.entitlements, bytes: blob(BLOB_MAGIC.entitlements, sign.entitlementsXml ?? Buffer.from(plist.build(sign.entitlements), 'utf8'))})
  if (sign.derEntitlements) {
    if (!sign.entitlements) throw new Error('derEntitlements needs entitlements')
    blobs.push({slot: SLOT.derEntitlements, bytes: blob(BLOB_MAGIC.derEntitlements, derEntitlementsPayload(sign.entitlements))})
  }
  return blobs
}

function specialSlotCount(sign: SignOptions, boundBlobs: {slot: number}[]): number {
  const slots = boundBlobs.map((b) => b.slot)
  if (sign.infoPlist) slots.push(SLOT.infoPlist)
  if (sign.codeResources) slots.push(SLOT.codeResources)
  return Math.max(0, ...slots)
}

function codeDirectoryFields(plan: SignaturePlan, hashType: number): Omit<CodeDirectoryFields, 'specialHashes' | 'codeSlots'> {
  const {sign} = plan
  const flags = sign.flags ?? (sign.cms ? 0 : sign.linkerStyle ? FLAG.adhoc | FLAG.linkerSigned : FLAG.adhoc)
  return {
    version: sign.version ?? 0x20400,
    flags,
    identifier: sign.identifier,
    teamId: sign.teamId,
    hashType,
    platform: sign.platform ?? 0,
    pageSize: plan.pageSize,
    codeLimit: plan.range.codeLimit,
    execSeg: sign.execSeg ?? plan.range.defaultExecSeg,
    runtime: sign.runtimeVersion ?? (flags & FLAG.runtime ? 0x000e0000 : 0),
  }
}

export function planSignature(sign: SignOptions, range: SignedRange): SignaturePlan {
  if (sign.linkerStyle && sign.cms) throw new Error('a linker-style signature has no CMS')
  const hashTypes = sign.hashTypes ?? [2]
  if (hashTypes.length === 0 || hashTypes.length > 6) throw new Error('between 1 and 6 hash types')
  const pageSize = sign.pageSize ?? 4096
  const boundBlobs = boundBlobsFor(sign)
  const cmsReserve = sign.cms ? (sign.cmsReserve ?? DEFAULT_CMS_RESERVE) : 0
  const plan: SignaturePlan = {sign, range, hashTypes, pageSize, size: 0, boundBlobs, cmsReserve}
  const specialCount = specialSlotCount(sign, boundBlobs)
  const codeSlotCount = Math.ceil(range.codeLimit / pageSize)
  const cdBytes = hashTypes.reduce((sum, t) => sum + codeDirectorySize({...codeDirectoryFields(plan, t), specialCount, codeSlotCount}), 0)
  const cmsWrapperBytes = sign.linkerStyle ? 0 : 8 + cmsReserve
  const count = hashTypes.length + boundBlobs.length + (sign.linkerStyle ? 0 : 1)
  const superBlobSize = 12 + 8 * count + cdBytes + boundBlobs.reduce((s, b) => s + b.bytes.length, 0) + cmsWrapperBytes
  plan.size = Math.ceil(superBlobSize / SIGNATURE_ALIGN) * SIGNATURE_ALIGN
  return plan
}

export interface BuiltSignature {
  /** Exactly plan.size bytes: the SuperBlob, then zero padding. */
  bytes: Buffer
  /** Slot 0 first, then the alternates in slot order. */
  codeDirectories: Buffer[]
}

export async function buildEmbeddedSignature(plan: SignaturePlan, pages: CodePageHasher): Promise<BuiltSignature> {
  const {sign} = plan
  const expectedPages = Math.ceil(plan.range.codeLimit / plan.pageSize)
  if (pages.pageCount !== expectedPages) throw new Error(`hashed ${pages.pageCount} pages, the code limit needs ${expectedPages}`)
  const specialCount = specialSlotCount(sign, plan.boundBlobs)
  const codeDirectories = plan.hashTypes.map((hashType) => {
    const specialHashes: (Buffer | undefined)[] = new Array(specialCount).fill(undefined)
    const bind = (slot: number, bytes: Buffer | undefined): void => {
      if (bytes && !sign.unboundSlots?.includes(slot)) specialHashes[slot - 1] = codeHash(hashType, bytes)
    }
    bind(SLOT.infoPlist, sign.infoPlist)
    bind(SLOT.codeResources, sign.codeResources)
    for (const b of plan.boundBlobs) bind(b.slot, b.bytes)
    return buildCodeDirectory({...codeDirectoryFields(plan, hashType), specialHashes, codeSlots: pages.slots(hashType)})
  })
  let cmsPayload: Buffer = Buffer.alloc(0)
  if (sign.cms) {
    cmsPayload = await sign.cms(codeDirectories)
    if (cmsPayload.length > plan.cmsReserve) throw new Error(`CMS of ${cmsPayload.length} bytes exceeds the ${plan.cmsReserve} reserved; raise cmsReserve`)
  }
  const entries: {slot: number; bytes: Buffer}[] = [
    {slot: SLOT.codeDirectory, bytes: codeDirectories[0]!},
    ...plan.boundBlobs.filter((b) => !sign.omittedBlobs?.includes(b.slot)),
    ...codeDirectories.slice(1).map((bytes, i) => ({slot: SLOT.firstAlternateCodeDirectory + i, bytes})),
    ...(sign.linkerStyle ? [] : [{slot: SLOT.cms, bytes: blob(BLOB_MAGIC.cmsWrapper, cmsPayload)}]),
  ]
  const indexSize = 12 + 8 * entries.length
  const header = Buffer.alloc(indexSize)
  let offset = indexSize
  entries.forEach((e, i) => {
    header.writeUInt32BE(e.slot, 12 + 8 * i)
    header.writeUInt32BE(offset, 16 + 8 * i)
    offset += e.bytes.length
  })
  header.writeUInt32BE(BLOB_MAGIC.superBlob, 0)
  header.writeUInt32BE(offset, 4)
  header.writeUInt32BE(entries.length, 8)
  const bytes = Buffer.alloc(plan.size)
  Buffer.concat([header, ...entries.map((e) => e.bytes)]).copy(bytes)
  return {bytes, codeDirectories}
}
