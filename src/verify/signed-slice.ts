import {FormatError, isFormatError} from '../formats/format-error.js'
import {parseMachO, machHeaderExtent, type MachOImage, type SliceLocation} from '../formats/macho.js'
import {BlobMagic, SlotType, blobPayload, parseEmbeddedSignature, type BlobIndexEntry, type EmbeddedSignature} from '../formats/superblob.js'
import {parseCodeDirectory, type CodeDirectory} from '../formats/code-directory.js'
import {parseEntitlementsBlob, parseDerEntitlementsBlob} from '../formats/entitlements.js'
import {parseRequirementSet, type RequirementEntry} from '../formats/requirements.js'
import type {PlistDict} from '../formats/property-list.js'
import type {RandomAccessFile} from '../io/random-access-file.js'
import {finding, type Finding} from './finding.js'

/** Everything read from one slice's signature, parsed but not yet judged. */
export interface SignedSlice {
  location: SliceLocation
  image: MachOImage
  signature?: SliceSignature
}

export interface SliceSignature {
  superBlob: EmbeddedSignature
  /** Slot 0 first, then the alternates in slot order. */
  codeDirectories: Array<{slot: number; cd: CodeDirectory}>
  requirements?: BlobIndexEntry
  requirementTexts: RequirementEntry[]
  entitlements?: {blob: BlobIndexEntry; dict: PlistDict}
  derEntitlements?: {blob: BlobIndexEntry; dict: PlistDict}
  /** The CMS inside the 0xfade0b01 wrapper; empty for ad-hoc signatures. */
  cms?: Buffer
}

/** A short label for a slice in messages: `sentry-cli [arm64]`. */
export function sliceLabel(path: string, arch: string): string {
  return `${path} [${arch}]`
}

/**
 * Reads one slice's Mach-O header and signature. Structural damage becomes a finding; only what
 * could be read is returned, so later checks run on whatever is trustworthy.
 */
export async function readSignedSlice(file: RandomAccessFile, location: SliceLocation, path: string): Promise<{slice?: SignedSlice; findings: Finding[]}> {
  const where = sliceLabel(path, location.arch)
  let image: MachOImage
  try {
    const head = await file.read(location.offset, Math.min(location.size, 64), 'Mach-O header')
    const extent = machHeaderExtent(head, location.size)
    image = parseMachO(await file.read(location.offset, extent, 'load commands'), location.size)
  } catch (e) {
    if (!isFormatError(e)) throw e
    return {findings: [finding('macho.malformed', path, `${where}: ${e.message}`, 'The file is damaged or not a macOS executable; rebuild it.')]}
  }
  const slice: SignedSlice = {location, image}
  if (!image.codeSignature) return {slice, findings: []}
  try {
    const {dataOffset, dataSize} = image.codeSignature
    const bytes = await file.read(location.offset + dataOffset, dataSize, 'code signature')
    slice.signature = parseSliceSignature(bytes, where)
    return {slice, findings: []}
  } catch (e) {
    if (!isFormatError(e)) throw e
    return {slice, findings: [finding('signature.malformed', path, `${where}: the code signature cannot be read: ${e.message}`, 'Sign the file again with codesign; the signature is damaged.')]}
  }
}

function parseSliceSignature(bytes: Buffer, where: string): SliceSignature {
  const superBlob = parseEmbeddedSignature(bytes)
  const bySlot = new Map(superBlob.entries.map(e => [e.slot, e]))
  const codeDirectories: SliceSignature['codeDirectories'] = []
  for (const e of superBlob.entries) {
    const isCd = e.slot === SlotType.codeDirectory || (e.slot >= SlotType.alternateCodeDirectory0 && e.slot < SlotType.alternateCodeDirectory0 + 5)
    if (isCd) codeDirectories.push({slot: e.slot, cd: parseCodeDirectory(e.blob)})
  }
  codeDirectories.sort((a, b) => a.slot - b.slot)
  if (codeDirectories[0]?.slot !== SlotType.codeDirectory) {
    throw new FormatError(
      // Stryker disable next-line StringLiteral: readSignedSlice turns this error into a finding by its message alone; the code is never read
      'signature.no-code-directory',
      `${where}: the signature has no CodeDirectory in slot 0`,
    )
  }
  const sig: SliceSignature = {superBlob, codeDirectories, requirementTexts: []}
  const req = bySlot.get(SlotType.requirements)
  if (req) {
    sig.requirements = req
    if (req.magic === BlobMagic.requirementSet) sig.requirementTexts = parseRequirementSet(req.blob)
  }
  const ent = bySlot.get(SlotType.entitlements)
  if (ent) sig.entitlements = {blob: ent, dict: parseEntitlementsBlob(ent.blob)}
  const der = bySlot.get(SlotType.derEntitlements)
  if (der) sig.derEntitlements = {blob: der, dict: parseDerEntitlementsBlob(der.blob)}
  const cms = bySlot.get(SlotType.signature)
  if (cms) sig.cms = blobPayload(cms)
  return sig
}

