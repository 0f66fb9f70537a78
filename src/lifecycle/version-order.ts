/**
 * Orders CFBundleShortVersionString values the way people read them: dot-separated numeric parts
 * compared as numbers (1.10 > 1.9), missing parts as 0; a non-numeric part falls back to text order.
 * `separator` lets Munki's rules (which also split at - + and space) share the comparison.
 */
export function compareVersions(a: string, b: string, separator: string | RegExp = '.'): number {
  const pa = a.split(separator)
  const pb = b.split(separator)
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
