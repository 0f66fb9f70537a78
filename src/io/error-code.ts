/**
 * Whether `e` is an Error with a string `code`: what Node's fs calls raise (ENOENT, EACCES …), and
 * also a FormatError or NotRegularFileError, which name their reason the same way. Callers use it to
 * tell an input they cannot read (a finding) from a bug (rethrown).
 */
export function hasErrorCode(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string'
}
