import {checkHealth} from '../health-check.js'
import type {StepExecutor} from './step-env.js'

/** The new job must stay up (and its probe pass); a failure is a StepFailure and the plan is undone. */
export const healthCheck: StepExecutor<'health-check'> = {
  do: ({ctx, layout}, step) => checkHealth(ctx, step.manifest, layout.with({bundle: step.bundle})),
  undo: async () => undefined,
}
