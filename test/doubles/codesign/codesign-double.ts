import {chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {CODESIGN_NAME, CONFIG_NAME, type CodesignCall, type CodesignDoubleConfig, type SealState} from './protocol.js'

export type {CodesignCall, SealRecord} from './protocol.js'

export interface CodesignDouble {
  readonly dir: string
  /** Executable fake `codesign`; hand it to `new CodesignAdapter({executable})`. */
  readonly codesignPath: string
  /** Every call so far, in order. */
  calls(): CodesignCall[]
  /** What the double considers signed, by absolute path. */
  seals(): SealState
  cleanup(): void
}

/** A codesign stand-in in a fresh directory; `identities` are the names `--sign` accepts. */
export function createCodesignDouble(opts: {identities?: string[]} = {}): CodesignDouble {
  const dir = mkdtempSync(join(tmpdir(), 'codesign-double-'))
  const config: CodesignDoubleConfig = {
    identities: opts.identities ?? [],
    logPath: join(dir, 'calls.jsonl'),
    statePath: join(dir, 'seals.json'),
  }
  const configPath = join(dir, CONFIG_NAME)
  writeFileSync(configPath, JSON.stringify(config))
  const codesignPath = join(dir, CODESIGN_NAME)
  const cli = pathToFileURL(fileURLToPath(new URL('./codesign-cli.js', import.meta.url))).href
  // CommonJS launcher (the directory has no package.json) that loads the ESM body.
  writeFileSync(codesignPath, `#!/usr/bin/env node\nimport(${JSON.stringify(cli)}).then((m) => m.main(${JSON.stringify(configPath)}))\n`)
  chmodSync(codesignPath, 0o755)
  return {
    dir,
    codesignPath,
    calls: () =>
      existsSync(config.logPath)
        ? readFileSync(config.logPath, 'utf8').split('\n').filter(Boolean).map(line => JSON.parse(line) as CodesignCall)
        : [],
    seals: () => (existsSync(config.statePath) ? (JSON.parse(readFileSync(config.statePath, 'utf8')) as SealState) : {}),
    cleanup: () => rmSync(dir, {recursive: true, force: true}),
  }
}
