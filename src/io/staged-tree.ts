import {mkdir, mkdtemp, open, rm, symlink, type FileHandle} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {FormatError} from '../formats/format-error.js'

/**
 * A private temporary folder (mode 0700, under the OS temp dir) holding one item taken out of an
 * archive — one bundle or one executable — so the on-disk verifier can judge it. Bounded in bytes;
 * never writes through a link it created (a member under a staged symlink is refused), never
 * overwrites (files are created exclusively), and `remove()` deletes it all.
 */
/** Bytes of a member gathered before one write: a payload's small chunks then cost one thread-pool round trip, not one each. */
const WRITE_BATCH_BYTES = 1024 * 1024

export class StagedTree {
  private written = 0
  private readonly links = new Set<string>()
  /** Folders known to exist (made here, or the root): each is made once, not once per member in it. */
  private readonly dirs = new Set<string>([''])

  private constructor(
    readonly root: string,
    private readonly maxBytes: number,
  ) {}

  static async create(maxBytes: number): Promise<StagedTree> {
    return new StagedTree(await mkdtemp(join(tmpdir(), 'esdctl-item-')), maxBytes)
  }

  path(rel: string): string {
    return join(this.root, rel)
  }

  /** `rel` must already be a safe relative path (see formats/cpio-odc.ts safeRelativePath). */
  private guard(rel: string): void {
    const parts = rel.split('/')
    for (let i = 1; i < parts.length; i++) {
      if (this.links.has(parts.slice(0, i).join('/'))) throw new FormatError('stage.through-link', `${rel} lies under a symbolic link in the same archive`)
    }
  }

  async addDir(rel: string): Promise<void> {
    this.guard(rel)
    await this.makeDir(rel)
  }

  async addSymlink(rel: string, target: string): Promise<void> {
    this.guard(rel)
    await this.makeDir(parentOf(rel))
    await symlink(target, this.path(rel))
    this.links.add(rel)
  }

  async addFile(rel: string, chunks: AsyncIterable<Buffer>): Promise<void> {
    this.guard(rel)
    await this.makeDir(parentOf(rel))
    const fh = await open(this.path(rel), 'wx', 0o600)
    try {
      let batch: Buffer[] = []
      let batchBytes = 0
      for await (const chunk of chunks) {
        this.written += chunk.length
        if (this.written > this.maxBytes) throw new FormatError('stage.too-large', `${rel}: the item being checked is larger than ${this.maxBytes} bytes`)
        batch.push(chunk)
        batchBytes += chunk.length
        if (batchBytes >= WRITE_BATCH_BYTES) {
          await writeAll(fh, batch)
          batch = []
          batchBytes = 0
        }
      }
      if (batch.length > 0) await writeAll(fh, batch)
    } finally {
      await fh.close()
    }
  }

  private async makeDir(rel: string): Promise<void> {
    if (this.dirs.has(rel)) return
    await mkdir(this.path(rel), {recursive: true, mode: 0o700})
    // A symlink is never recorded here, so a member under one still reaches mkdir (and guard refuses it first).
    for (let d = rel; d !== '' && !this.dirs.has(d); d = parentOf(d)) this.dirs.add(d)
  }

  async remove(): Promise<void> {
    await rm(this.root, {recursive: true, force: true})
  }
}

function parentOf(rel: string): string {
  const slash = rel.lastIndexOf('/')
  return slash < 0 ? '' : rel.slice(0, slash)
}

/** Writes every byte of `buffers` in order (writev may write fewer than asked). */
async function writeAll(fh: FileHandle, buffers: Buffer[]): Promise<void> {
  // Empty buffers carry nothing to write: a file of 0 bytes (a member cut short) is staged empty, not refused.
  let rest = buffers.filter(b => b.length > 0)
  while (rest.length > 0) {
    const {bytesWritten} = await fh.writev(rest)
    if (bytesWritten === 0) throw new FormatError('stage.write', 'the temporary copy accepted no more bytes')
    let n = bytesWritten
    while (rest.length > 0 && n >= rest[0]!.length) {
      n -= rest[0]!.length
      rest = rest.slice(1)
    }
    if (n > 0) rest = [rest[0]!.subarray(n), ...rest.slice(1)]
  }
}
