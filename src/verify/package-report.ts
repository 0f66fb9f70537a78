import type {NotarizationReport} from './check-notarization.js'
import type {Finding} from './finding.js'
import type {ProfileReport, SliceReport} from './report.js'

/** Who signed a flat package, by the Apple marker on the leaf certificate. */
export type PackageSignerKind = 'developer-id-installer' | 'mac-installer-distribution' | 'other' | 'unsigned'

/** One component package of a product archive (or the package itself when it is a component). */
export interface ComponentReport {
  /** Its folder in the archive; '' for a bare component package. */
  path: string
  identifier?: string
  version?: string
  installLocation?: string
  scripts: string[]
}

/** The `package` object of `esdctl verify --json` for a `.pkg`. */
export interface PackageReport {
  format: 'product-archive' | 'component-package'
  identifier?: string
  version?: string
  installLocation?: string
  signer: PackageSignerKind
  signerName?: string
  teamId?: string
  /** ISO 8601: the CMS signature's secure timestamp, when it has a valid one. */
  timestamp?: string
  notarization: NotarizationReport
  /** Every script the package runs, as `<component>/Scripts/<name>`. */
  scripts: string[]
  components: ComponentReport[]
}

/** One code item found in a package's payload, verified as `esdctl verify` verifies it on disk. */
export interface ContainedItemReport {
  /** Where it is in the package: `<component>/Payload/<path>`. */
  path: string
  /** `package` and `profile` only below a folder: a package's payload holds bundles and Mach-O files. */
  kind: 'bundle' | 'macho' | 'package' | 'profile'
  slices: SliceReport[]
  profile?: ProfileReport
  notarization?: NotarizationReport
  /** A package below a folder: the kinds of code its payloads hold (so a reader knows which checks ran on it); see containedKinds. */
  contains?: ('bundle' | 'macho')[]
  findings: Finding[]
}

/**
 * The kinds of code (bundles, bare Mach-O files) among a package's items, each once, in the order
 * met: what a folder or an archive shows as what a package below it contains.
 */
export function containedKinds(items: readonly ContainedItemReport[]): ('bundle' | 'macho')[] {
  return [...new Set(items.flatMap(i => (i.kind === 'bundle' || i.kind === 'macho' ? [i.kind] : [])))]
}
