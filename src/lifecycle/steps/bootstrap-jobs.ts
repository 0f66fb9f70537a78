import type {StepExecutor} from './step-env.js'

/** Starts the legacy install's jobs again (rollback to the layout an adoption replaced). */
export const bootstrapJobs: StepExecutor<'bootstrap-jobs'> = {
  async do({ctx}, step) {
    for (const job of step.jobs) {
      if (job.plist === undefined) continue
      await ctx.launchctl.enable(job.label)
      await ctx.launchctl.bootstrap(job.plist)
    }
  },
  async undo({ctx}, step) {
    for (const job of step.jobs) await ctx.launchctl.bootout(job.label, {waitMs: step.waitMs})
  },
}
