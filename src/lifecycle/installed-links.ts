import type {RootFs} from '../adapters/root-fs.js'
import type {PlacedLink} from '../layout/daemon-links.js'
import {PrefixLayout} from '../layout/prefix-layout.js'
import {readInstallRecordAt} from '../records/install-record.js'
import type {LifecycleContext} from './context.js'
import {LifecycleError, StepFailure} from './lifecycle-error.js'
import {currentLinkStates, type LinkState} from './link-states.js'

/**
 * The links the installed version (and the one in the rollback slot) maintain, which this run may
 * have to remove: read before the session so its file-system guard allows them. A damaged record
 * gives none here; the session itself reads the record again and refuses it properly.
 */
export async function installedLinks(ctx: LifecycleContext, layout: PrefixLayout): Promise<PlacedLink[]> {
  const links: PlacedLink[] = []
  for (const path of [layout.receipt, layout.slotReceipt]) {
    try {
      const record = await readInstallRecordAt(path, ctx.fs)
      if (record !== undefined) links.push(...PrefixLayout.ofRecord(record, ctx.root).links)
    } catch {
      // Refused properly once the session reads it.
    }
  }
  return links
}

/** What the links hold now; a file or directory where a link belongs is an unsafe environment, refused before the journal opens. */
export async function linkStatesOrRefuse(fs: RootFs, links: readonly PlacedLink[]): Promise<LinkState[]> {
  try {
    return await currentLinkStates(fs, links.map((l) => l.path))
  } catch (e) {
    if (e instanceof StepFailure) throw new LifecycleError(e.exitCode, e.message)
    throw e
  }
}
