import type {RootFs} from '../adapters/root-fs.js'
import {FormatError} from '../formats/format-error.js'

/**
 * esdctl's own state files (registry, install records, journals) are read the same way: absent
 * means none, anything but a regular file is refused (no link is followed), the size is bounded,
 * and the JSON must parse. Errors carry `<kind>.not-a-file` / `<kind>.malformed` and name the file.
 */
export async function readOwnFile(fs: RootFs, path: string, maxBytes: number, kind: string, what: string): Promise<Buffer | undefined> {
  const stat = await fs.lstat(path)
  if (stat === undefined) return undefined
  if (!stat.isFile()) throw new FormatError(`${kind}.not-a-file`, `${path}: expected ${what}, found something that is not a regular file`)
  return fs.readFile(path, maxBytes)
}

export function parseOwnJson(bytes: Buffer, path: string, kind: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'))
  } catch (e) {
    throw new FormatError(`${kind}.malformed`, `${path}: not valid JSON (${(e as Error).message})`)
  }
}
