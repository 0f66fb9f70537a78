import {chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import type {TestIdentity} from '../../support/test-pki.js'
import {serveKeychain} from './keychain.js'
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

/**
 * A codesign stand-in in a fresh directory. `identities` are what `--sign` accepts: a plain name
 * is only recorded (the double has no key for it, so the bytes stay as they were); a test-PKI
 * identity is a keychain identity, named by its certificate's SHA-1 or common name, and signs for
 * real (its private key stays in this process; the double asks for each CMS). `-` signs ad hoc.
 */
export function createCodesignDouble(opts: {identities?: (string | TestIdentity)[]} = {}): CodesignDouble {
  const dir = mkdtempSync(join(tmpdir(), 'codesign-double-'))
  const keyed = (opts.identities ?? []).filter((i): i is TestIdentity => typeof i !== 'string')
  const config: CodesignDoubleConfig = {
    identities: (opts.identities ?? []).filter((i): i is string => typeof i === 'string'),
    logPath: join(dir, 'calls.jsonl'),
    statePath: join(dir, 'seals.json'),
  }
  const keychain = keyed.length > 0 ? serveKeychain(join(dir, 'keychain.sock'), keyed) : undefined
  if (keychain) {
    config.keychain = {
      socket: join(dir, 'keychain.sock'),
      identities: keyed.map(i => ({
        sha1: i.info.sha1.toUpperCase(),
        ...(i.info.commonName !== undefined ? {commonName: i.info.commonName} : {}),
        ...(i.info.teamId !== undefined ? {teamId: i.info.teamId} : {}),
        developerId: i.info.role === 'developer-id',
      })),
    }
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
    cleanup: () => {
      keychain?.close()
      rmSync(dir, {recursive: true, force: true})
    },
  }
}
