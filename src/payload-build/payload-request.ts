import type {CodesignAdapter} from '../adapters/codesign.js'
import type {PkgbuildAdapter} from '../adapters/pkgbuild.js'
import type {TrustStore} from '../trust/trust-store.js'

export interface PayloadRequest {
  /** The signed `<name>.app`. */
  app: string
  /** The `esdctl.json` manifest. */
  manifest: string
  etc?: string
  lib?: string
  modules?: string
  share?: string
  /** Directory to create with the pkg root, scripts, component plist and instructions. */
  out: string
  /** Also run pkgbuild (macOS only). */
  pkg?: boolean
  /** Absolute path of esdctl on the target Macs; the pkg scripts run it. Default /usr/local/bin/esdctl. */
  esdctl?: string
  /**
   * A `npm run dist:darwin` tarball: the self-contained esdctl is put inside the payload and the
   * pkg scripts run that copy, so the pkg needs nothing on the Mac. Excludes a non-default `esdctl`.
   */
  withEsdctl?: string
  /** "Developer ID Installer: …" for pkgbuild/productbuild --sign. */
  installerIdentity?: string
  /** notarytool keychain profile name. */
  notaryProfile?: string
  /** Replace an existing `out`. */
  force?: boolean
}

export interface PayloadEnvironment {
  /** undefined: the system pkgbuild when available; null: behave as on a machine without it. */
  pkgbuild?: PkgbuildAdapter | null
  /** undefined: codesign's second opinion where /usr/bin/codesign exists (macOS); null: none. */
  codesign?: CodesignAdapter | null
  /** Roots the bundle's signature and embedded profile must chain to. Default: Apple's. */
  trust?: TrustStore
  now?: Date
}

export interface PackagingCommands {
  pkgbuild: string[]
  productbuild: string[]
  notarytool: string[]
  stapler: string[]
}

export interface PayloadResult {
  name: string
  label: string
  bundleId: string
  teamId: string
  version: string
  out: string
  /** The pkg root: its contents land at `/`. */
  root: string
  /** The install payload inside the pkg root; `esdctl install` takes this directory. */
  payload: string
  /** Where the pkg drops the payload on the target Mac. */
  installedPayload: string
  scripts: {preinstall: string; postinstall: string}
  componentPlist: string
  /** argv of each packaging step, run in `out`. */
  commands: PackagingCommands
  /** The same as shell lines, also written to `instructions`. */
  commandLines: string[]
  instructions: string
  pkg: {built: boolean; path?: string; reason?: string}
  /** With `withEsdctl`: the esdctl the pkg scripts run (launcher path on the Mac) and what it is. */
  bundledEsdctl?: {launcher: string; version: string; arch: string; node: {package: string; version: string; integrity: string}}
}
