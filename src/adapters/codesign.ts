import {accessSync, constants} from 'node:fs'
import {isAbsolute} from 'node:path'
import {execa} from 'execa'
import {CODESIGN_NOT_RUN, CodesignError} from './codesign-error.js'
import {CODESIGN_EXIT, readCodesignVerifyOutput, type CodesignProblem} from './codesign-verify-output.js'

export {CodesignError, CODESIGN_NOT_RUN} from './codesign-error.js'

export interface CodesignOptions {
  /** Default `/usr/bin/codesign`. Only tests set it (to the double); never read from env or flags. */
  executable?: string
}

export interface CodesignSignOptions {
  /** A keychain identity: its common name ("Developer ID Application: …") or SHA-1, or `-` for ad hoc. */
  identity: string
  /** A plist file with the entitlements to embed. */
  entitlements?: string
  /** The hardened runtime (`--options runtime`); notarization requires it. */
  runtime?: boolean
  /** A secure timestamp from Apple's server (`--timestamp`); notarization requires it. */
  timestamp?: boolean
  identifier?: string
  /** Replace an existing signature; without it codesign refuses code that is already signed. */
  force?: boolean
}

export interface CodesignVerification {
  ok: boolean
  /** stderr then stdout: codesign reports on stderr, even success. */
  output: string
  /** Why it was rejected, read from the output (empty when ok, or when codesign gave no reason esdctl can read). */
  problems: CodesignProblem[]
}

export const DEFAULT_CODESIGN = '/usr/bin/codesign'
/** Timestamping waits on Apple's server; longer than this is a hang. */
const CALL_TIMEOUT_MS = 10 * 60_000
const MAX_OUTPUT_BYTES = 4 * 1024 * 1024

/**
 * The one place esdctl runs codesign. Paths must be absolute so no argument can be read as an
 * option, and each signing call names exactly one piece of code: the caller signs nested code
 * first, then the bundle, as codesign requires without `--deep`.
 */
export class CodesignAdapter {
  readonly executable: string

  constructor(opts: CodesignOptions = {}) {
    this.executable = opts.executable ?? DEFAULT_CODESIGN
  }

  /** True on macOS when the system codesign can be executed. */
  static available(): boolean {
    if (process.platform !== 'darwin') return false
    try {
      accessSync(DEFAULT_CODESIGN, constants.X_OK)
      return true
    } catch {
      return false
    }
  }

  /** The argv `sign` runs, for scripts that must run the same thing on another machine. */
  static signArguments(path: string, opts: CodesignSignOptions): string[] {
    checkPath('sign', path)
    if (opts.identity.length === 0 || /[\0\n\r]/.test(opts.identity)) {
      throw new CodesignError('sign', path, CODESIGN_NOT_RUN, `codesign was not run: not a usable identity: ${JSON.stringify(opts.identity)}`)
    }
    const args = ['--sign', opts.identity]
    if (opts.force) args.push('--force')
    if (opts.runtime) args.push('--options', 'runtime')
    if (opts.timestamp) args.push('--timestamp')
    if (opts.identifier !== undefined) args.push('--identifier', opts.identifier)
    if (opts.entitlements !== undefined) {
      checkPath('sign', opts.entitlements)
      args.push('--entitlements', opts.entitlements)
    }
    args.push(path)
    return args
  }

  static verifyArguments(path: string): string[] {
    checkPath('verify', path)
    return ['--verify', '--strict', '--deep', '-vvvv', path]
  }

  async verify(path: string): Promise<CodesignVerification> {
    const result = await this.run('verify', path, CodesignAdapter.verifyArguments(path))
    // Exit 2 is codesign refusing its arguments: no verdict about the code, so not a rejection of it.
    if (result.exitCode === CODESIGN_EXIT.invalidArguments) throw new CodesignError('verify', path, result.exitCode, result.stderr.trim())
    const output = [result.stderr, result.stdout].filter(Boolean).join('\n').trim()
    const ok = result.exitCode === CODESIGN_EXIT.verified
    return {ok, output, problems: ok ? [] : readCodesignVerifyOutput(output, path)}
  }

  async sign(path: string, opts: CodesignSignOptions): Promise<void> {
    const result = await this.run('sign', path, CodesignAdapter.signArguments(path, opts))
    if (result.exitCode !== 0) throw new CodesignError('sign', path, result.exitCode, result.stderr.trim())
  }

  private async run(action: 'sign' | 'verify', path: string, args: string[]): Promise<{exitCode: number; stdout: string; stderr: string}> {
    const result = await execa(this.executable, args, {
      reject: false,
      stdin: 'ignore',
      timeout: CALL_TIMEOUT_MS,
      maxBuffer: MAX_OUTPUT_BYTES,
    })
    if (typeof result.exitCode !== 'number' || result.timedOut || result.isTerminated) {
      throw new CodesignError(action, path, CODESIGN_NOT_RUN, `could not run ${this.executable}: ${result.shortMessage ?? 'no exit code'}`)
    }
    return {exitCode: result.exitCode, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? '')}
  }
}

function checkPath(action: 'sign' | 'verify', path: string): void {
  if (!isAbsolute(path) || /[\0\n\r]/.test(path)) {
    throw new CodesignError(action, path, CODESIGN_NOT_RUN, `codesign was not run: path must be absolute, got ${JSON.stringify(path)}`)
  }
}
