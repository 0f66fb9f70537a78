import {dirname} from 'node:path'
import {TEMP_SUFFIX, type RootFs} from '../adapters/root-fs.js'
import {ExitCode} from '../exit-codes.js'
import type {PlacedLink} from '../layout/daemon-links.js'
import {StepFailure} from './lifecycle-error.js'

/** What one link path held before a transaction touched it: the link's text, or null for nothing. */
export interface LinkState {
  /** Rebased path (where esdctl writes). */
  path: string
  text: string | null
  /** Whether the link's directory existed, so undo removes only a directory this transaction created. */
  dirExisted: boolean
}

/**
 * Reads what each path holds now, refusing (unsafe environment) a path that is a file or directory
 * rather than a link: esdctl replaces only links, never something else someone put there.
 */
export async function currentLinkStates(fs: RootFs, paths: readonly string[], opts: {movedAway?: string} = {}): Promise<LinkState[]> {
  const states: LinkState[] = []
  for (const path of [...new Set(paths)]) {
    // A legacy executable at a link's path is moved into the rollback slot before links are written.
    if (path === opts.movedAway) {
      states.push({path, text: null, dirExisted: true})
      continue
    }
    const stat = await fs.lstat(path)
    if (stat !== undefined && !stat.isSymbolicLink()) {
      throw new StepFailure(ExitCode.unsafeEnvironment, `${path} should be a link esdctl maintains but is a ${stat.isDirectory() ? 'directory' : 'file'}; esdctl replaces only links there. Move it away and run again`)
    }
    states.push({path, text: stat === undefined ? null : ((await fs.readLink(path)) ?? null), dirExisted: (await fs.lstat(dirname(path))) !== undefined})
  }
  return states
}

/** Sets one link path to `text` (one rename), or removes it for null. */
export async function setLink(fs: RootFs, path: string, text: string | null, dirMode: number): Promise<void> {
  await fs.removeTree(path + TEMP_SUFFIX)
  if (text === null) {
    await fs.removeTree(path)
    return
  }
  await fs.ensureParentDir(path, dirMode)
  await fs.symlinkAtomic(text, path)
}
