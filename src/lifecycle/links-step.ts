import {dirname} from 'node:path'
import {TEMP_SUFFIX, type RootFs} from '../adapters/root-fs.js'
import {ExitCode} from '../exit-codes.js'
import type {PlacedLink} from '../layout/daemon-links.js'
import {StepFailure} from './lifecycle-error.js'
import type {Step} from './transaction.js'

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

async function setLink(fs: RootFs, path: string, text: string | null, dirMode: number): Promise<void> {
  await fs.removeTree(path + TEMP_SUFFIX)
  if (text === null) {
    await fs.removeTree(path)
    return
  }
  await fs.ensureParentDir(path, dirMode)
  await fs.symlinkAtomic(text, path)
}

/**
 * Moves every link from the state in `before()` to `after()`: links of the new state are written
 * (each in one rename), links only the old state had are removed. Undo writes `before` back exactly,
 * so it is right however far `do` got. Directories it creates for links (bin/, /usr/local/bin) are
 * root:wheel 0755, as others must traverse them; empty ones it created are removed on undo.
 */
export function linksStep(fs: RootFs, id: string, title: string, before: () => LinkState[] | undefined, after: () => PlacedLink[]): Step {
  return {
    id,
    title,
    do: async () => {
      const wanted = new Map(after().map((l) => [l.path, l.text]))
      for (const state of before() ?? []) if (!wanted.has(state.path)) await setLink(fs, state.path, null, 0o755)
      for (const [path, text] of wanted) await setLink(fs, path, text, 0o755)
    },
    undo: async () => {
      const states = before()
      if (states === undefined) return
      for (const state of states) await setLink(fs, state.path, state.text, 0o755)
      // Only inside what esdctl may change (the prefix's bin/); a /usr/local/bin it created is a standard place and stays.
      for (const dir of new Set(states.filter((s) => !s.dirExisted).map((s) => dirname(s.path)))) if (fs.isAllowed(dir)) await fs.removeEmptyDir(dir)
    },
  }
}
