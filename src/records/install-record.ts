import {createHash} from 'node:crypto'
import {anyChangingCommand} from '../render/esdctl-command.js'
import {FormatError} from '../formats/format-error.js'
import {parseOwnJson, readRecordFile, RecordDamagedError, type RecordRead} from './own-json.js'
import type {PrefixLayout} from '../layout/prefix-layout.js'
import {RootFs} from '../adapters/root-fs.js'
import {installRecordProblem} from './record-schemas.js'

export {installRecordProblem} from './record-schemas.js'

/**
 * esdctl's record of what is installed for one daemon, at `layout.receipt` (root-only 0600).
 * `status` and `doctor` read it; keep the shape stable and bump schemaVersion on any change.
 * The schema checked on every read is INSTALL_RECORD_SCHEMA (record-schemas.ts).
 */
export interface InstallRecord {
  schemaVersion: 1
  name: string
  label: string
  bundleId: string
  teamId: string
  /** CFBundleShortVersionString. */
  version: string
  /** CFBundleVersion. */
  build?: string
  /** ISO 8601. */
  installedAt: string
  /** SUDO_USER of the run that installed it. */
  installedBy?: string
  cdhashes: {arch: string; cdhash: string}[]
  signer: {kind: string; commonName?: string; leafSha256?: string}
  designatedRequirement?: string
  profile?: {uuid: string; name: string; expires: string; kind: string}
  /** etc/-relative path → sha256 of the default this version shipped. */
  configHashes: Record<string, string>
  /** As on the booted Mac (not rebased). */
  plistPath: string
  /**
   * SHA-256 hex of the launchd plist this install wrote at plistPath: doctor tells any later edit
   * from it, including values a manifest could have asked for. Absent in records written before it
   * existed and in rebuilt ones (the plist on disk is then the only witness).
   */
  plistSha256?: string
  /** As on the booted Mac (not rebased). */
  executable: string
  /** Where the bundle sits inside the prefix; absent in records written before it existed, meaning `<name>.app`. */
  bundle?: string
  /** The links this version maintains (manifest form, targets explicit); absent meaning `bin/<name>` → the executable. */
  links?: {path: string; target: string}[]
  healthCheck?: {runningSeconds: number; command?: string[]}
  previous?: {version: string; build?: string}
  /**
   * ISO 8601; set when this record was rebuilt from the installed bundle, plist and links after the
   * original was found damaged. `installedAt` is then the rebuild time, and configHashes comes from
   * the shipped defaults kept beside the install (empty when they are gone: every etc/ file then
   * counts as the admin's and is kept).
   */
  rebuiltAt?: string
  /**
   * Set by the install that adopted a legacy layout (DESIGN.md §11): every file it moved or copied
   * into the rollback slot, by path relative to the slot, with its SHA-256, so a rollback to the
   * legacy install can tell they are still what was adopted. `etcDefaults`: the etc/-relative
   * config files beside which the adoption wrote `<file>.default` (the legacy file was the admin's);
   * `createdDirs`: the prefix-relative directories it created for StandardOutPath/StandardErrorPath,
   * outermost first. A rollback to the legacy install removes both (a `.default` only while it is
   * still the bytes esdctl wrote, a directory only while empty), so etc/ and var/ are as adopted.
   */
  adopted?: {files: AdoptedFile[]; etcDefaults?: string[]; createdDirs?: string[]}
}

/** A legacy file adoption keeps in the rollback slot: its path relative to the slot, and its SHA-256 (hex). */
export interface AdoptedFile {
  path: string
  sha256: string
}

export const RECORD_MODE = 0o600
/** A record is a few kilobytes; config hashes of a thousand files stay far below this. */
export const MAX_RECORD_BYTES = 4 * 1024 * 1024

/** What to run when a record is damaged: any command that changes the daemon repairs it first. */
export function recordRepairHint(name: string | undefined, root = '/'): string {
  const who = name ?? 'NAME'
  return `Any esdctl command that changes ${who}, run as root (${anyChangingCommand(who, root)}), moves it aside and rebuilds it from the installed bundle, launchd plist and links`
}

export function parseInstallRecord(bytes: Buffer, path: string): InstallRecord {
  const value = parseOwnJson(bytes, path, 'record')
  const problem = installRecordProblem(value)
  if (problem !== undefined) throw new FormatError('record.malformed', `${path}: ${problem}`)
  return value as InstallRecord
}

export function serializeInstallRecord(record: InstallRecord): string {
  return JSON.stringify(record, null, 2) + '\n'
}

/** Reads and checks a record at `path` without throwing for damage. */
export function inspectInstallRecordAt(path: string, fs: RootFs = new RootFs()): Promise<RecordRead<InstallRecord>> {
  return readRecordFile<InstallRecord>(fs, path, MAX_RECORD_BYTES, installRecordProblem)
}

/**
 * Reads a record at an explicit path (the receipt, or the rollback slot's copy); undefined when
 * absent. Throws RecordDamagedError (a FormatError, `record.damaged`) naming the file, what is wrong
 * and the command that repairs it.
 */
export async function readInstallRecordAt(path: string, fs: RootFs = new RootFs()): Promise<InstallRecord | undefined> {
  const read = await inspectInstallRecordAt(path, fs)
  if (read.state === 'damaged') throw new RecordDamagedError('record', path, read.problem, recordRepairHint(nameFromReceiptPath(path), rootFromReceiptPath(path)))
  return read.state === 'ok' ? read.value : undefined
}

/** `/…/opt/<name>/.esdctl/receipt.json` (or `…/previous/receipt.json`) → name, for messages. */
/** The --root a rebased receipt path lies under (`<root>/opt/<name>/.esdctl/…`); `/` for the live system. */
function rootFromReceiptPath(path: string): string {
  const at = path.search(/\/opt\/[^/]+\/\.esdctl\//)
  return at > 0 ? path.slice(0, at) : '/'
}

function nameFromReceiptPath(path: string): string | undefined {
  const match = /\/opt\/([^/]+)\/\.esdctl\//.exec(path)
  return match?.[1]
}

/** The record of what is installed for this daemon; undefined when nothing is. Throws RecordDamagedError for a damaged record. */
export function readInstallRecord(layout: PrefixLayout): Promise<InstallRecord | undefined> {
  return readInstallRecordAt(layout.receipt)
}

/** The value of InstallRecord.plistSha256 for a launchd plist's bytes: SHA-256, lower-case hex. Install writes it, doctor compares it. */
export function plistSha256Of(bytes: string | Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}
