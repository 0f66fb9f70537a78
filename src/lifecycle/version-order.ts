/**
 * Orders CFBundleShortVersionString values the way people read them: dot-separated numeric parts
 * compared as numbers (1.10 > 1.9), missing parts as 0; a non-numeric part falls back to text order.
 */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.')
  const pb = b.split('.')
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '0'
    const y = pb[i] ?? '0'
    if (/^\d+$/.test(x) && /^\d+$/.test(y)) {
      const d = Number(x) - Number(y)
      if (d !== 0) return Math.sign(d)
    } else if (x !== y) {
      return x < y ? -1 : 1
    }
  }
  return 0
}
