import {basename, dirname} from 'node:path'
import {makeScratchDir, type ScratchDir} from '../adapters/scratch-dir.js'
import {BuildRefusal} from './bundle-error.js'

/** The errno codes a folder gives when it will not take what esdctl writes into it. */
const REFUSALS = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOENT', 'ENOTDIR', 'ENOSPC', 'EDQUOT', 'ENAMETOOLONG', 'EEXIST', 'ENOTEMPTY', 'EXDEV'])

/**
 * `e` as the bad --out it is (exit 4, naming --out and what to do) when it is a refusal of the file
 * system to write there; undefined for anything else (a bug, which stays exit 1). `command` is
 * `bundle` or `payload`, the prefix of the refusal's code.
 */
export function outRefusal(command: 'bundle' | 'payload', out: string, e: unknown): BuildRefusal | undefined {
  const code = (e as NodeJS.ErrnoException | undefined)?.code
  if (!(e instanceof Error) || typeof code !== 'string' || !REFUSALS.has(code)) return undefined
  // Node's fs messages already begin with their code ("ENOENT: no such file…"): said once.
  const detail = e.message.startsWith(`${code}: `) ? e.message : `${code}: ${e.message}`
  return new BuildRefusal(`${command}.out-unwritable`, out, '--out', `cannot be written (${detail}); nothing was written`,
    'Choose an --out in a folder you can write to (e.g. your build directory), or fix that folder\'s permissions.')
}

/**
 * Every staging directory's lead beside an --out, whatever the --out was called: a CI build that
 * names each --out after its version must still sweep the copy a killed build left under another name.
 */
const BESIDE_OUT = /\.[^/]+\.esdctl-/

/**
 * A fresh staging directory beside `out` (same volume, so the finished result is renamed into
 * place), a scratch directory (scratch-dir.ts: removed if a signal ends the run, swept by the next
 * run of bundle or payload in that folder, whatever its --out, if the process died):
 * `<dirname(out)>/.<basename(out)>.esdctl-<pid>-XXXXXX`. Throws
 * BuildRefusal (exit 4) when the folder refuses it.
 */
export async function makeStagingDir(command: 'bundle' | 'payload', out: string): Promise<ScratchDir> {
  try {
    return await makeScratchDir(`.${basename(out)}.esdctl-`, dirname(out), BESIDE_OUT)
  } catch (e) {
    throw outRefusal(command, out, e) ?? e
  }
}
