import {dirname, join, relative} from 'node:path'
import type {RootFs} from '../adapters/root-fs.js'
import {ExitCode} from '../exit-codes.js'
import {PrefixLayout} from '../layout/prefix-layout.js'
import {readInstallRecordAt} from '../records/install-record.js'
import {hasErrors, type Finding} from '../verify/finding.js'
import type {LifecycleContext} from './context.js'
import type {Journal, JournalStep} from './journal.js'
import {judgeLegacy} from './judge-legacy.js'
import {judgeSlot} from './judge-slot.js'
import {StepFailure} from './lifecycle-error.js'

const isMove = (s: JournalStep): s is Extract<JournalStep, {kind: 'move'}> => s.kind === 'move'

/**
 * What the committed legacy rollback put back (`restore`, its step that moved the files back), judged
 * against the receipt parked in its scratch directory; undefined when there is nothing to judge.
 */
async function legacyFindings(ctx: LifecycleContext, fs: RootFs, layout: PrefixLayout, journal: Journal, restore: JournalStep): Promise<Finding[] | undefined> {
  const parkedReceipt = journal.steps.filter(isMove).flatMap((s) => s.moves).find((m) => m.from === layout.receipt)?.to
  if (parkedReceipt === undefined || restore.kind !== 'move') return undefined
  // Once the finish has run the scratch directory (and the receipt in it) is gone: it judged nothing new, and there is nothing left to judge against.
  const record = await readInstallRecordAt(parkedReceipt, fs)
  if (record === undefined) return undefined
  const parkedSlot = join(dirname(parkedReceipt), 'previous')
  return judgeLegacy(ctx, fs, layout, record, restore.moves.map((m) => ({recorded: relative(parkedSlot, m.from), at: m.to})), parkedReceipt)
}

/**
 * Recovery finishes a rollback whose journal had committed (session.ts, recoverInterrupted): the
 * version it restored stays installed, and launchd starts it at every boot from then on. The
 * rollback judged that code before its journal opened; by the time a later run finishes the
 * transaction, any amount of time has passed, so the code is judged again as the rollback judged
 * it: a bundle by the verifier and its cdhashes against the restored receipt (judge-slot.ts), a
 * legacy install by the files adoption recorded and the verifier (judge-legacy.ts). Other
 * journals, and an interrupted rollback (undone, not finished), pass untouched.
 *
 * Throws StepFailure (verificationFailed) with the findings when the code no longer passes; reads only.
 */
export async function judgeRolledForward(ctx: LifecycleContext, fs: RootFs, layout: PrefixLayout, journal: Journal): Promise<void> {
  if (journal.action !== 'rollback' || journal.phase !== 'committed') return
  let findings: Finding[] | undefined
  let what: string
  const restore = journal.steps.find((s) => s.id === 'restore-legacy')
  if (restore !== undefined) {
    findings = await legacyFindings(ctx, fs, layout, journal, restore)
    what = `the legacy ${join(layout.system.bin, layout.name)} it put back`
  } else {
    const record = await readInstallRecordAt(layout.receipt, fs)
    if (record === undefined) return
    findings = await judgeSlot(ctx, fs, PrefixLayout.ofRecord(record, ctx.root), record, {dir: layout.prefix, receipt: layout.receipt})
    what = `version ${record.version} it put back`
  }
  if (findings === undefined || !hasErrors(findings)) return
  const first = findings.find((f) => f.severity === 'error')!
  throw new StepFailure(ExitCode.verificationFailed, `the rollback had committed, but ${what} no longer passes verification (${first.message} [${first.id}]), so esdctl will not finish putting it in place. Stop it with \`launchctl bootout system/${layout.label}\`, then move the journal aside and reinstall the version you want with esdctl install --allow-downgrade <payload>`, findings)
}
