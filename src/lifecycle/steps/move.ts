import {doMoves, undoMoves} from '../moves.js'
import type {DirSpec} from '../plan.js'
import type {StepEnv, StepExecutor} from './step-env.js'

async function removeEmpty(env: StepEnv, dirs: readonly DirSpec[]): Promise<void> {
  for (const dir of [...dirs].reverse()) if (dir.removeOnUndo) await env.fs.removeEmptyDir(dir.path)
}

/** Renames (same volume, never a copy), with the directories they need made before or after. */
export const move: StepExecutor<'move'> = {
  async do({fs}, step) {
    for (const dir of step.before) await fs.ensureDir(dir.path, dir.mode)
    await doMoves(fs, step.moves)
    for (const dir of step.after) await fs.ensureDir(dir.path, dir.mode)
  },
  async undo(env, step) {
    await removeEmpty(env, step.after)
    await undoMoves(env.fs, step.moves)
    await removeEmpty(env, step.before)
  },
}
