import {openRegularFile} from './regular-file.js'
import {isMachOMagic} from '../formats/macho-magic.js'

/** Whether the file starts like Mach-O code; codesign treats such a file inside a bundle as nested code. */
export async function looksLikeMachO(path: string): Promise<boolean> {
  const {handle} = await openRegularFile(path)
  try {
    const head = Buffer.alloc(8)
    const {bytesRead} = await handle.read(head, 0, 8, 0)
    return isMachOMagic(head.subarray(0, bytesRead))
  } finally {
    await handle.close()
  }
}
