import {MAX_RECORD_BYTES} from '../../records/install-record.js'
import type {StepExecutor} from './step-env.js'

/** Removes the launchd plist, its bytes saved first so undo can write it back. */
export const removePlist: StepExecutor<'remove-plist'> = {
  async do({fs}, step) {
    if ((await fs.lstat(step.path)) === undefined) return
    await fs.writeFileAtomic(step.saved, await fs.readFile(step.path, MAX_RECORD_BYTES), 0o644)
    await fs.removeTree(step.path)
  },
  async undo({fs}, step) {
    if ((await fs.lstat(step.path)) === undefined && (await fs.lstat(step.saved)) !== undefined) {
      await fs.writeFileAtomic(step.path, await fs.readFile(step.saved, MAX_RECORD_BYTES), 0o644)
    }
  },
}
