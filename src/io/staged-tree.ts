import {mkdir, mkdtemp, open, rm, symlink} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {FormatError} from '../formats/format-error.js'

/**
 * A private temporary folder (mode 0700, under the OS temp dir) holding one item taken out of an
 * archive — one bundle or one executable — so the on-disk verifier can judge it. Bounded in bytes;
 * never writes through a link it created (a member under a staged symlink is refused), never
 * overwrites (files are created exclusively), and `remove()` deletes it all.
 */
export class StagedTree {
  private written = 0
  private readonly links = new Set<string>()

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
    await mkdir(this.path(rel), {recursive: true, mode: 0o700})
  }

  async addSymlink(rel: string, target: string): Promise<void> {
    this.guard(rel)
    await mkdir(dirname(this.path(rel)), {recursive: true, mode: 0o700})
    await symlink(target, this.path(rel))
    this.links.add(rel)
  }

  async addFile(rel: string, chunks: AsyncIterable<Buffer>): Promise<void> {
    this.guard(rel)
    await mkdir(dirname(this.path(rel)), {recursive: true, mode: 0o700})
    const fh = await open(this.path(rel), 'wx', 0o600)
    try {
      for await (const chunk of chunks) {
        this.written += chunk.length
        if (this.written > this.maxBytes) throw new FormatError('stage.too-large', `${rel}: the item being checked is larger than ${this.maxBytes} bytes`)
        await fh.write(chunk)
      }
    } finally {
      await fh.close()
    }
  }

  async remove(): Promise<void> {
    await rm(this.root, {recursive: true, force: true})
  }
}
