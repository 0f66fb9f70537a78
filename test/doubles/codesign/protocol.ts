/** What the test writes for the double and what the double writes back; shared by both sides. */
export interface CodesignDoubleConfig {
  /** Identities the double's "keychain" holds; `-` (ad hoc) always works, as it does for codesign. */
  identities: string[]
  /** JSON lines, one CodesignCall per invocation, appended in call order. */
  logPath: string
  /** What the double has signed, so verify can tell signed, unsigned and modified code apart. */
  statePath: string
  /**
   * Identities with a private key (test-PKI identities held by the test process): `--sign` by
   * certificate SHA-1 or common name signs for real, through the keychain socket.
   */
  keychain?: {socket: string; identities: KeychainIdentity[]}
}

/** What the double may know about a keychain identity: its certificate, never its private key. */
export interface KeychainIdentity {
  /** Upper-case hex SHA-1 of the certificate, as `security find-identity` lists it. */
  sha1: string
  commonName?: string
  teamId?: string
  /** A Developer ID Application certificate (its designated requirement has that form). */
  developerId: boolean
}

export interface KeychainRequest {
  sha1: string
  /** Base64 CodeDirectories, slot 0 first. */
  codeDirectories: string[]
  signingTime: string
  /** ISO time for an RFC 3161 timestamp from the test TSA, when --timestamp was given. */
  timestamp?: string
}

export type KeychainResponse = {cms: string} | {error: string}

export interface CodesignCall {
  /** 1-based position among all calls to this double. */
  seq: number
  argv: string[]
  cwd: string
  exitCode: number
  stderr: string
}

/** The seal the double keeps for one signed path: every file under it, by SHA-256. */
export interface SealRecord {
  identity: string
  identifier?: string
  runtime: boolean
  timestamp: boolean
  entitlements?: string
  files: Record<string, string>
  /**
   * Set when the double really signed (ad hoc or with a keychain identity): the designated
   * requirement's text, which a bundle's seal records for this code when it is nested.
   */
  requirement?: string
}

export type SealState = Record<string, SealRecord>

export const CONFIG_NAME = 'config.json'
export const CODESIGN_NAME = 'codesign'
