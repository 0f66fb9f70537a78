import {createHash} from 'node:crypto'
import {lstatSync, openSync, readSync, closeSync, readdirSync, readFileSync, readlinkSync} from 'node:fs'
import {join} from 'node:path'

const MACHO_MAGICS = new Set([0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe, 0xcafebabe, 0xbebafeca])

/** Every file under `root` (or `root` itself) by SHA-256, skipping the _CodeSignature codesign writes. */
export function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {}
  const info = lstatSync(root)
  if (!info.isDirectory()) {
    out['.'] = digest(root)
    return out
  }
  const walk = (rel: string): void => {
    for (const entry of readdirSync(join(root, rel)).sort()) {
      const path = rel ? `${rel}/${entry}` : entry
      if (entry === '_CodeSignature') continue
      const full = join(root, path)
      const st = lstatSync(full)
      if (st.isDirectory()) walk(path)
      else if (st.isSymbolicLink()) out[path] = 'link:' + readlinkSync(full)
      else out[path] = digest(full)
    }
  }
  walk('')
  return out
}

function digest(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}

export function isMachO(path: string): boolean {
  const head = Buffer.alloc(4)
  const fd = openSync(path, 'r')
  try {
    if (readSync(fd, head, 0, 4, 0) < 4) return false
  } finally {
    closeSync(fd)
  }
  return MACHO_MAGICS.has(head.readUInt32BE(0))
}

/** The differences codesign lists under "a sealed resource is missing or invalid". */
export function sealDifferences(sealed: Record<string, string>, now: Record<string, string>): string[] {
  const out: string[] = []
  for (const [path, hash] of Object.entries(sealed)) {
    if (!(path in now)) out.push(`file missing: ${path}`)
    else if (now[path] !== hash) out.push(`file modified: ${path}`)
  }
  for (const path of Object.keys(now)) if (!(path in sealed)) out.push(`file added: ${path}`)
  return out
}
