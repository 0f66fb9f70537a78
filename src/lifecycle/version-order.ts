/**
 * CFBundleShortVersionString (and CFBundleVersion) as Apple documents them for macOS bundles: one
 * to three period-separated non-negative integers (`6.10.0`, `1.4`, `3`). Without leading zeros,
 * each at most nine digits, so every part is an exact number. `esdctl bundle` writes only these,
 * `esdctl payload` and install accept only these.
 */
const BUNDLE_VERSION = /^(0|[1-9][0-9]{0,8})(\.(0|[1-9][0-9]{0,8})){0,2}$/

/** Whether `value` is a bundle version (see BUNDLE_VERSION): what install records and compares. */
export function isBundleVersion(value: unknown): value is string {
  return typeof value === 'string' && BUNDLE_VERSION.test(value)
}

/**
 * The one version order, for install's downgrade rule, the dry run's wording, `status --format
 * munki` and esdctl's own journal version: -1, 0 or 1. Parts are split at `.`, `-`, `+` and
 * spaces (the separators Munki splits at, so Munki and install never disagree about which of two
 * versions is newer), numeric parts compared as numbers (1.10 > 1.9), missing parts as 0
 * (1.2 = 1.2.0), any other part as text. Bundle versions (isBundleVersion) only ever take the
 * numeric path; the rest is for records an older esdctl wrote before it enforced that format.
 */
export function compareVersions(a: string, b: string): number {
  const pa = a.trim().split(/[.\-+ ]/)
  const pb = b.trim().split(/[.\-+ ]/)
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '0'
    const y = pb[i] ?? '0'
    if (/^\d+$/.test(x) && /^\d+$/.test(y)) {
      // Compared, not subtracted: two parts too long for a double are both Infinity, and their difference NaN.
      const nx = Number(x)
      const ny = Number(y)
      if (nx !== ny) return nx < ny ? -1 : 1
    } else if (x !== y) {
      return x < y ? -1 : 1
    }
  }
  return 0
}
