import {chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import type {PkgbuildCall} from './pkgbuild-cli.js'

export type {PkgbuildCall} from './pkgbuild-cli.js'

export interface PkgbuildDouble {
  readonly dir: string
  /** Executable fake `pkgbuild`; hand it to `new PkgbuildAdapter({executable})`. */
  readonly pkgbuildPath: string
  calls(): PkgbuildCall[]
  cleanup(): void
}

/** A pkgbuild stand-in that records every call; it knows no signing identity, as on a CI box. */
export function createPkgbuildDouble(): PkgbuildDouble {
  const dir = mkdtempSync(join(tmpdir(), 'pkgbuild-double-'))
  const logPath = join(dir, 'calls.jsonl')
  const pkgbuildPath = join(dir, 'pkgbuild')
  const cli = pathToFileURL(fileURLToPath(new URL('./pkgbuild-cli.js', import.meta.url))).href
  writeFileSync(pkgbuildPath, `#!/usr/bin/env node\nimport(${JSON.stringify(cli)}).then((m) => m.main(${JSON.stringify(logPath)}))\n`)
  chmodSync(pkgbuildPath, 0o755)
  return {
    dir,
    pkgbuildPath,
    calls: () => (existsSync(logPath) ? readFileSync(logPath, 'utf8').split('\n').filter(Boolean).map(l => JSON.parse(l) as PkgbuildCall) : []),
    cleanup: () => rmSync(dir, {recursive: true, force: true}),
  }
}
