import {openRegularFile} from './regular-file.js'
import {isMachOMagic} from '../formats/macho-magic.js'
import {FILE_HEAD_BYTES, parseFileLayout, sliceFileType} from '../formats/macho.js'

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

/**
 * Each slice's architecture and Mach-O `filetype` (MH_EXECUTE 2, MH_DYLIB 6, MH_OBJECT 1 …), every
 * slice of a universal file included. Reads the file header and 16 bytes per slice; throws
 * FormatError for a file that is not Mach-O (or whose layout is broken), the fs error when unreadable.
 */
export async function machOFileTypes(path: string): Promise<{arch: string; fileType: number}[]> {
  const {handle, size} = await openRegularFile(path)
  try {
    const head = Buffer.alloc(Math.min(size, FILE_HEAD_BYTES))
    const {bytesRead} = await handle.read(head, 0, head.length, 0)
    const layout = parseFileLayout(head.subarray(0, bytesRead), size)
    const types: {arch: string; fileType: number}[] = []
    for (const slice of layout.slices) {
      const header = Buffer.alloc(Math.min(16, slice.size))
      const read = await handle.read(header, 0, header.length, slice.offset)
      types.push({arch: slice.arch, fileType: sliceFileType(header.subarray(0, read.bytesRead))})
    }
    return types
  } finally {
    await handle.close()
  }
}
