/**
 * Path handling by segments rather than by string prefix, so `/opt/thed-evil` is never taken to be
 * inside `/opt/thed`. A `..` segment is refused outright instead of being resolved: a path that
 * needs one to stay in bounds is suspicious in a tool running as root.
 */

/** The segments of an absolute path (empty and `.` segments dropped), or undefined if it is not a clean absolute path. */
export function absoluteSegments(p: string): string[] | undefined {
  if (typeof p !== 'string' || !p.startsWith('/') || p.includes('\0')) return undefined
  const segments = p.split('/').filter(s => s !== '' && s !== '.')
  if (segments.includes('..')) return undefined
  return segments
}

export function joinSegments(segments: readonly string[]): string {
  return '/' + segments.join('/')
}

/** True when `inner` equals `outer` or lies below it; both are segment lists. */
export function segmentsStartWith(inner: readonly string[], outer: readonly string[]): boolean {
  if (inner.length < outer.length) return false
  return outer.every((s, i) => inner[i] === s)
}
