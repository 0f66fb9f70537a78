import {FormatError} from './format-error.js'

/**
 * Checked access to a byte buffer: every read names what it was reading, and an offset or length
 * outside the buffer raises a FormatError instead of reading garbage or allocating without bound.
 */
export class BoundedBytes {
  constructor(
    readonly buf: Buffer,
    /** Names the structure in error messages, e.g. "SuperBlob". */
    readonly what: string,
  ) {}

  get length(): number {
    return this.buf.length
  }

  check(offset: number, length: number, field: string): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.buf.length) {
      throw new FormatError(
        'bytes.out-of-bounds',
        `${this.what}: ${field} at offset ${offset} (length ${length}) lies outside its ${this.buf.length} bytes`,
      )
    }
  }

  u8(offset: number, field: string): number {
    this.check(offset, 1, field)
    return this.buf.readUInt8(offset)
  }

  u32be(offset: number, field: string): number {
    this.check(offset, 4, field)
    return this.buf.readUInt32BE(offset)
  }

  u32le(offset: number, field: string): number {
    this.check(offset, 4, field)
    return this.buf.readUInt32LE(offset)
  }

  u64be(offset: number, field: string): bigint {
    this.check(offset, 8, field)
    return this.buf.readBigUInt64BE(offset)
  }

  u64le(offset: number, field: string): bigint {
    this.check(offset, 8, field)
    return this.buf.readBigUInt64LE(offset)
  }

  /** A view (no copy) of `length` bytes at `offset`. */
  slice(offset: number, length: number, field: string): Buffer {
    this.check(offset, length, field)
    return this.buf.subarray(offset, offset + length)
  }

  /** A NUL-terminated string starting at `offset`, which must end inside the buffer. */
  cString(offset: number, field: string, maxLength = 4096): string {
    this.check(offset, 0, field)
    const end = this.buf.indexOf(0, offset)
    if (end < 0 || end - offset > maxLength) {
      throw new FormatError('bytes.unterminated-string', `${this.what}: ${field} at offset ${offset} is not NUL-terminated within bounds`)
    }
    return this.buf.toString('utf8', offset, end)
  }
}
