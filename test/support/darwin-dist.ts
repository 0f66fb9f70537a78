import {rmSync} from 'node:fs'
import {mkdtemp} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {buildDarwinDist, type DistResult} from '../../scripts/dist-darwin/build-dist.js'
import {REPO_ROOT} from './real-artifacts.js'

let built: Promise<DistResult> | undefined

/**
 * `npm run dist:darwin`'s build, run once per test process (it packs esdctl, installs its
 * production dependencies and unpacks two ~45 MB Node packages) into a private directory removed
 * at exit. The Node packages come from, and stay in, the repository's gitignored
 * `.cache/node-darwin`, so only the first run on a machine downloads them.
 */
export function darwinDist(): Promise<DistResult> {
  built ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'esdctl-dist-darwin-'))
    process.on('exit', () => rmSync(dir, {recursive: true, force: true}))
    return buildDarwinDist({repo: REPO_ROOT, out: join(dir, 'dist-darwin'), cacheDir: join(REPO_ROOT, '.cache', 'node-darwin')})
  })()
  return built
}
