import type {FileHandle} from 'node:fs/promises'
import {NotRegularFileError, openRegularFile} from './regular-file.js'
import {FormatError} from '../formats/format-error.js'

/**
 * Positional reads from one open file descriptor. Every read is checked against the size taken when
 * the file was opened, so a structure that claims bytes past the end becomes a FormatError rather
 * than a short buffer; the checks and the reads happen on the same open file, never a re-resolved path.
 */
export class RandomAccessFile {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    readonly size: number,
  ) {}

  static async open(path: string): Promise<RandomAccessFile> {
    let opened
    try {
      opened = await openRegularFile(path)
    } catch (e) {
      if (e instanceof NotRegularFileError) throw new FormatError('io.not-a-file', e.message)
      throw e
    }
    return new RandomAccessFile(path, opened.handle, opened.size)
  }

  async read(offset: number, length: number, what: string): Promise<Buffer> {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new FormatError('io.out-of-bounds', `${this.path}: ${what} (offset ${offset}, ${length} bytes) lies beyond the file's ${this.size} bytes`)
    }
    const buf = Buffer.allocUnsafe(length)
    let done = 0
    while (done < length) {
      const {bytesRead} = await this.handle.read(buf, done, length - done, offset + done)
      if (bytesRead === 0) throw new FormatError('io.short-read', `${this.path}: file shrank while reading ${what}`)
      done += bytesRead
    }
    return buf
  }

  close(): Promise<void> {
    return this.handle.close()
  }
}
