import type {RootFs} from '../adapters/root-fs.js'
import type {PrefixLayout} from '../layout/prefix-layout.js'
import type {Manifest} from '../manifest/manifest.js'
import type {InstallRecord} from '../records/install-record.js'
import {finding, type Finding} from '../verify/finding.js'
import type {LifecycleContext} from './context.js'
import {judgePayload} from './judge-payload.js'
import {isRecordedCode, shownCdhashes} from '../records/recorded-code.js'

/**
 * Whether the bundle in the rollback slot may run again, judged as install judges a payload: the
 * verifier over every slice (seal, signature, profile), team and identifier against the slot's
 * receipt, Info.plist, codesign's second opinion where available; then its cdhashes against the
 * receipt, so code swapped for another validly signed build is refused too. The slot sits under a
 * root-only directory, but it is code esdctl will start as root: it is checked, not trusted.
 * `where` judges the bundle elsewhere (a rollback's target once moved into place) against the receipt there.
 * Returns the findings (empty when it may run). Reads only.
 */
export async function judgeSlot(ctx: LifecycleContext, fs: RootFs, layout: PrefixLayout, record: InstallRecord, where: {dir: string; receipt: string} = {dir: layout.rollbackSlot, receipt: layout.slotReceipt}): Promise<Finding[]> {
  const manifest: Manifest = {name: record.name, label: record.label, bundleId: record.bundleId, teamId: record.teamId}
  const {dir, receipt} = where
  // Only the code is judged: the slot's config defaults are checked against the receipt by the rollback itself (restoredEtcPlan),
  // and once rolled forward, dir/etc is the admin's live configuration.
  const judgement = await judgePayload(ctx, fs, dir, manifest, layout, {config: false})
  // judgePayload never refuses without an error finding, nor passes without the slices it verified (judge-payload.ts): the
  // fallback finding only keeps a future change there from letting an unjudged slot through, failing closed.
  // Stryker disable next-line LogicalOperator,ConditionalExpression: see above, both halves are true together
  if (!judgement.ok || judgement.slices === undefined) {
    // Stryker disable next-line ConditionalExpression,EqualityOperator,ArrayDeclaration,StringLiteral: see above, a refusal always has findings
    return judgement.findings.length > 0 ? judgement.findings : [finding('rollback.slot-not-recorded', dir, `${dir}: the bundle ${layout.bundle} could not be judged`)]
  }
  if (isRecordedCode(judgement.slices, record.cdhashes)) return []
  const found = shownCdhashes(judgement.slices)
  const recorded = shownCdhashes(record.cdhashes)
  // An ok judgement has a signed slice (unsigned is signature.missing), so found is never empty.
  // Stryker disable next-line StringLiteral: see above
  const shown = found || 'none'
  return [finding('rollback.slot-not-recorded', dir,
    `${dir}/${layout.bundle} is validly signed, but it is not the code the receipt ${receipt} recorded (cdhashes ${shown}, recorded ${recorded || 'none'})`)]
}
