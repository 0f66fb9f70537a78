import {hasErrors} from '../verify/finding.js'
import {verifyPath} from '../verify/verify-path.js'
import {PrefixLayout} from '../layout/prefix-layout.js'
import type {InstallRecord} from '../records/install-record.js'
import {isRecordedCode, shownCdhashes} from '../records/recorded-code.js'
import type {LifecycleContext} from './context.js'

/**
 * Why the installed bundle is no longer what its receipt recorded, or undefined when it still is:
 * missing, refused by the verifier (a sealed file, the executable or Info.plist changed), or code
 * whose cdhashes differ from the receipt's (another build put in place). Installing the same version
 * again over such a bundle repairs it rather than saying "already installed".
 */
export async function installedDamage(ctx: LifecycleContext, current: InstallRecord): Promise<string | undefined> {
  const app = PrefixLayout.ofRecord(current, ctx.root).app
  if ((await ctx.fs.lstat(app))?.isDirectory() !== true) return `${app} is missing`
  const report = await verifyPath(app, ctx.verifyOptions)
  if (hasErrors(report.findings)) return `${app} no longer verifies (${report.findings.find((f) => f.severity === 'error')!.message})`
  if (isRecordedCode(report.slices, current.cdhashes)) return undefined
  const recorded = shownCdhashes(current.cdhashes)
  // A bundle that verifies has a signed slice, so what was found is never empty.
  // Stryker disable next-line StringLiteral: see above
  const found = shownCdhashes(report.slices) || 'none'
  return `${app} is not the code the receipt recorded (cdhashes ${found}, recorded ${recorded || 'none'})`
}
