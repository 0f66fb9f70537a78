import {join} from 'node:path'
import {RootFs} from '../adapters/root-fs.js'
import {hasErrorCode} from '../io/error-code.js'
import {LayoutError, PrefixLayout} from '../layout/prefix-layout.js'
import {productionContext, silentProgress} from '../lifecycle/context.js'
import {judgeSlot} from '../lifecycle/judge-slot.js'
import {readInstallRecordAt, type InstallRecord} from '../records/install-record.js'
import {esdctlCommand} from '../render/esdctl-command.js'
import type {VerifyOptions} from '../verify/verify-options.js'
import {failed, passed, skipped, type DoctorCheck} from './doctor-check.js'

/**
 * The previous version in the rollback slot, judged exactly as `esdctl rollback` judges it before
 * it starts that code again (judgeSlot: the verifier, team and identifier against the slot's
 * receipt, Info.plist, codesign's second opinion on macOS, the recorded cdhashes). Warnings, not
 * errors: the running daemon is not affected, but a rollback would be refused (exit 3). Nothing
 * is reported without a slot (before the first upgrade); a damaged slot receipt is
 * check-slot-record.ts's. Reads only.
 */
export async function checkRollbackSlot(layout: PrefixLayout, verify: VerifyOptions | undefined): Promise<DoctorCheck[]> {
  const fs = new RootFs()
  let record: InstallRecord | undefined
  let slotLayout: PrefixLayout
  try {
    record = await readInstallRecordAt(layout.slotReceipt, fs)
    if (record === undefined) return []
    slotLayout = PrefixLayout.ofRecord(record, layout.root)
  } catch (e) {
    if (e instanceof LayoutError || hasErrorCode(e)) return []
    throw e
  }
  // A slot receipt without its bundle is a legacy adoption's slot, or no slot rollback would use.
  if (!(await fs.lstat(join(slotLayout.rollbackSlot, slotLayout.bundle)))?.isDirectory()) return []
  const ctx = {...productionContext({root: layout.root, progress: silentProgress}), ...(verify ? {verifyOptions: verify} : {})}
  const where = join(layout.rollbackSlot, slotLayout.bundle)
  let findings
  try {
    findings = (await judgeSlot(ctx, fs, slotLayout, record)).filter((f) => f.severity === 'error')
  } catch (e) {
    if (!hasErrorCode(e)) throw e
    return [skipped('rollback.slot', where, `the rollback slot cannot be read here (${e.message}); run doctor with sudo`)]
  }
  if (findings.length === 0) return [passed('rollback.slot-ok', where, `the rollback slot holds ${record.version}, the code its receipt recorded: \`esdctl rollback\` would accept it`)]
  const fix = `Do not roll back to it: reinstall the version you want with \`${esdctlCommand('install', '--allow-downgrade PAYLOAD', layout.root)}\` (it verifies the payload); the next upgrade replaces the slot.`
  return findings.map((f) => failed('rollback.slot-refused', 'warning', f.path, `the rollback slot's ${record.version} would be refused by \`esdctl rollback\` (exit 3): ${f.message}`, fix))
}
