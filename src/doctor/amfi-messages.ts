/**
 * The unified-log lines macOS writes when it refuses code at launch, and what each means for the
 * daemon. Forms from shared/fixtures/macos-transcripts (06, 07: macOS 14, kernel, amfid,
 * taskgated-helper) and the older releases' `<exe> signature not valid: -67050` and AppleSystemPolicy's
 * `ASP: Security policy would not allow process: <pid>, <path>`. Matched on the stable part of
 * the message; paths, pids and entitlement names vary.
 */
export interface AmfiCause {
  id: string
  pattern: RegExp
  cause: string
  fix: string
}

const REVERIFY = 'Run `esdctl verify` on the bundle for the details.'

/** Most specific first: the kernel's signature-failure line also lists the unsatisfied entitlements. */
export const AMFI_CAUSES: readonly AmfiCause[] = [
  {
    id: 'amfi.no-matching-profile',
    pattern: /No matching profile found|\bCode=-413\b/i,
    cause: 'amfid found no provisioning profile that authorises the restricted entitlements (error -413): the embedded profile is missing, for another App ID or team, does not list the signing certificate, or does not allow an entitlement the daemon claims',
    fix: `Build the bundle with an embedded.provisionprofile for TEAMID.<bundle id> that allows every restricted entitlement the daemon claims and lists the certificate it is signed with. ${REVERIFY}`,
  },
  {
    id: 'amfi.signature-invalid',
    pattern: /Code has restricted entitlements, but the validation of its code signature failed/i,
    cause: 'the code signature itself did not validate (the bundle changed after signing, the seal is broken, nested code is unsigned, or the certificate chain is not trusted), so its restricted entitlements were refused',
    fix: `Sign the bundle again as the last build step and install it unmodified. ${REVERIFY}`,
  },
  {
    id: 'amfi.unsatisfied-entitlements',
    pattern: /Unsatisfied entitlements/i,
    cause: 'taskgated-helper found entitlements in the signature that the provisioning profile does not allow',
    fix: `Remove the entitlements the profile does not grant, or regenerate the profile with them (Endpoint Security needs Apple's approval for the team). ${REVERIFY}`,
  },
  {
    id: 'amfi.no-eligible-profile',
    pattern: /no eligible provisioning profiles found/i,
    cause: 'taskgated-helper found no provisioning profile eligible for this code on this Mac (none embedded, expired, another team, or a development profile that does not list this Mac)',
    fix: `Embed a valid Developer ID provisioning profile for the daemon's App ID (Contents/embedded.provisionprofile). ${REVERIFY}`,
  },
  {
    id: 'amfi.kernel-refused',
    pattern: /mac_vnode_check_signature: .{0,2048}code signature validation failed fatally/is,
    cause: 'the kernel refused to run the executable: its code signature failed validation when it was mapped (mac_vnode_check_signature)',
    fix: `Sign the bundle again as the last build step and install it with a fresh inode (never overwrite signed code in place). ${REVERIFY}`,
  },
  {
    id: 'amfi.requirement-failed',
    pattern: /signature not valid: -67050\b|Requirements for restricted entitlements failed to validate/i,
    cause: 'the code did not satisfy a code requirement (errSecCSReqFailed -67050 on older releases; amfid\'s requirements for restricted entitlements): it is not signed by the team or certificate its entitlements and profile demand',
    fix: `Sign with the Developer ID Application certificate of the team in the provisioning profile. ${REVERIFY}`,
  },
  {
    id: 'amfi.signature-not-valid',
    pattern: /signature not valid: -\d{4,6}\b|AMFI: code signature validation failed/i,
    cause: 'macOS found the code signature not valid at launch',
    fix: `Sign the bundle again as the last build step and install it unmodified. ${REVERIFY}`,
  },
  {
    id: 'amfi.security-policy',
    pattern: /ASP: Security policy would not allow process/i,
    cause: 'AppleSystemPolicy (Gatekeeper\'s kernel side) refused to run the process: not notarized, quarantined, or signed by an identity the policy rejects',
    fix: `Ship the daemon notarized (in a notarized .pkg) and signed with Developer ID. ${REVERIFY}`,
  },
  {
    id: 'amfi.restricted-entitlements-refused',
    pattern: /bailing out because of restricted entitlements|Restricted entitlements not validated/i,
    cause: 'macOS killed the daemon at launch (SIGKILL) because its restricted entitlements were not validated',
    fix: `Check the signature and the provisioning profile. ${REVERIFY}`,
  },
]

/** The first known cause a log message shows, if any. */
export function amfiCauseOf(message: string): AmfiCause | undefined {
  return AMFI_CAUSES.find((c) => c.pattern.test(message))
}

/** What a refusal line is about, when it says: an executable path, a pid, a bundle id. */
export interface RefusalSubject {
  path?: string
  pid?: number
  bundleId?: string
}

/** Path- or id-bearing forms; each names its subject in the first group (ASP: pid, then path). */
const SUBJECT_FORMS: readonly RegExp[] = [
  /mac_vnode_check_signature: (\/[^\n]{1,1024}?): code signature validation failed/,
  /AMFI: When validating (\/[^\n]{1,1024}?):\s*$/m,
  /^(\/[^\n]{1,1024}?|[^\s/]\S{0,254}) (?:signature )?not valid: /,
]
const ASP = /ASP: Security policy would not allow process: (\d{1,10}), (\/[^\n]{1,1024})$/m
const TASKGATED = /^(\S{1,255}): (?:Unsatisfied entitlements|no eligible provisioning profiles found)/

/**
 * Who a refusal line names. Lines without a subject (amfid's "bailing out", the kernel's "AMFI:
 * bailing out because of restricted entitlements.") return `{}`; they are tied to the daemon by
 * time and process instead (see attributeRefusals).
 */
export function refusalSubject(message: string): RefusalSubject {
  const asp = ASP.exec(message)
  if (asp) return {pid: Number(asp[1]), path: asp[2]!.trim()}
  for (const form of SUBJECT_FORMS) {
    const m = form.exec(message)
    if (m) return {path: m[1]!}
  }
  const id = TASKGATED.exec(message)
  return id ? {bundleId: id[1]!} : {}
}

/**
 * How an Endpoint Security client reports why `es_new_client` failed, and what to do. Clients log
 * the result in many spellings: the C name (`ES_NEW_CLIENT_RESULT_ERR_NOT_PERMITTED`), a Swift or
 * Rust case (`notPermitted`, `NotPermited`), words ("not permitted", "requires TCC approval"), or
 * the number (es_new_client_result_t: 3 not entitled, 4 not permitted, 5 not privileged, 6 too
 * many clients). `token` matches anywhere; `words` only on a line that is about the ES client,
 * since "Operation not permitted" alone is any EPERM.
 */
export interface EsClientResult {
  id: string
  code: number
  token: RegExp
  words: RegExp
  cause: string
  fix: string
}

export const ES_CLIENT_RESULTS: readonly EsClientResult[] = [
  {
    id: 'es.not-permitted',
    code: 4,
    token: /ERR_NOT_PERMITTED|\bNOT_PERMITTED\b|\bnot_?permitt?ed\b|TCC approval/i,
    words: /not permitted|Full Disk Access|\bTCC\b/i,
    cause: 'es_new_client returned ERR_NOT_PERMITTED: the daemon lacks Full Disk Access (TCC)',
    fix: 'Grant Full Disk Access with an MDM PPPC profile: `esdctl pppc NAME --out NAME-fda.mobileconfig`, then deploy it through your MDM (or, on a test Mac, add the executable in System Settings > Privacy & Security > Full Disk Access).',
  },
  {
    id: 'es.not-privileged',
    code: 5,
    token: /ERR_NOT_PRIVILEGED|\bNOT_PRIVILEGED\b|\bnot_?privileged\b/i,
    words: /not privileged|must (?:be|run as) root|requires root/i,
    cause: 'es_new_client returned ERR_NOT_PRIVILEGED: the daemon does not run as root',
    fix: 'Remove UserName/GroupName from the launchd plist (Endpoint Security clients must run as root) and reinstall.',
  },
  {
    id: 'es.not-entitled',
    code: 3,
    token: /ERR_NOT_ENTITLED|\bNOT_ENTITLED\b|\bnot_?entitled\b/i,
    words: /not entitled|missing (?:the )?entitlement/i,
    cause: 'es_new_client returned ERR_NOT_ENTITLED: the running code is not signed with com.apple.developer.endpoint-security.client',
    fix: 'Sign the daemon with the Endpoint Security entitlement and a profile that allows it.',
  },
  {
    id: 'es.too-many-clients',
    code: 6,
    token: /ERR_TOO_MANY_CLIENTS|\btoo_?many_?clients\b/i,
    words: /too many clients/i,
    cause: 'es_new_client returned ERR_TOO_MANY_CLIENTS: the system has reached its limit of Endpoint Security clients',
    fix: 'Check that only one instance of the daemon runs (`esdctl status`), and that other ES products on the Mac have not used up the clients.',
  },
]

/** A line about the ES client at all. */
export const ES_CLIENT_CONTEXT = /es_new_client|\bES_NEW_CLIENT|\bESClient|\bEsClient|endpoint ?security client|\bES client/i
/** Words of a failure on such a line, for results esdctl has no name for. */
export const FAILURE_WORDS = /fail|error|\berr\b|denied|refused|cannot|could not|couldn't|unable|not /i
/** `es_new_client returned 4`, `es_new_client failed with result 4`, `ESClient error: 4`. */
export const NUMERIC_RESULT = /(?:es_new_client|ESClient|EsClient)\b[^\n]{0,40}?(?:returned|result|failed|error|code)[^\n\d]{0,20}\b([1-6])\b/i
