import {MAX_RECORD_BYTES} from '../../records/install-record.js'
import type {StepExecutor} from './step-env.js'

/** Rollback: the plist and the rollback slot's copy trade places by atomic rewrites (the plist lives on another tree than the prefix). */
export const swapPlist: StepExecutor<'swap-plist'> = {
  async do({fs}, step) {
    const current = await fs.readFile(step.path, MAX_RECORD_BYTES)
    const previous = await fs.readFile(step.slotPath, MAX_RECORD_BYTES)
    await fs.writeFileAtomic(step.savedCurrent, current, 0o644)
    await fs.writeFileAtomic(step.savedSlot, previous, 0o644)
    await fs.writeFileAtomic(step.path, previous, 0o644)
    await fs.writeFileAtomic(step.slotPath, current, 0o644)
  },
  async undo({fs}, step) {
    if ((await fs.lstat(step.savedCurrent)) !== undefined) await fs.writeFileAtomic(step.path, await fs.readFile(step.savedCurrent, MAX_RECORD_BYTES), 0o644)
    if ((await fs.lstat(step.savedSlot)) !== undefined) await fs.writeFileAtomic(step.slotPath, await fs.readFile(step.savedSlot, MAX_RECORD_BYTES), 0o644)
  },
}
