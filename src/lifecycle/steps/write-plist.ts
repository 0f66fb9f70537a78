import {TEMP_SUFFIX} from '../../adapters/root-fs.js'
import {MAX_RECORD_BYTES} from '../../records/install-record.js'
import type {StepExecutor} from './step-env.js'

/** Writes the new launchd plist atomically (root:wheel 0644), keeping the old one's bytes at `keep` for undo and rollback. */
export const writePlist: StepExecutor<'write-plist'> = {
  async do({fs}, step) {
    if (step.hadPlist) await fs.writeFileAtomic(step.keep, await fs.readFile(step.path, MAX_RECORD_BYTES), 0o644)
    await fs.writeFileAtomic(step.path, await fs.readFile(step.from, MAX_RECORD_BYTES), 0o644)
  },
  async undo({fs}, step) {
    await fs.removeTree(step.path + TEMP_SUFFIX)
    if ((await fs.lstat(step.keep)) !== undefined) {
      await fs.writeFileAtomic(step.path, await fs.readFile(step.keep, MAX_RECORD_BYTES), 0o644)
      // The copy goes once restored, so the slot is empty again and the older slot can move back.
      await fs.removeTree(step.keep)
    } else if (!step.hadPlist) await fs.removeTree(step.path)
  },
}
