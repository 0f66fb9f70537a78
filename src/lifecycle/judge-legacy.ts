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

/**
 * Whether the legacy install in the rollback slot may run again (DESIGN.md §8: code esdctl starts as
 * root is checked, not trusted; never leave a broken daemon). Each file the rollback will put back
 * (`restore`, paths relative to the slot) must be one adoption recorded in the receipt, still a
 * regular file owned by root and writable only by root, with the recorded SHA-256; and a Mach-O
 * executable must pass the verifier as any bare binary does (every slice's signature; a restricted
 * entitlement without a profile is fatal). A script has no code signature: its recorded bytes are
 * what vouches for it. Returns the findings (empty when it may run). Reads only.
 */
export async function judgeLegacy(ctx: LifecycleContext, fs: RootFs, layout: PrefixLayout, record: InstallRecord, restore: readonly string[]): Promise<Finding[]> {
  const slot = layout.rollbackSlot
  if (record.adopted === undefined) {
    return [finding('rollback.legacy-not-recorded', layout.receipt, `${layout.receipt} records no files of the legacy install in ${slot} (the adoption was made by an esdctl that did not record them), so nothing shows they are still what was adopted`)]
  }
  const findings: Finding[] = []
  const recorded = new Map(record.adopted.files.map((f) => [f.path, f.sha256]))
  for (const path of restore) {
    const full = join(slot, path)
    const expected = recorded.get(path)
    const stat = await fs.lstat(full)
    const changed = (why: string): number => findings.push(finding('rollback.legacy-changed', full, `${full} ${why}, so it is not the legacy file adopted into the rollback slot`))
    if (expected === undefined) changed(`was not recorded at adoption (${layout.receipt} lists ${[...recorded.keys()].join(', ')})`)
    else if (stat === undefined || !stat.isFile()) changed(stat === undefined ? 'is missing' : 'is no longer a regular file')
    else if (stat.uid !== 0 || (stat.mode & 0o022) !== 0) changed(`is now owned by uid ${stat.uid} with mode ${(stat.mode & 0o7777).toString(8)}, not root-owned and writable only by root as adopted`)
    else {
      const actual = await fs.sha256(full)
      if (actual !== expected) changed(`has SHA-256 ${actual}; adoption recorded ${expected}`)
    }
  }
  const executable = join(slot, 'legacy', 'bin', layout.name)
  if (findings.length > 0 || !restore.includes(join('legacy', 'bin', layout.name))) return findings
  const report = await verifyPath(executable, ctx.verifyOptions)
  return report.kind === 'macho' ? report.findings.filter((f) => f.severity === 'error') : []
}

/** The slot-relative paths a rollback to the legacy install puts back: the executable and each job's kept plist. */
export function legacyRestorePaths(layout: PrefixLayout, labels: readonly string[]): string[] {
  return [join('legacy', 'bin', layout.name), ...labels.map((l) => slotPath(layout, l))]
}
