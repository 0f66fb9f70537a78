import {FormatError} from './format-error.js'

/**
 * Pull-style reads from a stream of chunks (a decompressor's output), for parsers of sequential
 * formats (cpio, pbzx). Holds at most one partial chunk plus what a single `exact` call asks for,
 * so memory stays bounded by the caller's largest header, never by the stream's length.
 */
export class ChunkReader {
  private pending: Buffer = Buffer.alloc(0)
  private done = false
  /** Bytes handed out so far (exact, take and skip). */
  position = 0

  constructor(
    private readonly source: AsyncIterator<Buffer | Uint8Array>,
    /** Names the stream in errors, e.g. "Payload". */
    readonly what: string,
  ) {}

  private async fill(): Promise<boolean> {
    if (this.done) return false
    const next = await this.source.next()
    if (next.done) {
      this.done = true
      return false
    }
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value)
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk])
    return true
  }

  /** True when no byte is left. */
  async atEnd(): Promise<boolean> {
    while (this.pending.length === 0) {
      if (!(await this.fill())) return true
    }
    return false
  }

  /** Exactly `n` bytes (a header or a name: callers bound `n`); FormatError naming `field` when the stream ends first. */
  async exact(n: number, field: string): Promise<Buffer> {
    while (this.pending.length < n) {
      if (!(await this.fill())) throw new FormatError('stream.truncated', `${this.what}: ends inside ${field} (${this.pending.length} of ${n} bytes)`)
    }
    const out = this.pending.subarray(0, n)
    this.pending = this.pending.subarray(n)
    this.position += n
    return out
  }

  /** The next `n` bytes as they arrive, chunk by chunk; FormatError when the stream ends first. */
  async *take(n: number, field: string): AsyncGenerator<Buffer> {
    let left = n
    while (left > 0) {
      if (this.pending.length === 0 && !(await this.fill())) throw new FormatError('stream.truncated', `${this.what}: ends inside ${field} (${n - left} of ${n} bytes)`)
      const part = this.pending.subarray(0, Math.min(left, this.pending.length))
      this.pending = this.pending.subarray(part.length)
      this.position += part.length
      left -= part.length
      yield part
    }
  }

  async skip(n: number, field: string): Promise<void> {
    for await (const _ of this.take(n, field)) {
      // discarded
    }
  }
}
