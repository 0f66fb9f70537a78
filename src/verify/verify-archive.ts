import {isFormatError} from '../formats/format-error.js'
import {type ArchiveMember, tarMembers, UNSAFE_MEMBER_PATH, zipMembers} from '../io/archive-members.js'
import {DEFAULT_ARCHIVE_LIMITS, type ArchiveLimits} from '../payload/archive-limits.js'
import {finding, type Finding} from './finding.js'
import type {ContainedItemReport} from './package-report.js'
import {scanPayload} from './package-payload.js'
import type {VerifyReport} from './report.js'

export type ArchiveFormat = 'zip' | 'tar'

/** ditto -c -k --sequesterRsrc puts each file's extended attributes in an AppleDouble file under this folder. */
const SEQUESTERED = '__MACOSX'

/**
 * A member named with an absolute path or '..' is no damage: the archive was built from the wrong
 * place or by hand, and unpacking it would write outside its folder (esdctl install refuses it too).
 */
const UNSAFE_MEMBER = "Build the archive from the bundle's own folder, so that every member name is relative and holds no '..' (ditto -c -k --keepParent <name>.app <name>.zip, or tar -czf <name>.tar.gz <name>.app)."

/** archive.malformed's catalogue fix rebuilds a .zip with ditto; a damaged tarball is rebuilt as one. */
const REBUILD_TARBALL = 'The archive is damaged (a truncated download or a changed byte): download or build it again (tar -czf <name>.tar.gz <name>.app).'

/**
 * Verifies every code item inside a .zip or a (gzip'd) tarball, as `verifyFolder` does for a folder:
 * each outermost bundle, each Mach-O file outside a bundle and each flat `.pkg` and `.provisionprofile`
 * (by name, as in a folder), with the on-disk verifier
 * `verifyItem`, one item at a time copied to a private temporary folder and removed (package-payload.ts).
 * The archive is neither extracted nor held in memory, and it is bounded (payload/archive-limits.ts):
 * claiming or inflating past a bound is `archive.too-large`, damage `archive.malformed`.
 * `__MACOSX/` members are AppleDouble files (extended attributes, resource forks), not code: they are
 * counted in an info finding and not checked. Never throws for bad input.
 */
export async function verifyArchive(path: string, format: ArchiveFormat, verifyItem: (path: string) => Promise<VerifyReport>, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS): Promise<{findings: Finding[]; items: ContainedItemReport[]}> {
  let sequestered = 0
  async function* code(members: AsyncIterable<ArchiveMember>): AsyncGenerator<ArchiveMember> {
    for await (const m of members) {
      if (m.path === SEQUESTERED || m.path.startsWith(`${SEQUESTERED}/`)) {
        if (m.kind === 'file') sequestered++
        continue
      }
      yield m
    }
  }
  const members = format === 'zip' ? zipMembers(path, limits) : tarMembers(path, limits)
  let scanned: {findings: Finding[]; items: ContainedItemReport[]}
  try {
    scanned = await scanPayload(code(members), {pkgPath: path, prefix: '', verifyItem, uncheckedId: 'archive.item-unchecked', namedItems: true})
  } catch (e) {
    if (!isFormatError(e)) throw e
    const id = e.code.endsWith('too-large') ? 'archive.too-large' : 'archive.malformed'
    const message = e.message.startsWith(path) ? e.message : `${path}: ${e.message}`
    const fix = e.code === UNSAFE_MEMBER_PATH ? UNSAFE_MEMBER : id === 'archive.malformed' && format === 'tar' ? REBUILD_TARBALL : undefined
    return {findings: [finding(id, path, message, fix)], items: []}
  }
  const findings = [...scanned.items.flatMap(i => i.findings), ...scanned.findings]
  if (sequestered > 0) {
    findings.push(finding('archive.apple-double', path, `${path}: ${sequestered} AppleDouble file${sequestered === 1 ? '' : 's'} under ${SEQUESTERED}/ carry extended attributes and resource forks (ditto --sequesterRsrc); they are not code and esdctl does not check them`))
  }
  if (scanned.items.length === 0) {
    findings.push(finding('input.unknown-kind', path, `${path}: an archive with no app-like bundle, no Mach-O file, no .pkg and no .provisionprofile in it`, 'Point esdctl at an archive, folder or package that holds the .app, executable, .pkg or .provisionprofile.'))
  }
  return {findings, items: scanned.items}
}
