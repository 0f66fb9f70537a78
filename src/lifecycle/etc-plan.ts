import {dirname, join} from 'node:path'
import type {RootFs} from '../adapters/root-fs.js'
import {ExitCode} from '../exit-codes.js'
import type {PrefixLayout} from '../layout/prefix-layout.js'
import {StepFailure} from './lifecycle-error.js'
import type {EtcAction} from './plan.js'
import {symlinkAlong} from './symlink-along.js'

/**
 * Each config file's fate when a version's shipped defaults (`shipped`: etc/-relative path →
 * SHA-256) are put in place over etc/: `new` where there is no file, `replace` where the file is
 * still a shipped default (this version's, or the one installed now, `installedDefaults`), `keep`
 * where the admin changed it (the default then goes beside it as `.default`). The admin's own
 * config is never overwritten. Reads only; throws StepFailure (unsafeEnvironment) for a link or a
 * non-file on the way, which esdctl will not write through.
 */
export async function etcPlan(fs: RootFs, layout: PrefixLayout, shipped: Readonly<Record<string, string>>, installedDefaults: Readonly<Record<string, string>> | undefined): Promise<{file: string; action: EtcAction}[]> {
  const plan: {file: string; action: EtcAction}[] = []
  for (const [file, hash] of Object.entries(shipped)) {
    const installed = join(layout.etc, file)
    const link = await symlinkAlong(fs, layout.etc, dirname(file))
    if (link !== undefined) throw new StepFailure(ExitCode.unsafeEnvironment, `${link} is a symbolic link; esdctl will not write ${installed} through it (it could lead outside ${layout.prefix}). Remove the link and run again`)
    const stat = await fs.lstat(installed)
    if (stat === undefined) plan.push({file, action: 'new'})
    else if (!stat.isFile()) throw new StepFailure(ExitCode.unsafeEnvironment, `${installed} is not a regular file (a link or directory replaced it); esdctl will not write through or over it`)
    else {
      const actual = await fs.sha256(installed)
      const untouched = actual === hash || (installedDefaults !== undefined && installedDefaults[file] === actual)
      plan.push({file, action: untouched ? 'replace' : 'keep'})
    }
  }
  return plan
}
