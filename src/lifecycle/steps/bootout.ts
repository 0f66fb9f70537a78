import type {StepExecutor} from './step-env.js'

/** Stops the job if it was loaded when the plan was made; `wait: false` leaves its exit to an await-exit step. */
export const bootout: StepExecutor<'bootout'> = {
  async do({ctx}, step) {
    if (step.loaded) await ctx.launchctl.bootout(step.label, {waitMs: step.waitMs, wait: step.wait})
  },
  // Whether or not the bootout happened (a crash may have come just before or after it), booting
  // out again, waiting until gone and bootstrapping ends with the old job loaded exactly once.
  async undo({ctx}, step) {
    if (!step.loaded) return
    await ctx.launchctl.bootout(step.label, {waitMs: step.waitMs})
    await ctx.launchctl.enable(step.label)
    await ctx.launchctl.bootstrap(step.plist, {label: step.label})
  },
}
