import {read, readSync} from 'node:fs'

/**
 * Reads until `length` bytes are in `buffer` or the file ends; returns how many arrived. A
 * regular file may return fewer bytes than asked without being at its end, so one call is not
 * enough to tell a short file from a short read.
 */
export function readAtSync(fd: number, buffer: Uint8Array, length: number, position: number): number {
  let filled = 0
  while (filled < length) {
    const n = readSync(fd, buffer, filled, length - filled, position + filled)
    if (n === 0) break
    filled += n
  }
  return filled
}

export async function readAt(fd: number, buffer: Uint8Array, length: number, position: number): Promise<number> {
  let filled = 0
  while (filled < length) {
    const n = await readOnce(fd, buffer, filled, length - filled, position + filled)
    if (n === 0) break
    filled += n
  }
  return filled
}

function readOnce(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    read(fd, buffer, offset, length, position, (error, bytesRead) => (error ? reject(error) : resolve(bytesRead)))
  })
}
