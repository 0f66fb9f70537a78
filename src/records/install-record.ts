import {FormatError} from '../formats/format-error.js'
import {parseOwnJson, readOwnFile} from './own-json.js'
import {isValidBundlePath, isValidLabel, isValidLinkPath, isValidLinkTarget, isValidName} from '../layout/names.js'
import type {PrefixLayout} from '../layout/prefix-layout.js'
import {RootFs} from '../adapters/root-fs.js'

/**
 * esdctl's record of what is installed for one daemon, at `layout.receipt` (root-only 0600).
 * `status` and `doctor` read it; keep the shape stable and bump schemaVersion on any change.
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
  /** As on the booted Mac (not rebased). */
  executable: string
  /** Where the bundle sits inside the prefix; absent in records written before it existed, meaning `<name>.app`. */
  bundle?: string
  /** The links this version maintains (manifest form, targets explicit); absent meaning `bin/<name>` → the executable. */
  links?: {path: string; target: string}[]
  healthCheck?: {runningSeconds: number; command?: string[]}
  previous?: {version: string; build?: string}
}

export const RECORD_MODE = 0o600
/** A record is a few kilobytes; config hashes of a thousand files stay far below this. */
export const MAX_RECORD_BYTES = 4 * 1024 * 1024

function isString(v: unknown): v is string {
  return typeof v === 'string'
}

function isRecordOfStrings(v: unknown): v is Record<string, string> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every(isString)
}

/** Checks the fields readers rely on; returns what is wrong, or undefined. */
export function installRecordProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object'
  const r = value as Record<string, unknown>
  if (r['schemaVersion'] !== 1) return `schemaVersion is ${JSON.stringify(r['schemaVersion'])}, this esdctl reads 1`
  if (!isValidName(r['name'])) return 'name is missing or invalid'
  if (!isValidLabel(r['label'])) return 'label is missing or invalid'
  for (const key of ['bundleId', 'teamId', 'version', 'installedAt', 'plistPath', 'executable']) {
    if (!isString(r[key])) return `${key} is missing or not a string`
  }
  if (!Array.isArray(r['cdhashes']) || !r['cdhashes'].every((c) => typeof c === 'object' && c !== null && isString((c as {arch: unknown}).arch) && isString((c as {cdhash: unknown}).cdhash))) {
    return 'cdhashes is not a list of {arch, cdhash}'
  }
  if (typeof r['signer'] !== 'object' || r['signer'] === null || !isString((r['signer'] as {kind: unknown}).kind)) return 'signer.kind is missing'
  if (!isRecordOfStrings(r['configHashes'])) return 'configHashes is not a map of strings'
  if (r['bundle'] !== undefined && !isValidBundlePath(r['bundle'])) return 'bundle is not a path inside the prefix ending in .app'
  if (r['links'] !== undefined && !(Array.isArray(r['links']) && r['links'].every((l) => typeof l === 'object' && l !== null && isValidLinkPath((l as {path: unknown}).path) && isValidLinkTarget((l as {target: unknown}).target)))) {
    return 'links is not a list of {path, target} inside the allowed places'
  }
  return undefined
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

/** Reads a record at an explicit path (the receipt, or the rollback slot's copy). */
export async function readInstallRecordAt(path: string, fs: RootFs = new RootFs()): Promise<InstallRecord | undefined> {
  const bytes = await readOwnFile(fs, path, MAX_RECORD_BYTES, 'record', "esdctl's install record")
  return bytes === undefined ? undefined : parseInstallRecord(bytes, path)
}

/** The record of what is installed for this daemon; undefined when nothing is. Throws FormatError for a damaged record. */
export function readInstallRecord(layout: PrefixLayout): Promise<InstallRecord | undefined> {
  return readInstallRecordAt(layout.receipt)
}
