/**
 * The unified-log lines macOS writes when it refuses a process with restricted entitlements, and
 * what each means for the daemon. Matched on the stable part of the message; the rest (paths,
 * entitlement names) varies.
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
    pattern: /-413\b.*No matching profile found|No matching profile found/i,
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

/**
 * How an Endpoint Security client reports why `es_new_client` failed, and what to do. The daemon
 * usually logs the result's name.
 */
export const ES_CLIENT_RESULTS = [
  {
    id: 'es.not-permitted',
    pattern: /ERR_NOT_PERMITTED/,
    cause: 'es_new_client returned ERR_NOT_PERMITTED: the daemon lacks Full Disk Access (TCC)',
    fix: 'Grant Full Disk Access with an MDM PPPC profile: `esdctl pppc NAME --out NAME-fda.mobileconfig`, then deploy it through your MDM (or, on a test Mac, add the executable in System Settings > Privacy & Security > Full Disk Access).',
  },
  {
    id: 'es.not-privileged',
    pattern: /ERR_NOT_PRIVILEGED/,
    cause: 'es_new_client returned ERR_NOT_PRIVILEGED: the daemon does not run as root',
    fix: 'Remove UserName/GroupName from the launchd plist (Endpoint Security clients must run as root) and reinstall.',
  },
  {
    id: 'es.not-entitled',
    pattern: /ERR_NOT_ENTITLED/,
    cause: 'es_new_client returned ERR_NOT_ENTITLED: the running code is not signed with com.apple.developer.endpoint-security.client',
    fix: 'Sign the daemon with the Endpoint Security entitlement and a profile that allows it.',
  },
] as const
