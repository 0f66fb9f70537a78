import type {LifecycleContext} from './context.js'
import type {PlanStep, StepKind} from './plan.js'

/** Kinds that only talk to launchd: on an image under --root there is no launchd to ask (its own loads the plist at first boot). */
const LAUNCHD_KINDS: ReadonlySet<StepKind> = new Set(['enable', 'bootout', 'await-exit', 'bootout-jobs', 'bootstrap', 'bootstrap-jobs', 'health-check'])

/** The steps that will run here: all of them on a live system, none of launchd's on an image, so the dry run and the journal list the same. */
export function stepsThatRun(ctx: Pick<LifecycleContext, 'offline'>, steps: readonly PlanStep[]): PlanStep[] {
  return ctx.offline ? steps.filter((s) => !LAUNCHD_KINDS.has(s.kind)) : [...steps]
}
