import {open} from 'node:fs/promises'

/** Thin (both byte orders) and universal (0xcafebabe, 0xcafebabf) Mach-O headers. */
const MACHO_MAGICS = new Set([0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe, 0xcafebabe, 0xcafebabf])

/** Whether the file starts like Mach-O code; codesign treats such a file inside a bundle as nested code. */
export async function looksLikeMachO(path: string): Promise<boolean> {
  const handle = await open(path, 'r')
  try {
    const head = Buffer.alloc(4)
    const {bytesRead} = await handle.read(head, 0, 4, 0)
    return bytesRead === 4 && MACHO_MAGICS.has(head.readUInt32BE(0))
  } finally {
    await handle.close()
  }
}
