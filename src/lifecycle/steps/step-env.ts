import type {RootFs} from '../../adapters/root-fs.js'
import type {PrefixLayout, ToolPaths} from '../../layout/prefix-layout.js'
import type {LifecycleContext} from '../context.js'
import type {StepKind, StepOf} from '../plan.js'

/** What every executor acts through: the adapters, the file system restricted to the daemon's own paths, and its layout. */
export interface StepEnv {
  ctx: LifecycleContext
  fs: RootFs
  tool: ToolPaths
  layout: PrefixLayout
}

/**
 * The one executor of a step kind. `undo` must be right whether `do` ran fully, partly or not at
 * all: after a crash the journal only says the step was started, so each undo looks at what is on
 * disk (or loaded in launchd) before it moves anything back.
 */
export interface StepExecutor<K extends StepKind> {
  do(env: StepEnv, step: StepOf<K>): Promise<void>
  undo(env: StepEnv, step: StepOf<K>): Promise<void>
}
