import type Mocha from 'mocha'

/**
 * Why a test may skip itself. Every skip names one of these, so the closing summary can say how
 * many tests were skipped and why, and CI can fail on a skip it does not expect
 * (see counting-reporter.ts).
 */
export const SKIP_REASONS = {
  'needs-root': 'needs root (ownership checks, uid switches)',
  'needs-macos': 'runs only on macOS (the real tool is there)',
  'not-on-macos': 'checks behaviour off macOS',
  'fixtures-absent': 'the shared fixtures folder (../shared/fixtures) is absent in this checkout',
  'unsafe-temp-ancestors': "the temp folder's own ancestors are unsafe on this machine",
  'uid-switch-refused': 'the system refused to run a child process as another user',
  'one-core': 'needs two or more cores (parallel hashing is off on one)',
} as const
export type SkipReason = keyof typeof SKIP_REASONS

/** What CI on Linux, as root, with ../shared beside the clone, expects to skip: only the macOS-only tests. */
export const EXPECTED_IN_CI: readonly SkipReason[] = process.platform === 'darwin' ? ['not-on-macos'] : ['needs-macos']

/** The property the reporter reads on a skipped test. */
export const SKIP_REASON_KEY = 'esdctlSkipReason'

/**
 * Skips the running test (from its body or a hook), recording `reason` for the closing summary.
 * `ctx` is the mocha `this` of the test or hook.
 */
export function skipBecause(ctx: Mocha.Context, reason: SkipReason): never {
  const runnable = ctx.test
  // From a before/beforeEach hook the skip covers the suite's tests: the reason goes on the suite.
  const holder = runnable && (runnable as {type?: string}).type === 'hook' ? runnable.parent : runnable
  if (holder) (holder as unknown as Record<string, unknown>)[SKIP_REASON_KEY] = reason
  return ctx.skip()
}

/** The reason recorded for a skipped test: on the test itself, or on the nearest suite above it. */
export function skipReasonOf(test: Mocha.Test): SkipReason | undefined {
  for (let at: Mocha.Test | Mocha.Suite | undefined = test; at; at = at.parent) {
    const reason = (at as unknown as Record<string, SkipReason | undefined>)[SKIP_REASON_KEY]
    if (reason) return reason
  }
  return undefined
}
