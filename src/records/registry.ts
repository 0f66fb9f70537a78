import {anyChangingCommand} from '../render/esdctl-command.js'
import {parseOwnJson, readRecordFile, RecordDamagedError, type RecordRead} from './own-json.js'
import {ToolPaths} from '../layout/prefix-layout.js'
import {RootFs} from '../adapters/root-fs.js'
import {registryProblem} from './record-schemas.js'
import {FormatError} from '../formats/format-error.js'

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

export function registryRepairHint(root = '/'): string {
  return `Any esdctl command that changes a daemon, run as root (${anyChangingCommand('NAME', root)}), moves it aside and rebuilds it from the install records under ${root === '/' ? '' : root}/opt/*/.esdctl/`
}

function entriesOf(file: RegistryFile): RegistryEntry[] {
  return file.daemons.map((e) => ({name: e.name, label: e.label, prefix: e.prefix}))
}

/** Parses and checks registry bytes; throws FormatError `registry.malformed` naming the file. */
export function parseRegistry(bytes: Buffer, path: string): RegistryEntry[] {
  const value = parseOwnJson(bytes, path, 'registry')
  const problem = registryProblem(value)
  if (problem !== undefined) throw new FormatError('registry.malformed', `${path}: ${problem}`)
  return entriesOf(value as RegistryFile)
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

/** Reads and checks the registry under `root` without throwing for damage. */
export async function inspectRegistry(root = '/', fs: RootFs = new RootFs()): Promise<RecordRead<RegistryEntry[]>> {
  const read = await readRecordFile<RegistryFile>(fs, new ToolPaths(root).registry, MAX_REGISTRY_BYTES, registryProblem)
  return read.state === 'ok' ? {state: 'ok', value: entriesOf(read.value)} : read
}

/**
 * The daemons esdctl installed under `root` (default `/`); empty when none ever were. Throws
 * RecordDamagedError (`registry.damaged`) naming the file, what is wrong and the repairing command.
 */
export async function readRegistry(root = '/', fs: RootFs = new RootFs()): Promise<RegistryEntry[]> {
  const read = await inspectRegistry(root, fs)
  if (read.state === 'damaged') throw new RecordDamagedError('registry', read.path, read.problem, registryRepairHint(root))
  return read.state === 'ok' ? read.value : []
}
