import {accessSync, constants} from 'node:fs'
import {isAbsolute} from 'node:path'
import {execa} from 'execa'

export interface PkgbuildOptions {
  /** Default `/usr/bin/pkgbuild`. Only tests set it (to the double); never read from env or flags. */
  executable?: string
}

export interface ComponentPackage {
  /** Directory whose contents land at `installLocation`. */
  root: string
  /** Directory holding preinstall / postinstall. */
  scripts: string
  /** Component property list; pins the bundle's location (BundleIsRelocatable false). */
  componentPlist: string
  identifier: string
  version: string
  installLocation: string
  /** "Developer ID Installer: …"; unsigned when absent. */
  sign?: string
  /** The .pkg to write. */
  output: string
}

/**
 * pkgbuild failed. Its stderr mixes progress (`pkgbuild: Adding component at …`) with the error
 * (`pkgbuild: error: …`); the message keeps the error lines. A missing signing identity is named
 * (`missingIdentity`), read from the wording real pkgbuild/productsign print, typographic quotes
 * included (../shared/fixtures/macos-transcripts/12, blocks A and D).
 */
export class PkgbuildError extends Error {
  /** The identity pkgbuild could not find in the keychain, when that was the error. */
  readonly missingIdentity?: string

  constructor(readonly code: number, readonly stderr: string) {
    const missing = /Could not find appropriate signing identity for \u201c([^\u201d\n]{1,512})\u201d/.exec(stderr)?.[1]
    const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean)
    const errors = lines.filter((l) => /^[a-z]+: error: /.test(l))
    const said = (errors.length > 0 ? errors : lines.filter((l) => !/^[a-z]+: Adding component at /.test(l))).join('; ')
    const why = missing !== undefined
      ? `no signing identity \u201c${missing}\u201d in the keychain; --sign needs a "Developer ID Installer: \u2026" identity (an installer signing identity, not an application one) in a keychain of the user running pkgbuild`
      : said
    super(`pkgbuild failed (${code})${why ? `: ${why}` : ''}`)
    this.name = 'PkgbuildError'
    if (missing !== undefined) this.missingIdentity = missing
  }
}

export const DEFAULT_PKGBUILD = '/usr/bin/pkgbuild'
const CALL_TIMEOUT_MS = 10 * 60_000
const MAX_OUTPUT_BYTES = 4 * 1024 * 1024

/** The one place esdctl runs pkgbuild; every path absolute so none can be read as an option. */
export class PkgbuildAdapter {
  readonly executable: string

  constructor(opts: PkgbuildOptions = {}) {
    this.executable = opts.executable ?? DEFAULT_PKGBUILD
  }

  static available(): boolean {
    if (process.platform !== 'darwin') return false
    try {
      accessSync(DEFAULT_PKGBUILD, constants.X_OK)
      return true
    } catch {
      return false
    }
  }

  static arguments(pkg: ComponentPackage): string[] {
    for (const path of [pkg.root, pkg.scripts, pkg.componentPlist, pkg.installLocation, pkg.output]) {
      if (!isAbsolute(path) || /[\0\n\r]/.test(path)) throw new PkgbuildError(-1, `pkgbuild was not run: path must be absolute, got ${JSON.stringify(path)}`)
    }
    const args = ['--root', pkg.root, '--component-plist', pkg.componentPlist, '--scripts', pkg.scripts, '--identifier', pkg.identifier, '--version', pkg.version, '--install-location', pkg.installLocation]
    if (pkg.sign !== undefined) args.push('--sign', pkg.sign, '--timestamp')
    args.push(pkg.output)
    return args
  }

  async build(pkg: ComponentPackage): Promise<void> {
    const result = await execa(this.executable, PkgbuildAdapter.arguments(pkg), {reject: false, stdin: 'ignore', timeout: CALL_TIMEOUT_MS, maxBuffer: MAX_OUTPUT_BYTES})
    if (typeof result.exitCode !== 'number' || result.timedOut || result.isTerminated) {
      throw new PkgbuildError(-1, `could not run ${this.executable}: ${result.shortMessage ?? 'no exit code'}`)
    }
    if (result.exitCode !== 0) throw new PkgbuildError(result.exitCode, String(result.stderr ?? '').trim())
  }
}
