import type {StepExecutor} from './step-env.js'

/** Stops a legacy install's other jobs (labels the manifest `replaces` that were loaded). */
export const bootoutJobs: StepExecutor<'bootout-jobs'> = {
  async do({ctx}, step) {
    for (const job of step.jobs) await ctx.launchctl.bootout(job.label, {waitMs: step.waitMs})
  },
  // Bootout again (idempotent), then load each old job from its plist, which earlier undos put back.
  async undo({ctx}, step) {
    for (const job of step.jobs) {
      await ctx.launchctl.bootout(job.label, {waitMs: step.waitMs})
      if (job.plist === undefined) continue
      await ctx.launchctl.enable(job.label)
      await ctx.launchctl.bootstrap(job.plist)
    }
  },
}
