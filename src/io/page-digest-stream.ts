import {createHash, hash, type Hash} from 'node:crypto'
import {bytesOfPages, type CodePages} from './code-pages.js'

/**
 * Turns the bytes of pages `[firstPage, endPage)`, pushed in order in pieces of any size, into
 * their slots in `out`. A page wholly inside one piece is digested in one shot (`crypto.hash`,
 * measurably faster than a Hash object per 4 KiB page); a page split across pieces (pages larger
 * than the read buffer) goes through an incremental Hash.
 */
export class PageDigestStream {
  private page: number
  private position: number
  private partial: Hash | undefined

  constructor(
    private readonly pages: CodePages,
    firstPage: number,
    private readonly endPage: number,
    /** Receives slot `page` at byte `page × slotSize`. */
    private readonly out: Uint8Array,
  ) {
    this.page = firstPage
    this.position = bytesOfPages(pages, firstPage, endPage).start
  }

  /** `piece` holds the slice bytes that follow the ones pushed so far. */
  push(piece: Uint8Array): void {
    const {pageSize, codeLimit, digestName} = this.pages
    let offset = 0
    while (offset < piece.length) {
      if (this.page >= this.endPage) throw new Error('PageDigestStream: more bytes pushed than the pages hold')
      const pageStart = this.page * pageSize
      const pageEnd = Math.min(pageStart + pageSize, codeLimit)
      const take = Math.min(pageEnd - this.position, piece.length - offset)
      const bytes = piece.subarray(offset, offset + take)
      if (!this.partial && this.position === pageStart && take === pageEnd - pageStart) {
        this.writeSlot(hash(digestName, bytes, 'buffer'))
      } else {
        this.partial ??= createHash(digestName)
        this.partial.update(bytes)
        if (this.position + take === pageEnd) {
          this.writeSlot(this.partial.digest())
          this.partial = undefined
        }
      }
      this.position += take
      offset += take
    }
  }

  /** Emits what is left: only an empty page (codeLimit 0 with a page size of 0) can be. */
  finish(): void {
    while (this.page < this.endPage) {
      const pageStart = this.page * this.pages.pageSize
      if (this.partial || Math.min(pageStart + this.pages.pageSize, this.pages.codeLimit) > pageStart) {
        throw new Error('PageDigestStream: finished before all page bytes were pushed')
      }
      this.writeSlot(hash(this.pages.digestName, new Uint8Array(0), 'buffer'))
    }
  }

  private writeSlot(digest: Buffer): void {
    const {slotSize} = this.pages
    this.out.set(digest.subarray(0, slotSize), this.page * slotSize)
    this.page++
  }
}
