import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

/** A private directory (mkdtemp: 0700, unique) and how to remove it with everything in it. */
export interface ScratchDir {
  path: string
  dispose(): Promise<void>
}

/** Makes a private scratch directory under the system's temporary directory, named `<prefix>XXXXXX`. */
export async function makeScratchDir(prefix: string): Promise<ScratchDir> {
  const path = await mkdtemp(join(tmpdir(), prefix))
  return {path, dispose: () => rm(path, {recursive: true, force: true})}
}
