import {openRegularFile} from '../io/regular-file.js'

/** UDIF disk images end with a 512-byte trailer starting `koly` (the apple-codesign crate's dmg.rs). */
const UDIF_TRAILER_BYTES = 512

/**
 * Names a container esdctl does not open (a disk image) from its last 512 bytes, with the way to
 * check what it holds; undefined for anything else. Reads only the file's tail; never throws.
 */
export async function unsupportedContainer(path: string, head: Buffer, size: number): Promise<{what: string; fix: string} | undefined> {
  if (size < UDIF_TRAILER_BYTES) return undefined
  // An unreadable tail is left to the generic message.
  const magic = await trailerMagic(path, size).catch(() => undefined)
  if (magic !== 'koly') return undefined
  return {what: 'a disk image (.dmg)', fix: `esdctl does not read disk images: mount it (hdiutil attach ${path}) and point esdctl at the .app or .pkg on the mounted volume.`}
}

/** The first 4 bytes of the last 512 of a file of `size` bytes, as latin1. */
async function trailerMagic(path: string, size: number): Promise<string> {
  const {handle: fh} = await openRegularFile(path)
  try {
    const tail = Buffer.alloc(4)
    await fh.read(tail, 0, 4, size - UDIF_TRAILER_BYTES)
    return tail.toString('latin1')
  } finally {
    await fh.close()
  }
}
