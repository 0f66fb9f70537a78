import type {StepExecutor} from './step-env.js'

/** `launchctl enable`: harmless while the old job runs, and a disabled label stays disabled across uninstall (DESIGN.md §7). */
export const enable: StepExecutor<'enable'> = {
  do: ({ctx}, step) => ctx.launchctl.enable(step.label),
  undo: async () => undefined,
}
