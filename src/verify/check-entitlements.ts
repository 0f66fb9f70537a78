import {finding, type Finding} from './finding.js'
import type {SliceReport} from './report.js'
import {claimedRestricted, DISABLE_LIBRARY_VALIDATION, GET_TASK_ALLOW} from './restricted-entitlements.js'
import type {SliceSignature} from './signed-slice.js'
import {samePlistValue} from '../formats/property-list.js'

/** Checks on a slice's entitlements that need no profile: internal consistency and signing mode. */
export function checkSliceEntitlements(path: string, where: string, sig: SliceSignature, report: SliceReport): Finding[] {
  const out: Finding[] = []
  if (sig.entitlements && sig.derEntitlements && !samePlistValue(sig.entitlements.dict, sig.derEntitlements.dict)) {
    out.push(finding('entitlements.der-mismatch', path,
      `${where}: the XML and DER entitlements differ; macOS enforces the DER form`,
      'Sign again with codesign so both forms are generated from the same entitlements file.'))
  }
  const restricted = claimedRestricted(report.entitlements)
  if (report.signer === 'adhoc' && restricted.length > 0) {
    out.push(finding('entitlements.restricted-adhoc', path,
      `${where}: ad-hoc signed but claims ${restricted.join(', ')}; restricted entitlements need an Apple-issued signing certificate and a provisioning profile, so macOS will kill it (Killed: 9)`,
      'Sign with your Developer ID Application certificate, inside an app-like bundle with an embedded.provisionprofile that allows these entitlements.'))
  }
  if (report.signer === 'developer-id') {
    if (report.entitlements[GET_TASK_ALLOW] === true) {
      // Notarization lets get-task-allow through when library validation is disabled too (as Node.js ships); the risk stays.
      const notarization = report.entitlements[DISABLE_LIBRARY_VALIDATION] === true ? '' : 'notarization refuses it, and '
      out.push(finding('entitlements.get-task-allow', path,
        `${where}: a Developer ID build claims ${GET_TASK_ALLOW} (debugging); ${notarization}it lets other processes of the same user attach to the daemon and inject code`,
        `Remove ${GET_TASK_ALLOW} from the release entitlements.`))
    }
    if (!report.flags.includes('runtime')) {
      out.push(finding('signature.hardened-runtime-missing', path,
        `${where}: signed without the hardened runtime: notarization has required it for new submissions since February 2020, and without it the code has no protection against injected libraries or debuggers`,
        'Sign with --options runtime.'))
    }
  }
  return out
}
