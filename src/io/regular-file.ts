import {constants, type Stats} from 'node:fs'
import {open, type FileHandle} from 'node:fs/promises'

/**
 * Opening a named pipe for reading blocks until a writer appears, and reading a device or a socket
 * may never end, so verify opens nothing but regular files. O_NONBLOCK makes the open itself return
 * at once whatever the path turned into since it was last looked at; the fstat on the open handle
 * then decides, with no window between the check and the read.
 */
const READ_NONBLOCK = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0)

/** A path that is not a regular file; `code` lets callers that handle fs errors handle this too. */
export class NotRegularFileError extends Error {
  readonly code = 'ENOTREG'
  constructor(
    readonly path: string,
    /** With its article: "a named pipe", "a socket", "a device", "a folder". */
    readonly what: string,
  ) {
    super(`${path}: ${what}, not a regular file`)
  }
}

/** What a non-regular file is, in words with their article, for messages ("is a named pipe"). */
export function kindInWords(st: Pick<Stats, 'isFIFO' | 'isSocket' | 'isCharacterDevice' | 'isBlockDevice' | 'isDirectory' | 'isSymbolicLink' | 'isFile'>): string {
  if (st.isFile()) return 'a file'
  if (st.isDirectory()) return 'a folder'
  if (st.isSymbolicLink()) return 'a symbolic link'
  if (st.isFIFO()) return 'a named pipe'
  if (st.isSocket()) return 'a socket'
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device'
  return 'a special file'
}

/** Opens `path` for reading only when it is a regular file; otherwise throws NotRegularFileError (or the fs error). */
export async function openRegularFile(path: string): Promise<{handle: FileHandle; size: number}> {
  const handle = await open(path, READ_NONBLOCK)
  try {
    const st = await handle.stat()
    if (!st.isFile()) throw new NotRegularFileError(path, kindInWords(st))
    return {handle, size: st.size}
  } catch (e) {
    await handle.close()
    throw e
  }
}

/** readFile for regular files only: never blocks on a pipe, never reads a device forever. */
export async function readRegularFile(path: string): Promise<Buffer> {
  const {handle, size} = await openRegularFile(path)
  try {
    const buf = Buffer.alloc(size)
    let done = 0
    while (done < size) {
      const {bytesRead} = await handle.read(buf, done, size - done, done)
      if (bytesRead === 0) break
      done += bytesRead
    }
    return buf.subarray(0, done)
  } finally {
    await handle.close()
  }
}
