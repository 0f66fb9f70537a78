import type {PlistDict} from '../formats/property-list.js'
import type {NotarizationReport} from './check-notarization.js'
import type {Finding} from './finding.js'
import type {ContainedItemReport, PackageReport} from './package-report.js'
import type {SignerKind} from './signer-kind.js'

/** The shape `esdctl verify --json` prints; documented in the README. Keep it stable. */
export interface SliceReport {
  arch: string
  identifier?: string
  teamId?: string
  /** Hex of the slot-0 CodeDirectory's cdhash (20 bytes). */
  cdhash?: string
  flags: string[]
  hashType?: string
  signer: SignerKind
  signerName?: string
  /** Upper-case hex SHA-256 of the signing (leaf) certificate's DER. */
  signerSha256?: string
  entitlements: PlistDict
  designatedRequirement?: string
}

export interface ProfileReport {
  path: string
  name: string
  uuid: string
  teamId?: string
  appId?: string
  expires?: string
  kind: string
  platforms: string[]
  entitlements: PlistDict
}

export type ArtifactKind = 'bundle' | 'macho' | 'profile' | 'package' | 'folder' | 'unknown'

export interface VerifyReport {
  ok: boolean
  path: string
  kind: ArtifactKind
  findings: Finding[]
  slices: SliceReport[]
  profile?: ProfileReport
  /** The stapled notarization ticket: bundles (Contents/CodeResources) and flat packages (appended). */
  notarization?: NotarizationReport
  /** A flat installer package (.pkg): what it installs, who signed it. */
  package?: PackageReport
  /** A package's or a folder's contained code: one entry per bundle or Mach-O file in its payloads or below it. */
  items?: ContainedItemReport[]
}
