import type {SliceReport} from '../verify/report.js'

/** Apple's markers: the Developer ID CA (intermediate) and the Developer ID Application leaf. */
const DEVELOPER_ID_CA_MARKER = '1.2.840.113635.100.6.2.6'
const DEVELOPER_ID_LEAF_MARKER = '1.2.840.113635.100.6.1.13'
const TEAM_ID = /^[A-Z0-9]{10}$/

/** Why no grant can be made; the message names the file (when known) and says what to do. */
export class RequirementError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'RequirementError'
  }
}

const SIGN_WITH_DEVELOPER_ID = 'Sign it with your team\'s "Developer ID Application" certificate: `esdctl bundle --executable <daemon> --profile <Developer ID profile> --bundle-id <id> --version <v> --identity "Developer ID Application: …" --out <dir>` builds and signs the bundle; then run esdctl pppc on it again'

/** The requirement a PPPC grant is keyed to, and where it came from. */
export interface DerivedRequirement {
  identifier: string
  teamId: string
  requirement: string
  source: 'designated-requirement' | 'developer-id-markers'
}

/**
 * The code requirement for a Full Disk Access grant, from the signature itself: the designated
 * requirement each slice embeds, or, for a slice that embeds none, the one codesign derives for
 * Developer ID code — identifier, Apple anchor, both Developer ID markers, leaf OU = team. Slices
 * of a universal file may be signed under different identifiers (real ones are); TCC checks the
 * slice that runs, so their requirements are joined with `or`. They must share one team. Ad-hoc
 * and unsigned code has no stable identity to grant anything to.
 */
export function deriveRequirement(slices: readonly SliceReport[], path?: string): DerivedRequirement {
  const where = path === undefined ? '' : `${path}: `
  const signed = slices.filter((s) => s.identifier !== undefined)
  if (signed.length === 0) throw new RequirementError(`${where}the code is not signed: there is no identity to grant Full Disk Access to. ${SIGN_WITH_DEVELOPER_ID}.`)
  // Ad-hoc first: such code has no team id either, and "no team id" would not say why or what to do.
  const adhoc = signed.find((s) => s.signer === 'adhoc' || s.signer === 'unsigned')
  if (adhoc) {
    throw new RequirementError(`${where}the ${adhoc.arch} slice is ad-hoc signed (no certificate, no team id${adhoc.flags.includes('linker-signed') ? '; signed by the linker' : ''}): a Full Disk Access grant could only be tied to its code hash, which changes with every build, so the grant would stop matching at the next update. ${SIGN_WITH_DEVELOPER_ID}.`)
  }
  const first = signed[0]!
  const teamId = first.teamId
  if (teamId === undefined || !TEAM_ID.test(teamId)) throw new RequirementError(`${where}the signature carries no team id${teamId ? ` (found ${JSON.stringify(teamId)})` : ''}, so no grant can name the team. ${SIGN_WITH_DEVELOPER_ID}.`)
  const requirements: string[] = []
  for (const s of signed) {
    if (s.teamId !== teamId) throw new RequirementError(`${where}the slices are signed by different teams (${first.arch}: ${teamId}, ${s.arch}: ${s.teamId}): one grant cannot cover both`)
    const requirement = s.designatedRequirement ?? developerIdRequirement(s, where)
    if (!requirements.includes(requirement)) requirements.push(requirement)
  }
  return {
    identifier: first.identifier!,
    teamId,
    requirement: requirements.length === 1 ? requirements[0]! : requirements.map((r) => `(${r})`).join(' or '),
    source: signed.every((s) => s.designatedRequirement !== undefined) ? 'designated-requirement' : 'developer-id-markers',
  }
}

function developerIdRequirement(slice: SliceReport, where: string): string {
  if (slice.signer !== 'developer-id') {
    throw new RequirementError(`${where}the ${slice.arch} slice embeds no designated requirement and is signed by a ${slice.signer} certificate, not a Developer ID: sign with "Developer ID Application" (codesign embeds the requirement)`)
  }
  return (
    `identifier ${quoteIdentifier(slice.identifier!)} and anchor apple generic and certificate 1[field.${DEVELOPER_ID_CA_MARKER}] /* exists */ ` +
    `and certificate leaf[field.${DEVELOPER_ID_LEAF_MARKER}] /* exists */ and certificate leaf[subject.OU] = ${slice.teamId}`
  )
}

/** Requirement-language string literal. */
function quoteIdentifier(identifier: string): string {
  return `"${identifier.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
}
