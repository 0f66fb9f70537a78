import Mocha from 'mocha'
import {EXPECTED_IN_CI, SKIP_REASONS, skipReasonOf, type SkipReason} from './skip.js'

const {Spec} = Mocha.reporters
const {EVENT_RUN_END, EVENT_TEST_PENDING} = Mocha.Runner.constants

/**
 * The spec reporter plus one plain closing line, `N passed, N failed, N skipped`, which CI reads
 * as the verdict of the run. Before it, the skipped tests are counted by reason (test/support/skip.ts).
 * Under CI (CI=true), a skip CI does not expect, or one with no reason, is counted as a failure and
 * fails the run: a test that silently stops running defends nothing.
 */
export default class CountingReporter extends Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options)
    const skipped: {title: string; reason: SkipReason | undefined}[] = []
    runner.on(EVENT_TEST_PENDING, (test: Mocha.Test) => {
      skipped.push({title: test.fullTitle(), reason: skipReasonOf(test)})
    })
    runner.once(EVENT_RUN_END, () => {
      const s = runner.stats
      if (!s) return
      const byReason = new Map<string, number>()
      for (const t of skipped) byReason.set(t.reason ?? '(no reason given)', (byReason.get(t.reason ?? '(no reason given)') ?? 0) + 1)
      for (const [reason, n] of byReason) {
        const why = reason in SKIP_REASONS ? SKIP_REASONS[reason as SkipReason] : 'the test called skip() without skipBecause()'
        process.stdout.write(`skipped ${n}: ${reason} — ${why}\n`)
      }
      const unexpected = process.env['CI'] === 'true' ? skipped.filter(t => !t.reason || !EXPECTED_IN_CI.includes(t.reason)) : []
      for (const t of unexpected) process.stdout.write(`unexpected skip in CI (counted as failed): ${t.title} [${t.reason ?? 'no reason'}]\n`)
      // mocha takes its exit code from runner.failures right after this event's listeners.
      runner.failures += unexpected.length
      process.stdout.write(`${s.passes} passed, ${s.failures + unexpected.length} failed, ${s.pending} skipped\n`)
    })
  }
}
