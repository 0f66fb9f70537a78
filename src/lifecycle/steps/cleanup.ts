import {join} from 'node:path'
import type {Cleanup} from '../plan.js'
import type {StepEnv} from './step-env.js'

/** Runs one cleanup of a finished or undone plan; each kind is idempotent, so a crash mid-way is finished by the next run. */
export async function runCleanup({ctx, fs}: StepEnv, cleanup: Cleanup): Promise<void> {
  switch (cleanup.kind) {
    case 'remove-tree':
      return fs.removeTree(cleanup.path)
    case 'remove-empty-dir':
      await fs.removeEmptyDir(cleanup.path)
      return
    case 'purge-prefix':
      // The state directory (with the journal) goes last, so a crash mid-purge is finished by the next run.
      for (const entry of await fs.list(cleanup.prefix)) {
        const path = join(cleanup.prefix, entry)
        if (path !== cleanup.keep) await fs.removeTree(path)
      }
      return fs.removeTree(cleanup.prefix)
    case 'remove-created-dirs': {
      // Outside the daemon's own paths (e.g. /opt): allowed only these directories, each only when empty.
      const created = ctx.fs.restrictedTo(cleanup.dirs)
      for (const dir of [...cleanup.dirs].reverse()) await created.removeEmptyDir(dir)
    }
  }
}
