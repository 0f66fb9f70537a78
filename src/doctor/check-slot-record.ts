import type {PrefixLayout} from '../layout/prefix-layout.js'
import {inspectInstallRecordAt, recordRepairHint} from '../records/install-record.js'
import {failed, type DoctorCheck} from './doctor-check.js'

/**
 * The rollback slot's copy of the previous version's install record: `rollback` needs it. Only a
 * damaged one is reported (an empty slot is normal before the first upgrade; one unreadable for
 * want of root is not damage).
 */
export async function checkSlotRecord(layout: PrefixLayout): Promise<DoctorCheck[]> {
  const read = await inspectInstallRecordAt(layout.slotReceipt).catch(() => undefined)
  if (read?.state !== 'damaged') return []
  return [failed('record.slot-damaged', 'error', layout.slotReceipt, `rollback slot's install record: ${read.path}: ${read.problem}; rollback cannot use it as it is`, recordRepairHint(layout.name, layout.root))]
}
