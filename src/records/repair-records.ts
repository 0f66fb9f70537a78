import {esdctlCommand} from '../render/esdctl-command.js'
import {join} from 'node:path'
import type {RootFs} from '../adapters/root-fs.js'
import {ExitCode} from '../exit-codes.js'
import type {PrefixLayout, ToolPaths} from '../layout/prefix-layout.js'
import type {LifecycleContext} from '../lifecycle/context.js'
import {LifecycleError} from '../lifecycle/lifecycle-error.js'
import {inspectInstallRecordAt, RECORD_MODE, serializeInstallRecord} from './install-record.js'
import {moveAside} from './move-aside.js'
import {rebuildInstallRecord} from './rebuild-receipt.js'
import {registryFromReceipts} from './rebuild-registry.js'
import {inspectRegistry, REGISTRY_MODE, serializeRegistry} from './registry.js'

/** The damaged records a run would repair: `[path, problem]`. Reads only (dry runs, doctor). */
export async function damagedRecords(fs: RootFs, layout: PrefixLayout, root: string): Promise<[string, string][]> {
  const found: [string, string][] = []
  for (const read of [await inspectInstallRecordAt(layout.receipt, fs), await inspectInstallRecordAt(layout.slotReceipt, fs), await inspectRegistry(root, fs)]) {
    if (read.state === 'damaged') found.push([read.path, read.problem])
  }
  return found
}

function reinstallHint(layout: PrefixLayout): string {
  return `recover with \`${esdctlCommand('install', 'PAYLOAD', layout.root)}\` (installs ${layout.name} again over what is there; etc/ and var/ are kept) or \`${esdctlCommand('uninstall', layout.name, layout.root)}\``
}

/**
 * Why `action` cannot go on without the record at `where` that could not be rebuilt, with the
 * command that recovers; undefined when it can (uninstall removes what is there; install installs
 * over it unless the label's launchd plist is still there, which a first install refuses to take
 * over (unmanaged-job.ts): moving the record aside would then only start a reinstall loop).
 */
async function refusalForUnrebuilt(fs: RootFs, layout: PrefixLayout, where: 'current' | 'slot', action: string): Promise<string | undefined> {
  if (where === 'slot') {
    return action === 'rollback' ? `there is no previous version to roll back to until the next \`${esdctlCommand('upgrade', 'PAYLOAD', layout.root)}\` fills the slot again (which replaces it)` : undefined
  }
  if (action === 'uninstall') return undefined
  const plistThere = (await fs.lstat(layout.launchdPlist)) !== undefined
  if (action === 'install' && !plistThere) return undefined
  // With the label's plist still there, install would refuse to take it over: only uninstall clears the way.
  return plistThere
    ? `recover with \`${esdctlCommand('uninstall', layout.name, layout.root)}\` (it removes what is there and moves the damaged record aside; etc/ and var/ are kept), then \`${esdctlCommand('install', 'PAYLOAD', layout.root)}\``
    : reinstallHint(layout)
}

/**
 * Run under the lock before any other work of a mutating command: every damaged record of this
 * daemon and the registry is moved aside (`*.damaged-<time>`, root-only) and rebuilt from disk —
 * the receipt and the rollback slot's receipt from their bundle and plist, the registry from the
 * receipts under /opt. Returns what was done, in words, for the result's `recovered`.
 *
 * Throws LifecycleError(badInput) naming the file, why it cannot be rebuilt and the command that
 * recovers, when the receipt cannot be rebuilt and `action` needs it (uninstall does not, nor does
 * install unless the label's plist is still there: refusalForUnrebuilt), or the slot's cannot be and
 * `action` is rollback. The record is then left in place: nothing has changed.
 */
export async function repairRecords(ctx: LifecycleContext, fs: RootFs, layout: PrefixLayout, tool: ToolPaths, action: string): Promise<string[]> {
  const notes: string[] = []
  const now = ctx.clock.now()
  for (const where of ['current', 'slot'] as const) {
    const path = where === 'current' ? layout.receipt : layout.slotReceipt
    const read = await inspectInstallRecordAt(path, fs)
    if (read.state !== 'damaged') continue
    // Rebuilt before anything moves: a record that cannot be rebuilt and is needed stays where it is, so a refusal changes nothing.
    const rebuilt = await rebuildInstallRecord(fs, layout, where, now, ctx.verifyOptions)
    const damaged = `${path} is damaged (${read.problem})`
    if (!('record' in rebuilt)) {
      const refusal = await refusalForUnrebuilt(fs, layout, where, action)
      if (refusal !== undefined) throw new LifecycleError(ExitCode.badInput, `${damaged} and cannot be rebuilt from disk: ${rebuilt.why}. It was left in place and nothing was changed; ${refusal}`, [path])
    }
    const aside = await moveAside(fs, path, now, where === 'current' ? path : join(layout.stateDir, 'previous-receipt.json'))
    const what = `${path} was damaged (${read.problem}) and was moved aside to ${aside}`
    if ('record' in rebuilt) {
      await fs.writeFileAtomic(path, serializeInstallRecord(rebuilt.record), RECORD_MODE)
      notes.push(`${what}; it was rebuilt from the ${where === 'current' ? 'installed bundle, launchd plist and links' : "rollback slot's bundle and plist"} (version ${rebuilt.record.version})`)
      continue
    }
    notes.push(`${what}; it cannot be rebuilt from disk (${rebuilt.why}), so ${where === 'current' ? `this ${action} goes ahead as if ${layout.name} had no record` : 'the rollback slot is unusable until the next upgrade'}`)
  }
  const registry = await inspectRegistry(ctx.root, fs)
  if (registry.state === 'damaged') {
    const aside = await moveAside(fs, registry.path, now)
    const {entries, skipped} = await registryFromReceipts(fs, ctx.root)
    if (entries.length > 0) await fs.writeFileAtomic(tool.registry, serializeRegistry(entries), REGISTRY_MODE)
    notes.push(`${registry.path} was damaged (${registry.problem}) and was moved aside to ${aside}; it was rebuilt from the install records under /opt (${entries.length} daemon${entries.length === 1 ? '' : 's'}${skipped.length ? `; left out, damaged: ${skipped.join(', ')}` : ''})`)
  }
  return notes
}
