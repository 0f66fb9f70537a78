import {writeRegistryChange} from '../registry-change.js'
import type {StepExecutor} from './step-env.js'

/** Adds or removes the daemon's registry entry (when `apply`); undo makes the opposite change. */
export const registry: StepExecutor<'registry'> = {
  async do({ctx, fs, tool, layout}, step) {
    if (step.apply) await writeRegistryChange(fs, tool, ctx.root, step.change, layout)
  },
  async undo({ctx, fs, tool, layout}, step) {
    if (step.apply) await writeRegistryChange(fs, tool, ctx.root, step.change === 'add' ? 'remove' : 'add', layout)
  },
}
