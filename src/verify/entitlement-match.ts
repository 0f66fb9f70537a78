import type {PlistValue} from '../formats/property-list.js'

/**
 * Whether a profile's entitlement value allows what a binary claims. Profiles use `*` as a
 * wildcard (alone, or as a suffix such as `TEAMID.*` / `TEAMID.com.example.*`); list values allow
 * each claimed element separately.
 */
export function profileAllows(allowed: PlistValue | undefined, claimed: PlistValue): boolean {
  // Stryker disable next-line ConditionalExpression: without it an absent value falls through to `allowed === claimed`, false for every claimed value (a PlistValue, never undefined)
  if (allowed === undefined) return false
  if (Array.isArray(allowed)) {
    const claims = Array.isArray(claimed) ? claimed : [claimed]
    return claims.every(c => allowed.some(a => profileAllows(a, c)))
  }
  if (typeof allowed === 'string') {
    if (Array.isArray(claimed)) return claimed.every(c => profileAllows(allowed, c))
    return typeof claimed === 'string' && wildcardMatch(allowed, claimed)
  }
  return allowed === claimed
}

/** `*` matches anything; `prefix*` matches by prefix; anything else matches exactly. */
export function wildcardMatch(pattern: string, value: string): boolean {
  // A lone `*` is the prefix rule with an empty prefix, which every value starts with.
  if (pattern.endsWith('*')) return value.startsWith(pattern.slice(0, -1))
  return pattern === value
}
