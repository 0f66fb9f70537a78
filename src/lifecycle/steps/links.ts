import {dirname} from 'node:path'
import {setLink} from '../link-states.js'
import type {StepExecutor} from './step-env.js'

/**
 * Moves every link from `before` to `after`: links of the new state are written (each in one
 * rename), links only the old state had are removed. Undo writes `before` back exactly, so it is
 * right however far `do` got. Directories made for links (bin/, /usr/local/bin) are root:wheel
 * 0755, as others must traverse them; empty ones made inside what esdctl may change go on undo.
 */
export const links: StepExecutor<'links'> = {
  async do({fs}, step) {
    const wanted = new Map(step.after.map((l) => [l.path, l.text]))
    for (const state of step.before) if (!wanted.has(state.path)) await setLink(fs, state.path, null, 0o755)
    for (const [path, text] of wanted) await setLink(fs, path, text, 0o755)
  },
  async undo({fs}, step) {
    for (const state of step.before) await setLink(fs, state.path, state.text, 0o755)
    // Only inside what esdctl may change (the prefix's bin/); a /usr/local/bin it created is a standard place and stays.
    for (const dir of new Set(step.before.filter((s) => !s.dirExisted).map((s) => dirname(s.path)))) if (fs.isAllowed(dir)) await fs.removeEmptyDir(dir)
  },
}
