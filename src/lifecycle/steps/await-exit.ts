import type {StepExecutor} from './step-env.js'

/** Waits for the job a no-wait bootout stopped: the file swaps before it overlap the old daemon's exit. */
export const awaitExit: StepExecutor<'await-exit'> = {
  async do({ctx}, step) {
    if (step.loaded) await ctx.launchctl.waitUntilGone(step.label, step.waitMs)
  },
  undo: async () => undefined,
}
