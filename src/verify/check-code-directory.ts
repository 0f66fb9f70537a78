import {codeSlotHashes, specialSlotHash, type CodeDirectory} from '../formats/code-directory.js'
import {digest} from '../formats/hash-type.js'
import {SlotType} from '../formats/superblob.js'
import {isFormatError} from '../formats/format-error.js'
import {findMismatchedPages, hashPages} from '../io/page-hasher.js'
import {finding, type Finding} from './finding.js'
import type {SignedSlice, SliceSignature} from './signed-slice.js'
import {sliceLabel} from './signed-slice.js'
import type {ResolvedVerifyOptions} from './verify-options.js'

/** Files outside the Mach-O that a bundle's signature binds through special slots. */
export interface BoundFiles {
  infoPlist?: {bytes: Buffer; path: string}
  codeResources?: {bytes: Buffer; path: string}
}

const RESIGN = 'Sign the file again (codesign --force --sign …) after the last change to it, and ship exactly the signed bytes.'

/**
 * Checks one CodeDirectory against the bytes it describes: every code page, and every special
 * slot whose subject is available. Each CodeDirectory of a slice is checked on its own, because
 * the kernel may pick any of them.
 */
export async function checkCodeDirectory(
  target: {path: string; display: string},
  slice: SignedSlice,
  sig: SliceSignature,
  entry: {slot: number; cd: CodeDirectory},
  bound: BoundFiles,
  opts: ResolvedVerifyOptions,
): Promise<Finding[]> {
  const {cd} = entry
  const filePath = target.display
  // Which CodeDirectory a problem affects is added by the caller, which merges the same problem across them.
  const where = sliceLabel(filePath, slice.location.arch)
  const out: Finding[] = []
  // Stryker disable next-line OptionalChaining: this runs only on a slice whose signature was read through its LC_CODE_SIGNATURE, so codeSignature is there
  const sigOffset = slice.image.codeSignature?.dataOffset ?? 0
  if (cd.codeLimit !== sigOffset) {
    out.push(finding('signature.code-limit', filePath,
      // Stryker disable next-line EqualityOperator: this text is chosen only when the two differ, where < and <= agree
      `${where}: the CodeDirectory covers ${cd.codeLimit} bytes but the signature starts at ${sigOffset}; ${cd.codeLimit < sigOffset ? 'the bytes in between are not protected' : 'it claims to cover its own signature'}`,
      RESIGN))
  } else {
    out.push(...await checkCodePages(target, where, slice, cd, opts))
  }
  out.push(...checkSpecialSlots(filePath, where, sig, cd, bound))
  return out
}

async function checkCodePages(target: {path: string; display: string}, where: string, slice: SignedSlice, cd: CodeDirectory, opts: ResolvedVerifyOptions): Promise<Finding[]> {
  const filePath = target.display
  let actual: Buffer
  try {
    actual = await hashPages({path: target.path, sliceOffset: slice.location.offset, codeLimit: cd.codeLimit, pageSize: cd.pageSize, hashType: cd.hashType}, opts.pageHashing)
  } catch (e) {
    if (!isFormatError(e)) throw e
    // The signature was read from this file and ends where the code does, so the pages can only
    // fail to read when the file changed in between: a problem with the input, not the signature.
    return [finding('input.unreadable', filePath, `${where}: the signed code pages could not be read, the file changed while esdctl read it (${e.message})`, 'Verify it again once nothing is writing to it.')]
  }
  const {count, first} = findMismatchedPages(actual, codeSlotHashes(cd), cd.hashSize, 5)
  if (count === 0) return []
  const page = cd.pageSize || cd.codeLimit
  const list = first.map(i => `page ${i} (bytes ${i * page}–${Math.min((i + 1) * page, cd.codeLimit) - 1})`).join(', ')
  return [finding('signature.code-modified', filePath,
    `${where}: ${count} of ${cd.nCodeSlots} code pages do not match their signed hashes: ${list}${count > first.length ? ', …' : ''}. The executable was changed after signing; macOS kills it at launch (Killed: 9).`,
    RESIGN)]
}

interface SlotSubjectBase {
  slot: number
  name: string
  bytes?: Buffer
}

/**
 * What a special slot binds. A blob inside the signature is judged wherever the signature is; a
 * file beside the executable (Info.plist, CodeResources) exists only in a bundle, so where it is
 * absent a bound hash is not judged here (the bundle checks report the missing file itself).
 */
type SlotSubject =
  | (SlotSubjectBase & {contextual: false; id: 'requirements' | 'entitlements' | 'der-entitlements'})
  | (SlotSubjectBase & {contextual: true; id: 'info-plist' | 'code-resources'})

function checkSpecialSlots(filePath: string, where: string, sig: SliceSignature, cd: CodeDirectory, bound: BoundFiles): Finding[] {
  const subjects: SlotSubject[] = [
    {slot: SlotType.infoPlist, name: 'Info.plist', id: 'info-plist', bytes: bound.infoPlist?.bytes, contextual: true},
    {slot: SlotType.requirements, name: 'requirements', id: 'requirements', bytes: sig.requirements?.blob, contextual: false},
    {slot: SlotType.resourceDir, name: 'CodeResources (the bundle seal)', id: 'code-resources', bytes: bound.codeResources?.bytes, contextual: true},
    {slot: SlotType.entitlements, name: 'entitlements', id: 'entitlements', bytes: sig.entitlements?.blob.blob, contextual: false},
    {slot: SlotType.derEntitlements, name: 'DER entitlements', id: 'der-entitlements', bytes: sig.derEntitlements?.blob.blob, contextual: false},
  ]
  const out: Finding[] = []
  for (const s of subjects) {
    const expected = specialSlotHash(cd, s.slot)
    if (s.bytes === undefined) {
      if (expected && !s.contextual) {
        out.push(finding(`signature.${s.id}-missing`, filePath, `${where}: the signature binds ${s.name} (special slot −${s.slot}) but the blob is absent`, RESIGN))
      }
      continue
    }
    if (!expected) {
      // Info.plist and CodeResources exist in a bundle; a signature that ignores them does not seal the bundle.
      if (s.contextual) {
        out.push(finding(`signature.${s.id}-unbound`, filePath, `${where}: the signature does not bind ${s.name} (special slot −${s.slot} is empty), so the bundle is not sealed`, 'Sign the whole bundle (codesign … path/to/<name>.app), not just the executable inside it.'))
      } else {
        out.push(finding(`signature.${s.id}-unbound`, filePath, `${where}: ${s.name} are present but not bound by the CodeDirectory (special slot −${s.slot} is empty)`, RESIGN))
      }
      continue
    }
    if (!digest(cd.hashType, s.bytes).equals(expected)) {
      const subjectPath = s.slot === SlotType.infoPlist ? bound.infoPlist!.path : s.slot === SlotType.resourceDir ? bound.codeResources!.path : filePath
      out.push(finding(`signature.${s.id}-modified`, subjectPath,
        `${where}: ${s.name} changed after signing (its hash no longer matches special slot −${s.slot}); macOS rejects the signature`,
        RESIGN))
    }
  }
  return out
}
