import {join} from 'node:path'
import type {RootFs} from '../adapters/root-fs.js'

/**
 * The first path below `base` on the way to `base/rel` (`rel` itself included) that is a symbolic
 * link, if any; stops at the first component that does not exist. `rel` is slash-separated.
 */
export async function symlinkAlong(fs: RootFs, base: string, rel: string): Promise<string | undefined> {
  const parts = rel.split('/').filter((p) => p !== '' && p !== '.')
  for (let i = 1; i <= parts.length; i++) {
    const path = join(base, ...parts.slice(0, i))
    const st = await fs.lstat(path)
    if (st === undefined) return undefined
    if (st.isSymbolicLink()) return path
  }
  return undefined
}
