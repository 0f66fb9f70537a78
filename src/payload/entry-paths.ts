import {FormatError} from '../formats/format-error.js'
import type {ArchiveLimits} from './archive-limits.js'

export function entryRefusal(code: string, archive: string, entry: string, why: string): FormatError {
  return new FormatError(code, `${archive}: entry ${JSON.stringify(entry)} ${why}; the payload archive was refused and nothing was extracted`)
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
 * (possibly itself a link) points, which a textual check cannot predict.
 */
export function checkSymlinkTarget(target: string, entry: string, entryDepth: number, archive: string, limits: ArchiveLimits): void {
  if (target === '') throw entryRefusal('payload.bad-link', archive, entry, 'is a symbolic link with an empty target')
  if (Buffer.byteLength(target, 'utf8') > limits.maxPathBytes) throw entryRefusal('payload.path-too-long', archive, entry, `is a symbolic link whose target is longer than ${limits.maxPathBytes} bytes`)
  if (target.includes('\0')) throw entryRefusal('payload.bad-link', archive, entry, 'is a symbolic link whose target has a NUL byte')
  if (target.startsWith('/')) throw entryRefusal('payload.link-escape', archive, entry, `is a symbolic link to the absolute path ${JSON.stringify(target)}, outside the payload`)
  const segments = target.split('/').filter(s => s !== '' && s !== '.')
  const ups = segments.findIndex(s => s !== '..')
  const leadingUps = ups < 0 ? segments.length : ups
  if (segments.slice(leadingUps).includes('..')) {
    throw entryRefusal('payload.link-escape', archive, entry, `is a symbolic link to ${JSON.stringify(target)}, which has '..' after a name; write the target without it`)
  }
  // The link lives in a directory `entryDepth - 1` levels below the root.
  if (leadingUps > entryDepth - 1) {
    throw entryRefusal('payload.link-escape', archive, entry, `is a symbolic link to ${JSON.stringify(target)}, which leaves the payload`)
  }
}
