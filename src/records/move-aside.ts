import type {RootFs} from '../adapters/root-fs.js'

/** `20261130T095600Z`: sortable, and free of characters a shell or a Finder window would mangle. */
function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '')
}

/**
 * Moves a damaged record (whatever it is: file, directory, link; nothing is followed) aside to
 * `<path>.damaged-<UTC time>` in the same directory, then makes it root-only (0600 for a file,
 * 0700 for a directory; a link's own mode means nothing and is left). The admin can still read it
 * to see what happened; no reader of esdctl's looks at it again. `asideBase` replaces `path` as the
 * name's stem when the record's own directory may be deleted (the rollback slot is retired by the
 * next upgrade). Returns the new path.
 */
export async function moveAside(fs: RootFs, path: string, nowMs: number, asideBase: string = path): Promise<string> {
  const base = `${asideBase}.damaged-${stamp(nowMs)}`
  let aside = base
  for (let n = 2; (await fs.lstat(aside)) !== undefined; n++) aside = `${base}-${n}`
  await fs.rename(path, aside)
  const stat = await fs.lstat(aside)
  if (stat?.isDirectory()) await fs.setOwnerAndMode(aside, 0o700)
  else if (stat?.isFile()) await fs.setOwnerAndMode(aside, 0o600)
  return aside
}
