/**
 * Entitlements that AMFI lets a process keep only when a provisioning profile authorises them.
 * On macOS the developer-program entitlements (`com.apple.developer.*`), the application and team
 * identifiers and keychain access groups are restricted; the `com.apple.security.*` family
 * (sandbox, hardened-runtime exceptions, get-task-allow) is not.
 */
export const ENDPOINT_SECURITY = 'com.apple.developer.endpoint-security.client'
export const APPLICATION_IDENTIFIER = 'com.apple.application-identifier'
export const TEAM_IDENTIFIER = 'com.apple.developer.team-identifier'
export const GET_TASK_ALLOW = 'com.apple.security.get-task-allow'
export const DISABLE_LIBRARY_VALIDATION = 'com.apple.security.cs.disable-library-validation'

const RESTRICTED_EXACT = new Set([APPLICATION_IDENTIFIER, 'keychain-access-groups'])

export function isRestrictedEntitlement(key: string): boolean {
  return key.startsWith('com.apple.developer.') || RESTRICTED_EXACT.has(key)
}

/** Restricted keys claimed with a value that actually asks for something (false/empty claims nothing). */
export function claimedRestricted(entitlements: Record<string, unknown>): string[] {
  return Object.entries(entitlements)
    .filter(([k, v]) => isRestrictedEntitlement(k) && v !== false && !(Array.isArray(v) && v.length === 0))
    .map(([k]) => k)
}

/** Restricted keys other than the identity ones every profile-backed binary carries. */
export function claimedCapabilities(entitlements: Record<string, unknown>): string[] {
  return claimedRestricted(entitlements).filter(k => k !== APPLICATION_IDENTIFIER && k !== TEAM_IDENTIFIER)
}
