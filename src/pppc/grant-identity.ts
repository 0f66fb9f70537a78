import {join} from 'node:path'
import {isFormatError} from '../formats/format-error.js'
import {parsePropertyListDict} from '../formats/property-list.js'
import {readRegularFile} from '../io/regular-file.js'
import type {VerifyReport} from '../verify/report.js'
import {RequirementError, type DerivedRequirement} from './code-requirement.js'

const MAX_INFO_PLIST_BYTES = 1024 * 1024

/**
 * Refuses a grant the code at `report.path` does not earn, after its requirement is derived: a
 * signature the verifier rejects (an MDM grant keyed to it would name whoever signed the bytes, not
 * this bundle: a bundle laid out around someone else's signed executable keeps their identifier and
 * team), and, for a bundle, a signing identifier other than its CFBundleIdentifier (TCC's bundleID
 * grant would then be keyed to code that is not this bundle). Throws RequirementError (exit 4),
 * naming the path, the identity the signature carries and why.
 */
export async function refuseUnearnedGrant(report: VerifyReport, requirement: DerivedRequirement): Promise<void> {
  const identity = `identifier ${requirement.identifier}, team ${requirement.teamId}`
  const errors = report.findings.filter((f) => f.severity === 'error')
  if (errors.length > 0) {
    throw new RequirementError(`${report.path}: its signature (${identity}) does not verify, so a grant keyed to it would not be for this code: ${errors.map((f) => `${f.id}: ${f.message}`).join('; ')}. Sign the bundle (on a Mac, the sign.sh esdctl bundle wrote), check it with esdctl verify, then run esdctl pppc again.`)
  }
  if (report.kind !== 'bundle') return
  const infoPath = join(report.path, 'Contents', 'Info.plist')
  let bundleId: unknown
  try {
    const bytes = await readRegularFile(infoPath)
    if (bytes.length > MAX_INFO_PLIST_BYTES) throw new RequirementError(`${infoPath}: is ${bytes.length} bytes, more than an Info.plist can be`)
    bundleId = parsePropertyListDict(bytes, infoPath)['CFBundleIdentifier']
  } catch (e) {
    if (e instanceof RequirementError) throw e
    if (!isFormatError(e) && typeof (e as NodeJS.ErrnoException).code !== 'string') throw e
    throw new RequirementError(`${infoPath}: cannot be read (${(e as Error).message}); the grant's identifier must be the bundle's CFBundleIdentifier. Rebuild the bundle with esdctl bundle.`)
  }
  const other = report.slices.find((s) => s.identifier !== bundleId)
  if (other !== undefined) {
    throw new RequirementError(`${report.path}: the ${other.arch} slice is signed with identifier ${other.identifier ?? '(none)'} (team ${requirement.teamId}), but the bundle's CFBundleIdentifier is ${JSON.stringify(bundleId ?? null)}: a grant keyed to it would be for other code. Sign the bundle with its bundle id as the identifier (esdctl bundle does), then run esdctl pppc again.`)
  }
}
