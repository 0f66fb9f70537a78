import type {StepExecutor} from './step-env.js'

/** Loads the job from its plist (after `enable` when the plan asks for it); undo boots it out again. */
export const bootstrap: StepExecutor<'bootstrap'> = {
  async do({ctx}, step) {
    if (step.enable) await ctx.launchctl.enable(step.label)
    await ctx.launchctl.bootstrap(step.plist, {label: step.label})
  },
  undo: ({ctx}, step) => ctx.launchctl.bootout(step.label, {waitMs: step.waitMs}),
}
