import {hash} from 'node:crypto'

/** Pages `[firstPage, endPage)` of `bytes` (shared memory), each `pageSize` bytes (the last may be short). */
export interface CeilingShare {
  bytes: SharedArrayBuffer
  pageSize: number
  firstPage: number
  endPage: number
}

/** Digests each page of the share in one shot, as hashPages does, and keeps nothing. */
export function hashShare({bytes, pageSize, firstPage, endPage}: CeilingShare): void {
  const view = new Uint8Array(bytes)
  for (let page = firstPage; page < endPage; page++) hash('sha256', view.subarray(page * pageSize, (page + 1) * pageSize), 'buffer')
}

/** `threads` contiguous shares of `pageCount` pages, as even as whole pages allow. */
export function sharesOf(pageCount: number, threads: number): Array<[number, number]> {
  return Array.from({length: threads}, (_, i) => [Math.floor((pageCount * i) / threads), Math.floor((pageCount * (i + 1)) / threads)])
}
