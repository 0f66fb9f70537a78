/** Pseudo-code for "codesign could not be run at all" (missing executable, timeout, signal). */
export const CODESIGN_NOT_RUN = -1

export class CodesignError extends Error {
  constructor(
    readonly action: 'sign' | 'verify',
    readonly path: string,
    readonly code: number,
    /** What codesign printed on stderr, kept verbatim: its one-line reasons are the useful part. */
    readonly stderr = '',
  ) {
    super(`codesign ${action === 'sign' ? '--sign' : '--verify'} ${path} failed (${code})${stderr ? `: ${stderr}` : ''}`)
    this.name = 'CodesignError'
  }
}
