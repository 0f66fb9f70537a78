import {pipeline} from 'node:stream'
import {createGunzip} from 'node:zlib'
import {FormatError} from '../formats/format-error.js'
import {decodePbzx, PBZX_MAGIC} from '../formats/pbzx.js'
import {DECODED_CHUNK_BYTES} from './xar-data.js'

/**
 * Turns an installer Payload or Scripts member (already decoded by xar) into cpio bytes: gzip
 * (1F 8B), pbzx, or a bare odc cpio (`070707`), recognised by their first bytes. The output is
 * counted and stops with a FormatError (code `payload.too-large`) once it passes `maxBytes`, so a
 * payload that inflates to absurd sizes costs no more than that.
 */
export async function* cpioBytes(source: AsyncIterable<Buffer>, what: string, maxBytes: number): AsyncGenerator<Buffer> {
  const it = source[Symbol.asyncIterator]()
  let head = Buffer.alloc(0)
  while (head.length < 6) {
    const next = await it.next()
    if (next.done) break
    head = Buffer.concat([head, next.value])
  }
  async function* rest(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head
    for (;;) {
      const next = await it.next()
      if (next.done) return
      yield next.value
    }
  }
  let decoded: AsyncIterable<Buffer>
  if (head[0] === 0x1f && head[1] === 0x8b) {
    decoded = pipeline(rest(), createGunzip({chunkSize: DECODED_CHUNK_BYTES}), () => {})
  } else if (head.subarray(0, 4).equals(PBZX_MAGIC)) {
    decoded = decodePbzx(rest(), what)
  } else if (head.toString('latin1', 0, 6) === '070707') {
    decoded = rest()
  } else {
    throw new FormatError('payload.format', `${what}: neither gzip, pbzx nor an odc cpio archive (starts ${head.subarray(0, 6).toString('hex') || 'empty'})`)
  }
  let total = 0
  try {
    for await (const chunk of decoded) {
      total += chunk.length
      if (total > maxBytes) throw new FormatError('payload.too-large', `${what}: inflates past ${maxBytes} bytes`)
      yield chunk
    }
  } catch (e) {
    if (e instanceof FormatError) throw e
    throw new FormatError('payload.corrupt', `${what}: does not decompress (${(e as Error).message})`)
  }
}
