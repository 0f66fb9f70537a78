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
 * Run under the lock before any other work of a mutating command: every damaged record of this
 * daemon and the registry is moved aside (`*.damaged-<time>`, root-only) and rebuilt from disk —
 * the receipt and the rollback slot's receipt from their bundle and plist, the registry from the
 * receipts under /opt. Returns what was done, in words, for the result's `recovered`.
 *
 * Throws LifecycleError(badInput) naming the file, why it cannot be rebuilt and the command that
 * recovers, when the receipt cannot be rebuilt and `action` needs it (install and uninstall do not:
 * without a receipt they install over, or remove, what is there), or the slot's cannot be and
 * `action` is rollback. The move aside has happened by then; nothing else has changed.
 */
export async function repairRecords(ctx: LifecycleContext, fs: RootFs, layout: PrefixLayout, tool: ToolPaths, action: string): Promise<string[]> {
  const notes: string[] = []
  const now = ctx.clock.now()
  for (const where of ['current', 'slot'] as const) {
    const path = where === 'current' ? layout.receipt : layout.slotReceipt
    const read = await inspectInstallRecordAt(path, fs)
    if (read.state !== 'damaged') continue
    const aside = await moveAside(fs, path, now, where === 'current' ? path : join(layout.stateDir, 'previous-receipt.json'))
    const rebuilt = await rebuildInstallRecord(fs, layout, where, now, ctx.verifyOptions)
    const what = `${path} was damaged (${read.problem}) and was moved aside to ${aside}`
    if ('record' in rebuilt) {
      await fs.writeFileAtomic(path, serializeInstallRecord(rebuilt.record), RECORD_MODE)
      notes.push(`${what}; it was rebuilt from the ${where === 'current' ? 'installed bundle, launchd plist and bin link' : "rollback slot's bundle and plist"} (version ${rebuilt.record.version})`)
      continue
    }
    if (where === 'current' && action !== 'install' && action !== 'uninstall') {
      throw new LifecycleError(ExitCode.badInput, `${what}, but it cannot be rebuilt from disk: ${rebuilt.why}; ${reinstallHint(layout)}`, [path, aside])
    }
    if (where === 'slot' && action === 'rollback') {
      throw new LifecycleError(ExitCode.badInput, `${what}, but it cannot be rebuilt from disk: ${rebuilt.why}; there is no previous version to roll back to until the next \`${esdctlCommand('upgrade', 'PAYLOAD', layout.root)}\` fills the slot again`, [path, aside])
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
