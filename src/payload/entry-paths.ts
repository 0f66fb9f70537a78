import {FormatError} from '../formats/format-error.js'
import type {ArchiveLimits} from './archive-limits.js'

/** How a refusal of an archive entry ends. */
export const ARCHIVE_REFUSAL_TAIL = 'the payload archive was refused and nothing was extracted'

/** How a refusal of an entry of a payload directory ends: what to do, and that nothing changed. */
export const DIRECTORY_REFUSAL_TAIL =
  'replace the link with the file or directory it points to (or with a relative link that stays inside the payload) and build the payload again; the payload was refused and nothing was installed'

export function entryRefusal(code: string, archive: string, entry: string, why: string, tail = ARCHIVE_REFUSAL_TAIL): FormatError {
  return new FormatError(code, `${archive}: entry ${JSON.stringify(entry)} ${why}; ${tail}`)
}

/**
 * The segments of an entry's path relative to the payload root. Absolute paths and `..` are
 * refused rather than stripped: an archive that contains them was not made by a normal build.
 * An empty list means the root itself (`./`).
 */
export function entrySegments(raw: string, archive: string, limits: ArchiveLimits): string[] {
  if (Buffer.byteLength(raw, 'utf8') > limits.maxPathBytes) throw entryRefusal('payload.path-too-long', archive, raw.slice(0, 80), `has a path longer than ${limits.maxPathBytes} bytes`)
  if (raw.includes('\0')) throw entryRefusal('payload.bad-path', archive, raw, 'has a NUL byte in its path')
  if (raw.startsWith('/')) throw entryRefusal('payload.absolute-path', archive, raw, 'has an absolute path')
  const segments = raw.split('/').filter(s => s !== '' && s !== '.')
  if (segments.includes('..')) throw entryRefusal('payload.path-traversal', archive, raw, "has a '..' segment in its path")
  if (segments.length > limits.maxDepth) throw entryRefusal('payload.too-deep', archive, raw, `is nested more than ${limits.maxDepth} directories deep`)
  return segments
}

/**
 * Checks a symbolic link's target stays inside the payload. Only leading `..` segments are
 * accepted: a `..` after a name would be resolved by the kernel relative to wherever that name
 * (possibly itself a link) points, which a textual check cannot predict. The one rule for both
 * payload forms: the extractor applies it to archive entries, the payload walk (set-id-bits.ts)
 * to the links of a payload directory, with `tail` saying how the refusal ends.
 */
export function checkSymlinkTarget(target: string, entry: string, entryDepth: number, archive: string, limits: ArchiveLimits, tail = ARCHIVE_REFUSAL_TAIL): void {
  if (target === '') throw entryRefusal('payload.bad-link', archive, entry, 'is a symbolic link with an empty target', tail)
  if (Buffer.byteLength(target, 'utf8') > limits.maxPathBytes) throw entryRefusal('payload.path-too-long', archive, entry, `is a symbolic link whose target is longer than ${limits.maxPathBytes} bytes`, tail)
  if (target.includes('\0')) throw entryRefusal('payload.bad-link', archive, entry, 'is a symbolic link whose target has a NUL byte', tail)
  if (target.startsWith('/')) throw entryRefusal('payload.link-escape', archive, entry, `is a symbolic link to the absolute path ${JSON.stringify(target)}, outside the payload`, tail)
  const segments = target.split('/').filter(s => s !== '' && s !== '.')
  const ups = segments.findIndex(s => s !== '..')
  const leadingUps = ups < 0 ? segments.length : ups
  if (segments.slice(leadingUps).includes('..')) {
    throw entryRefusal('payload.link-escape', archive, entry, `is a symbolic link to ${JSON.stringify(target)}, which has '..' after a name; write the target without it`, tail)
  }
  // The link lives in a directory `entryDepth - 1` levels below the root.
  if (leadingUps > entryDepth - 1) {
    throw entryRefusal('payload.link-escape', archive, entry, `is a symbolic link to ${JSON.stringify(target)}, which leaves the payload`, tail)
  }
}
