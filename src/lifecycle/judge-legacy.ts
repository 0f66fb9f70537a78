import {join} from 'node:path'
import type {RootFs} from '../adapters/root-fs.js'
import type {PrefixLayout} from '../layout/prefix-layout.js'
import type {AdoptedFile, InstallRecord} from '../records/install-record.js'
import {finding, type Finding} from '../verify/finding.js'
import {verifyPath} from '../verify/verify-path.js'
import type {LegacyInstall} from './adopt-legacy.js'
import type {LifecycleContext} from './context.js'

/** Where, relative to the rollback slot, adoption keeps each legacy file (adopt-legacy.ts's legacyMoves, the plist step's copy). */
function slotPath(layout: PrefixLayout, label: string): string {
  return label === layout.label ? `${label}.plist` : join('legacy', `${label}.plist`)
}

/**
 * What adoption records of the legacy install it moves into the rollback slot (read in the prepare
 * phase, before anything moves): every file by its path in the slot and its SHA-256. The files are
 * root-owned and writable only by root (detectLegacy refuses anything else), and adoption moves
 * them by rename or copies them byte for byte, so these are the bytes the slot will hold.
 */
export async function adoptedFiles(fs: RootFs, layout: PrefixLayout, legacy: LegacyInstall): Promise<AdoptedFile[]> {
  const files: AdoptedFile[] = [{path: join('legacy', 'bin', layout.name), sha256: await fs.sha256(legacy.executable)}]
  for (const job of legacy.jobs) if (job.plist !== undefined) files.push({path: slotPath(layout, job.label), sha256: await fs.sha256(job.plist)})
  return files
}

/** A legacy file to judge: its path relative to the rollback slot, as adoption recorded it, and where it is now. */
export interface LegacyFileAt {
  recorded: string
  at: string
}

/**
 * Whether the legacy install may run again (DESIGN.md §8: code esdctl starts as root is checked,
 * not trusted; never leave a broken daemon). Each file a rollback puts back (`files`) must be one
 * adoption recorded in `record` (the receipt at `receipt`), still a regular file owned by root and
 * writable only by root, with the recorded SHA-256; and a Mach-O executable must pass the verifier
 * as any bare binary does (every slice's signature; a restricted entitlement without a profile is
 * fatal). A script has no code signature: its recorded bytes are what vouches for it. Returns the
 * findings (empty when it may run). Reads only.
 */
export async function judgeLegacy(ctx: LifecycleContext, fs: RootFs, layout: PrefixLayout, record: InstallRecord, files: readonly LegacyFileAt[], receipt = layout.receipt): Promise<Finding[]> {
  if (record.adopted === undefined) {
    return [finding('rollback.legacy-not-recorded', receipt, `${receipt} records no files of the legacy install kept in ${layout.rollbackSlot} (the adoption was made by an esdctl that did not record them), so nothing shows they are still what was adopted`)]
  }
  const findings: Finding[] = []
  const recorded = new Map(record.adopted.files.map((f) => [f.path, f.sha256]))
  for (const {recorded: path, at} of files) {
    const expected = recorded.get(path)
    const stat = await fs.lstat(at)
    const changed = (why: string): number => findings.push(finding('rollback.legacy-changed', at, `${at} ${why}, so it is not the legacy file adopted into the rollback slot`))
    if (expected === undefined) changed(`was not recorded at adoption (${receipt} lists ${[...recorded.keys()].join(', ')})`)
    else if (stat === undefined || !stat.isFile()) changed(stat === undefined ? 'is missing' : 'is no longer a regular file')
    else if (stat.uid !== 0 || (stat.mode & 0o022) !== 0) changed(`is now owned by uid ${stat.uid} with mode ${(stat.mode & 0o7777).toString(8)}, not root-owned and writable only by root as adopted`)
    else {
      const actual = await fs.sha256(at)
      if (actual !== expected) changed(`has SHA-256 ${actual}; adoption recorded ${expected}`)
    }
  }
  const executable = files.find((f) => f.recorded === join('legacy', 'bin', layout.name))
  if (findings.length > 0 || executable === undefined) return findings
  const report = await verifyPath(executable.at, ctx.verifyOptions)
  return report.kind === 'macho' ? report.findings.filter((f) => f.severity === 'error') : []
}

/** The files a rollback to the legacy install puts back, as they sit in the rollback slot: the executable and each job's kept plist. */
export function legacyFilesInSlot(layout: PrefixLayout, labels: readonly string[]): LegacyFileAt[] {
  return [join('legacy', 'bin', layout.name), ...labels.map((l) => slotPath(layout, l))].map((recorded) => ({recorded, at: join(layout.rollbackSlot, recorded)}))
}
