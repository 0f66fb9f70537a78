import {open} from 'node:fs/promises'
import {isMachOMagic} from '../formats/macho-magic.js'

/** Whether the file starts like Mach-O code; codesign treats such a file inside a bundle as nested code. */
export async function looksLikeMachO(path: string): Promise<boolean> {
  const handle = await open(path, 'r')
  try {
    const head = Buffer.alloc(4)
    const {bytesRead} = await handle.read(head, 0, 4, 0)
    return bytesRead === 4 && isMachOMagic(head)
  } finally {
    await handle.close()
  }
}
