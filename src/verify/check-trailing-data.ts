import type {FileLayout} from '../formats/macho.js'
import {finding, type Finding} from './finding.js'
import type {VerifiedSlice} from './verify-binary.js'

const WHY = 'no signature covers them: anyone can change or append them without breaking the signature (a place to hide a payload), and codesign --verify --strict refuses such a file ("main executable failed strict validation"), as Gatekeeper and notarization do'
const FIX = 'Ship the file exactly as the linker and codesign wrote it: re-sign the original build output, and keep extra data in a separate file (inside a bundle, under Contents/Resources, where the seal covers it).'

/**
 * Bytes that belong to no signed image. Apple's strict validation (libsecurity_utilities, MachO and
 * Universal) wants each image to end where its last load command's data ends — for signed code, the
 * end of the LC_CODE_SIGNATURE data — and nothing after the last slice of a universal file.
 * `fileSize` in bytes; slices without a readable signature are judged elsewhere.
 */
export function checkTrailingData(displayPath: string, fileSize: number, layout: FileLayout, slices: VerifiedSlice[]): Finding[] {
  const out: Finding[] = []
  for (const s of slices) {
    const sig = s.slice?.image.codeSignature
    if (!s.slice || !sig) continue
    const end = sig.dataOffset + sig.dataSize
    const {location} = s.slice
    if (end < location.size) {
      const from = location.offset + end
      out.push(finding('binary.trailing-data', displayPath,
        `${displayPath}${layout.kind === 'universal' ? ` [${location.arch}]` : ''}: ${location.size - end} bytes follow the code signature (file bytes ${from}–${location.offset + location.size - 1}); ${WHY}`, FIX))
    }
  }
  // Only a universal file can have bytes after its last slice: a thin file's one slice spans the
  // whole file (parseFileLayout), so there lastEnd is fileSize.
  const lastEnd = Math.max(...layout.slices.map(l => l.offset + l.size))
  if (fileSize > lastEnd) {
    out.push(finding('binary.trailing-data', displayPath,
      `${displayPath}: ${fileSize - lastEnd} bytes follow the last slice of the universal file (file bytes ${lastEnd}–${fileSize - 1}); ${WHY}`, FIX))
  }
  return out
}
