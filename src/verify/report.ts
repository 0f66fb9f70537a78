import type {HashAlgorithm} from '../formats/hash-type.js'
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
  /**
   * Hex cdhash (20 bytes) of the strongest CodeDirectory (strongestCodeDirectory): codesign's
   * `CDHash=`, SHA-256 for a signature that also carries SHA-1. Identifier, teamId, flags and
   * hashType are that CodeDirectory's too.
   */
  cdhash?: string
  /** Every CodeDirectory's cdhash, slot order (codesign's `CandidateCDHash <hashType>=`); any of them identifies this code. Absent when unsigned. */
  candidateCdhashes?: Array<{hashType: HashAlgorithm; cdhash: string}>
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

/** One item of nested code a bundle's seal names, verified in depth: the tree `esdctl verify` shows. */
export interface NestedCodeReport {
  /** Relative to the parent's content directory (`Frameworks/Kit.framework`, `MacOS/helper`). */
  path: string
  /** `bundle` (its own Info.plist, executable and seal), `macho` (a signed file) or `xattr-signed` (a script or other non-Mach-O code). */
  kind: 'bundle' | 'macho' | 'xattr-signed'
  identifier?: string
  teamId?: string
  /** Hex cdhash of the first slice's strongest CodeDirectory (SliceReport.cdhash). */
  cdhash?: string
  /** Absent when no slice of it was read: never `unsigned` for code esdctl could not open. */
  signer?: SignerKind
  /** The system's refusal (`EACCES`, `EPERM`, `EIO` …) when the nested code could not be read at all (its input.unreadable finding names it). */
  unreadable?: string
  /** No error finding inside it or about it. */
  ok: boolean
  nested?: NestedCodeReport[]
}

export type ArtifactKind = 'bundle' | 'macho' | 'profile' | 'package' | 'folder' | 'archive' | 'unknown'

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
  /** Nested code of a bundle, as a tree; absent when there is none. */
  nested?: NestedCodeReport[]
}
