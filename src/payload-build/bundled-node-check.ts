import type {SliceReport} from '../verify/report.js'
import {verifyPath} from '../verify/verify-path.js'
import {MACHO_ARCH, NODE_TEAM_ID, type DarwinArch} from './esdctl-dist-layout.js'

/**
 * Problems (empty when none) that stop a file from being the Node a self-contained esdctl ships:
 * it must pass `esdctl verify` (every slice's pages, the CMS signature, the chain to Apple's roots)
 * and every slice must be signed with a Developer ID certificate of the Node.js Foundation's team.
 * It must also hold code for `arch`, the processor the build is for.
 * A registry tarball's integrity hash says the bytes are the ones published; this says who made them.
 */
export async function bundledNodeProblems(path: string, arch: DarwinArch): Promise<string[]> {
  const report = await verifyPath(path)
  const problems = report.findings.filter(f => f.severity === 'error').map(f => `${f.message} [${f.id}]`)
  if (report.kind !== 'macho') problems.push(`is not a Mach-O executable (${report.kind})`)
  if (report.slices.length === 0 && report.kind === 'macho') problems.push('has no signed slice')
  if (report.kind === 'macho' && !report.slices.some(s => s.arch === MACHO_ARCH[arch])) problems.push(`holds ${report.slices.map(s => s.arch).join(', ') || 'no'} code, not ${MACHO_ARCH[arch]} (${arch})`)
  for (const slice of report.slices) {
    if (!isNodeFoundation(slice)) problems.push(`${slice.arch}: signed by ${slice.signerName ?? slice.signer} (team ${slice.teamId ?? 'none'}), not by the Node.js Foundation's Developer ID (team ${NODE_TEAM_ID})`)
  }
  return problems
}

function isNodeFoundation(slice: SliceReport): boolean {
  return slice.signer === 'developer-id' && slice.teamId === NODE_TEAM_ID && (slice.signerName ?? '').endsWith(`(${NODE_TEAM_ID})`)
}
