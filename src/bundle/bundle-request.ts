import type {CodesignAdapter} from '../adapters/codesign.js'
import type {TrustStore} from '../trust/trust-store.js'
import type {Finding} from '../verify/finding.js'
import type {VerifyReport} from '../verify/report.js'
import type {PlistDict} from '../formats/property-list.js'

export interface BundleRequest {
  /** The pre-compiled daemon (a Mach-O); its file name becomes CFBundleExecutable and, by default, the bundle's name. */
  executable: string
  /** The bundle's name (`<name>.app`) when it differs from the executable's, e.g. osquery for osqueryd. */
  name?: string
  /** The Developer ID provisioning profile to embed. */
  profile: string
  bundleId: string
  /** CFBundleShortVersionString. */
  version: string
  /** CFBundleVersion; default `version`. */
  build?: string
  /** Keychain identity for codesign (name or SHA-1); default the profile's only developer certificate. */
  identity?: string
  /** Copied into Contents/Resources. */
  resources?: string
  /** Restricted entitlements to claim: `KEY` (true) or `KEY=a,b` (a string list). Default: Endpoint Security. */
  entitlements?: string[]
  /** LSMinimumSystemVersion; default 12.0. */
  minMacos?: string
  /** Directory that receives `<name>.app`, `<name>.entitlements` and, unsigned, `sign.sh`. */
  out: string
  /** Replace an existing bundle in `out`. */
  force?: boolean
  /** Accept a development profile (the daemon then runs only on the Macs it lists); refused otherwise. */
  allowDevelopmentProfile?: boolean
}

export interface BundleEnvironment {
  /** undefined: the system codesign when available; null: behave as on a machine without codesign. */
  codesign?: CodesignAdapter | null
  /** Roots for the profile and the verification of the result. Default: Apple's. */
  trust?: TrustStore
  now?: Date
}

/** One codesign invocation, in the order they run: nested code first, the bundle last. */
export interface SigningStep {
  /** Relative to the output directory, e.g. `thed.app/Contents/Resources/helper`. */
  target: string
  argv: string[]
}

export interface BundleResult {
  name: string
  app: string
  bundleId: string
  teamId: string
  version: string
  build: string
  entitlementsFile: string
  entitlements: PlistDict
  profile: {path: string; name: string; uuid: string; appId?: string; expires?: string}
  identity: string
  signed: boolean
  /** Present when codesign was absent: run it on a Mac to sign. */
  script?: string
  signing: SigningStep[]
  /** The verifier's report on the signed bundle. */
  verify?: VerifyReport
  /** codesign's own `--verify --strict --deep` output, as a second opinion. */
  codesignVerify?: string
  /** What verify warns about the profile (profile.development under --allow-development-profile, …). */
  warnings: Finding[]
}
