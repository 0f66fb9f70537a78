import type {RootFs} from '../adapters/root-fs.js'
import {hasErrorCode} from '../io/error-code.js'
import {isValidName} from '../layout/names.js'
import {PrefixLayout} from '../layout/prefix-layout.js'
import {inspectInstallRecordAt} from './install-record.js'
import type {RegistryEntry} from './registry.js'

/**
 * The registry as the disk tells it: one entry per `/opt/<name>/.esdctl/receipt.json` (rebased on
 * `root`) that is a sound install record of `<name>`. A damaged receipt is left out (its own
 * daemon's next run repairs it and adds the entry back), and so is one only root may read;
 * `skipped` says which. Rethrows other I/O errors.
 */
export async function registryFromReceipts(fs: RootFs, root: string): Promise<{entries: RegistryEntry[]; skipped: string[]}> {
  const opt = new PrefixLayout({name: 'esdctl-lookup', label: 'esdctl.lookup', root}).prefix.replace(/\/[^/]+$/, '')
  const entries: RegistryEntry[] = []
  const skipped: string[] = []
  for (const name of await fs.list(opt)) {
    if (!isValidName(name)) continue
    const layout = new PrefixLayout({name, label: 'esdctl.lookup', root})
    const read = await inspectInstallRecordAt(layout.receipt, fs).catch((e: unknown) => {
      // A reader without root (status, doctor) meets esdctl's root-only state directory: not damage, and no reason to stop.
      if (hasErrorCode(e) && (e.code === 'EACCES' || e.code === 'EPERM')) return {state: 'needs-root'} as const
      throw e
    })
    if (read.state === 'needs-root') {
      skipped.push(`${layout.receipt} (readable only by root)`)
      continue
    }
    if (read.state === 'ok' && read.value.name === name) entries.push({name, label: read.value.label, prefix: layout.system.prefix})
    else if (read.state !== 'absent') skipped.push(`${layout.receipt} (${read.state === 'damaged' ? read.problem : `names ${read.value.name}`})`)
  }
  return {entries, skipped}
}
