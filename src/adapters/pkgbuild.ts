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

export class PkgbuildError extends Error {
  constructor(readonly code: number, readonly stderr: string) {
    super(`pkgbuild failed (${code})${stderr ? `: ${stderr}` : ''}`)
    this.name = 'PkgbuildError'
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
