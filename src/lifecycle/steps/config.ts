import {dirname, join} from 'node:path'
import {TEMP_SUFFIX, type RootFs} from '../../adapters/root-fs.js'
import {doMoves, undoMoves} from '../moves.js'
import type {StepExecutor} from './step-env.js'

async function copyFileInto(fs: RootFs, from: string, to: string): Promise<void> {
  await fs.ensureDir(dirname(to), 0o755)
  await fs.removeTree(to + TEMP_SUFFIX)
  await fs.copyTree(from, to + TEMP_SUFFIX)
  await fs.rename(to + TEMP_SUFFIX, to)
}

/**
 * Installs config defaults as the plan decided per file: `new` is copied in, `replace` (a file the
 * admin left as shipped) is set aside and replaced, `keep` (a file the admin changed) stays and the
 * new default goes beside it as `.default`.
 */
export const config: StepExecutor<'config'> = {
  async do({fs}, step) {
    const backup = (file: string): string => join(step.backupDir, file)
    for (const {file, action} of step.files) {
      const installed = join(step.etcDir, file)
      const fresh = join(step.stagedEtc, file)
      if (action === 'new') {
        await copyFileInto(fs, fresh, installed)
      } else if (action === 'replace') {
        await fs.ensureDir(dirname(backup(file)), 0o700)
        await doMoves(fs, [{from: installed, to: backup(file)}])
        await copyFileInto(fs, fresh, installed)
      } else {
        await fs.ensureDir(dirname(backup(file)), 0o700)
        await doMoves(fs, [{from: installed + '.default', to: backup(file) + '.default'}])
        await copyFileInto(fs, fresh, installed + '.default')
      }
    }
  },
  async undo({fs}, step) {
    const backup = (file: string): string => join(step.backupDir, file)
    for (const {file, action} of [...step.files].reverse()) {
      const installed = join(step.etcDir, file)
      const target = action === 'keep' ? installed + '.default' : installed
      await fs.removeTree(target + TEMP_SUFFIX)
      if (action === 'new') {
        await fs.removeTree(installed)
      } else if (action === 'replace') {
        if ((await fs.lstat(backup(file))) !== undefined) await fs.rename(backup(file), installed)
      } else {
        await fs.removeTree(installed + '.default')
        await undoMoves(fs, [{from: installed + '.default', to: backup(file) + '.default'}])
      }
    }
  },
}
