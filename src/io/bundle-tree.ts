import {lstat, readdir, readlink} from 'node:fs/promises'
import {join} from 'node:path'
import {FormatError} from '../formats/format-error.js'
import {kindInWords} from './regular-file.js'

export interface TreeEntry {
  /** Relative to the walked root, with forward slashes. */
  rel: string
  kind: 'file' | 'symlink' | 'dir' | 'other'
  size: number
  mode: number
  linkTarget?: string
  /** The kind in words with its article, for messages: "a file", "a named pipe", "a socket", "a device"… */
  what: string
}

export const MAX_TREE_ENTRIES = 100_000
const MAX_DEPTH = 64

/**
 * Lists everything below `root` without following symlinks (a link is reported as a link, never
 * walked through). Bounded in entries and depth, so a hostile bundle cannot make us walk forever.
 */
export async function walkTree(root: string, skip: (rel: string) => boolean = () => false): Promise<TreeEntry[]> {
  const out: TreeEntry[] = []
  async function visit(dir: string, prefix: string, depth: number): Promise<void> {
    if (depth > MAX_DEPTH) throw new FormatError('tree.too-deep', `${dir}: nested more than ${MAX_DEPTH} levels deep`)
    const names = (await readdir(dir)).sort()
    for (const name of names) {
      const rel = prefix ? `${prefix}/${name}` : name
      if (skip(rel)) continue
      if (out.length >= MAX_TREE_ENTRIES) throw new FormatError('tree.too-many', `${root}: more than ${MAX_TREE_ENTRIES} entries`)
      const abs = join(dir, name)
      const st = await lstat(abs)
      const kind = st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other'
      const entry: TreeEntry = {rel, kind, size: st.size, mode: st.mode, what: kindInWords(st)}
      if (kind === 'symlink') entry.linkTarget = await readlink(abs)
      out.push(entry)
      if (kind === 'dir') await visit(abs, rel, depth + 1)
    }
  }
  await visit(root, '', 0)
  return out
}
