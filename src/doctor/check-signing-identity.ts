import {esdctlCommand} from '../render/esdctl-command.js'
import type {InstallRecord} from '../records/install-record.js'
import {isRecordedCode, shownCdhashes} from '../records/recorded-code.js'
import type {VerifyReport} from '../verify/report.js'
import {failed, passed, type DoctorCheck} from './doctor-check.js'

/**
 * MDM Full Disk Access (PPPC) grants match the daemon by identifier and code requirement; when the
 * bundle on disk is signed differently from what was installed, grants keyed to the old
 * requirement silently stop matching and es_new_client fails with ERR_NOT_PERMITTED.
 */
export function checkSigningIdentity(record: InstallRecord, report: VerifyReport): DoctorCheck[] {
  const slice = report.slices.find((s) => s.identifier !== undefined)
  const path = report.path
  if (!slice) return [failed('identity.unsigned', 'error', path, 'the installed bundle has no readable signature to compare with the install record', 'Reinstall a signed build.')]
  const checks: DoctorCheck[] = []
  const fix = 'Regenerate the Full Disk Access profile with `esdctl pppc` and deploy it, or reinstall the build that was signed as recorded.'
  if (slice.designatedRequirement !== record.designatedRequirement) {
    const quote = (dr: string | undefined) => (dr === undefined ? 'none' : `"${dr}"`)
    checks.push(failed('identity.requirement-changed', 'error', path, `designated requirement changed since install: now ${quote(slice.designatedRequirement)}, recorded ${quote(record.designatedRequirement)}; MDM Full Disk Access grants keyed to the old requirement no longer match`, fix))
  }
  if (slice.teamId !== undefined && slice.teamId !== record.teamId) {
    checks.push(failed('identity.team-changed', 'error', path, `team id changed since install: now ${slice.teamId}, recorded ${record.teamId}`, fix))
  }
  if (slice.identifier !== record.bundleId) {
    checks.push(failed('identity.identifier-changed', 'error', path, `signing identifier is ${slice.identifier}, recorded bundle id ${record.bundleId}`, fix))
  }
  if (record.signer.commonName !== undefined && slice.signerName !== undefined && slice.signerName !== record.signer.commonName) {
    checks.push(failed('identity.signer-changed', 'warning', path, `signing certificate changed since install: now "${slice.signerName}", recorded "${record.signer.commonName}"`, fix))
  }
  if (record.signer.leafSha256 !== undefined && slice.signerSha256 !== undefined && slice.signerSha256 !== record.signer.leafSha256) {
    checks.push(failed('identity.certificate-changed', 'warning', path, `signed with a different certificate than at install (SHA-256 ${slice.signerSha256.slice(0, 16)}…, recorded ${record.signer.leafSha256.slice(0, 16)}…); grants keyed to the team still match, any keyed to the certificate do not`, fix))
  }
  if (record.signer.kind !== slice.signer) {
    checks.push(failed('identity.signer-kind-changed', 'warning', path, `signed as ${slice.signer} now, ${record.signer.kind} at install`, fix))
  }
  if (checks.length === 0) checks.push(passed('identity.unchanged', path, `signed as at install: ${slice.signerName ?? slice.signer}, team ${record.teamId}${slice.designatedRequirement ? ', same designated requirement' : ''}`))
  return checks
}

/**
 * Whether the installed bundle is the code the receipt recorded (the same judgement install makes
 * before it calls a same-version install "already installed", installed-damage.ts): another
 * validly signed build put in place behind esdctl's back passes every signature check, but it is
 * not what was installed, and a rollback or an upgrade would reason from the wrong version.
 * Judged only on a bundle whose signature the verifier accepted (otherwise that is the finding).
 */
export function checkRecordedCode(record: InstallRecord, report: VerifyReport, root: string): DoctorCheck[] {
  if (!report.ok) return []
  if (isRecordedCode(report.slices, record.cdhashes)) return [passed('bundle.recorded', report.path, `the installed bundle is the code the receipt recorded for ${record.version} (${shownCdhashes(record.cdhashes)})`)]
  return [failed('bundle.not-recorded', 'error', report.path, `the installed bundle is validly signed but it is not the code the receipt recorded for ${record.version} (cdhashes ${shownCdhashes(report.slices) || 'none'}, recorded ${shownCdhashes(record.cdhashes) || 'none'}): it was replaced behind esdctl's back, so the version shown by status is not what runs`, `Reinstall the recorded version with \`${esdctlCommand('install', 'PAYLOAD', root)}\` (it sees the bundle is not the recorded code and replaces it), or install the version you meant to run.`)]
}
