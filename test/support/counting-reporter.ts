import Mocha from 'mocha'

const {Spec} = Mocha.reporters
const {EVENT_RUN_END} = Mocha.Runner.constants

/**
 * The spec reporter plus one plain closing line, `N passed, N failed, N skipped`,
 * which CI reads as the verdict of the run.
 */
export default class CountingReporter extends Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options)
    runner.once(EVENT_RUN_END, () => {
      const s = runner.stats
      if (!s) return
      process.stdout.write(`${s.passes} passed, ${s.failures} failed, ${s.pending} skipped\n`)
    })
  }
}
