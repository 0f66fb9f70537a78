import {parseInstallRecord, readInstallRecordAt, RECORD_MODE, serializeInstallRecord, MAX_RECORD_BYTES} from '../../records/install-record.js'
import {writeRegistryChange} from '../registry-change.js'
import type {StepExecutor} from './step-env.js'

/** Writes the new receipt (the old one's bytes kept at `kept` first) and, for a first install, the registry entry. */
export const writeRecords: StepExecutor<'write-records'> = {
  async do({ctx, fs, tool, layout}, step) {
    if ((await fs.lstat(step.receipt)) !== undefined) await fs.writeFileAtomic(step.kept, await fs.readFile(step.receipt, MAX_RECORD_BYTES), RECORD_MODE)
    const record = parseInstallRecord(await fs.readFile(step.from, MAX_RECORD_BYTES), step.from)
    await fs.writeFileAtomic(step.receipt, serializeInstallRecord(record), RECORD_MODE)
    if (step.addToRegistry) await writeRegistryChange(fs, tool, ctx.root, 'add', layout)
  },
  async undo({ctx, fs, tool, layout}, step) {
    if (step.addToRegistry) await writeRegistryChange(fs, tool, ctx.root, 'remove', layout)
    // The kept copy exists only once `do` has saved it; before that the old record was never touched.
    const previous = await readInstallRecordAt(step.kept, fs)
    if (previous !== undefined) {
      await fs.writeFileAtomic(step.receipt, serializeInstallRecord(previous), RECORD_MODE)
      await fs.removeTree(step.kept)
    } else if (!step.hadInstall) await fs.removeTree(step.receipt)
  },
}
