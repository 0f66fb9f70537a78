import {strict as assert} from 'node:assert'
import {FormatError} from '../../src/formats/format-error.js'

export function throwsFormat(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => e instanceof FormatError && e.code === code, `expected FormatError ${code}`)
}

/** A generic blob: big-endian magic and total length, then the payload. */
export function blob(magic: number, payload: Buffer): Buffer {
  const b = Buffer.alloc(8 + payload.length)
  // `>>> 0` so a magic given as a signed 32-bit value (what bitwise operators yield) writes the same bytes instead of throwing.
  b.writeUInt32BE(magic >>> 0, 0)
  b.writeUInt32BE(b.length, 4)
  payload.copy(b, 8)
  return b
}
