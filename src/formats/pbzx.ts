import {ChunkReader} from './byte-stream.js'
import {FormatError} from './format-error.js'

/**
 * Apple's `pbzx` stream, the compressed form of newer installer Payloads (DESIGN §10): magic `pbzx`,
 * a big-endian u64 of flags, then while bit 24 (0x01000000) of the last flags is set: u64 flags,
 * u64 length and `length` bytes, each chunk an xz stream (magic FD 37 7A 58 5A 00) or, when it is
 * not, the chunk's bytes stored as they are.
 */
export const PBZX_MAGIC = Buffer.from('pbzx', 'latin1')
const MORE_CHUNKS = 0x01000000n
const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])
/** Apple writes 16 MiB chunks; anything far larger is not a real Payload. */
export const MAX_PBZX_CHUNK_BYTES = 64 * 1024 * 1024

/**
 * Decodes a pbzx stream chunk by chunk: at most one compressed chunk is held in memory at a time,
 * and each chunk's output is streamed, capped at MAX_PBZX_CHUNK_BYTES. FormatError naming `what`
 * for a bad magic, a chunk past the cap, or xz data that does not decode.
 */
export async function* decodePbzx(source: AsyncIterable<Buffer | Uint8Array>, what: string): AsyncGenerator<Buffer> {
  const r = new ChunkReader(source[Symbol.asyncIterator](), what)
  if (!(await r.exact(4, 'the magic')).equals(PBZX_MAGIC)) throw new FormatError('pbzx.bad-magic', `${what}: does not start with "pbzx"`)
  let flags = (await r.exact(8, 'the flags')).readBigUInt64BE(0)
  for (let index = 0; flags & MORE_CHUNKS; index++) {
    const head = await r.exact(16, `the header of chunk ${index}`)
    flags = head.readBigUInt64BE(0)
    const length = head.readBigUInt64BE(8)
    if (length > BigInt(MAX_PBZX_CHUNK_BYTES)) throw new FormatError('pbzx.chunk-size', `${what}: chunk ${index} claims ${length} bytes (limit ${MAX_PBZX_CHUNK_BYTES})`)
    const chunk = await r.exact(Number(length), `chunk ${index}`)
    if (chunk.length < XZ_MAGIC.length || !chunk.subarray(0, XZ_MAGIC.length).equals(XZ_MAGIC)) {
      yield chunk
      continue
    }
    let produced = 0
    try {
      const decoded = new (await xzDecoder())(new Blob([chunk]).stream()) as unknown as AsyncIterable<Uint8Array>
      for await (const part of decoded) {
        produced += part.length
        if (produced > MAX_PBZX_CHUNK_BYTES) throw new FormatError('pbzx.chunk-size', `${what}: chunk ${index} inflates past ${MAX_PBZX_CHUNK_BYTES} bytes`)
        yield Buffer.from(part) // a copy: the decoder may reuse its output memory
      }
    } catch (e) {
      if (e instanceof FormatError) throw e
      throw new FormatError('pbzx.xz', `${what}: chunk ${index} is not valid xz data (${(e as Error).message ?? String(e)})`)
    }
  }
  if (!(await r.atEnd())) throw new FormatError('pbzx.trailing', `${what}: bytes follow the last chunk`)
}

type XzStreamClass = typeof import('xz-decompress').XzReadableStream

/** The WebAssembly xz decoder, loaded on first use: most packages (gzip payloads) never need it. */
async function xzDecoder(): Promise<XzStreamClass> {
  const mod = (await import('xz-decompress')) as unknown as {XzReadableStream?: XzStreamClass; default?: {XzReadableStream: XzStreamClass}}
  return (mod.XzReadableStream ?? mod.default!.XzReadableStream)
}
