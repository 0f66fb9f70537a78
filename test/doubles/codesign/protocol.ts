/** What the test writes for the double and what the double writes back; shared by both sides. */
export interface CodesignDoubleConfig {
  /** Identities the double's "keychain" holds; `-` (ad hoc) always works, as it does for codesign. */
  identities: string[]
  /** JSON lines, one CodesignCall per invocation, appended in call order. */
  logPath: string
  /** What the double has signed, so verify can tell signed, unsigned and modified code apart. */
  statePath: string
}

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
}

export type SealState = Record<string, SealRecord>

export const CONFIG_NAME = 'config.json'
export const CODESIGN_NAME = 'codesign'
