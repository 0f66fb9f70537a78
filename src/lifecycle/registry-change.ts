import type {RootFs} from '../adapters/root-fs.js'
import type {PrefixLayout, ToolPaths} from '../layout/prefix-layout.js'
import {readRegistry, REGISTRY_MODE, serializeRegistry, withEntry, withoutEntry} from '../records/registry.js'

/** Adds or removes the daemon's entry in esdctl's registry; an empty registry is no file at all. */
export async function writeRegistryChange(fs: RootFs, tool: ToolPaths, root: string, change: 'add' | 'remove', layout: PrefixLayout): Promise<void> {
  const entries = await readRegistry(root, fs)
  const next = change === 'add' ? withEntry(entries, {name: layout.name, label: layout.label, prefix: layout.system.prefix}) : withoutEntry(entries, layout.name)
  // An empty registry is no registry: a first install that was undone leaves no file behind.
  if (next.length === 0) return fs.removeTree(tool.registry)
  await fs.ensureDir(tool.dir, 0o755)
  await fs.writeFileAtomic(tool.registry, serializeRegistry(next), REGISTRY_MODE)
}
