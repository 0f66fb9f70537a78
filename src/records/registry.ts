import {FormatError} from '../formats/format-error.js'
import {parseOwnJson, readOwnFile} from './own-json.js'
import {isValidLabel, isValidName} from '../layout/names.js'
import {ToolPaths} from '../layout/prefix-layout.js'
import {RootFs} from '../adapters/root-fs.js'

/** One daemon esdctl installed. */
export interface RegistryEntry {
  name: string
  label: string
  /** As on the booted Mac (not rebased). */
  prefix: string
}

interface RegistryFile {
  schemaVersion: 1
  daemons: RegistryEntry[]
}

export const REGISTRY_MODE = 0o644
const MAX_REGISTRY_BYTES = 4 * 1024 * 1024
const MAX_ENTRIES = 10_000

export function parseRegistry(bytes: Buffer, path: string): RegistryEntry[] {
  const file = parseOwnJson(bytes, path, 'registry') as Partial<RegistryFile> | null
  if (typeof file !== 'object' || file === null || file.schemaVersion !== 1 || !Array.isArray(file.daemons) || file.daemons.length > MAX_ENTRIES) {
    throw new FormatError('registry.malformed', `${path}: not an esdctl registry (schemaVersion 1 with a daemons list)`)
  }
  return file.daemons.map((entry, i) => {
    const e = entry as Partial<RegistryEntry> | null
    if (typeof e !== 'object' || e === null || !isValidName(e.name) || !isValidLabel(e.label) || typeof e.prefix !== 'string') {
      throw new FormatError('registry.malformed', `${path}: daemons[${i}] needs a valid name, label and prefix`)
    }
    return {name: e.name, label: e.label, prefix: e.prefix}
  })
}

export function serializeRegistry(entries: readonly RegistryEntry[]): string {
  const daemons = [...entries].sort((a, b) => a.name.localeCompare(b.name))
  return JSON.stringify({schemaVersion: 1, daemons} satisfies RegistryFile, null, 2) + '\n'
}

/** The registry with `entry` added or replaced (by name). */
export function withEntry(entries: readonly RegistryEntry[], entry: RegistryEntry): RegistryEntry[] {
  return [...entries.filter((e) => e.name !== entry.name), entry]
}

export function withoutEntry(entries: readonly RegistryEntry[], name: string): RegistryEntry[] {
  return entries.filter((e) => e.name !== name)
}

/** The daemons esdctl installed under `root` (default `/`); empty when none ever were. */
export async function readRegistry(root = '/', fs: RootFs = new RootFs()): Promise<RegistryEntry[]> {
  const path = new ToolPaths(root).registry
  const bytes = await readOwnFile(fs, path, MAX_REGISTRY_BYTES, 'registry', "esdctl's registry")
  return bytes === undefined ? [] : parseRegistry(bytes, path)
}
