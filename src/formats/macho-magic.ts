/** Thin headers in both byte orders and the two universal forms, read big-endian from the first 4 bytes. */
const MACHO_MAGICS = new Set([0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe, 0xcafebabe, 0xcafebabf])

export function isMachOMagic(head: Buffer): boolean {
  return head.length >= 4 && MACHO_MAGICS.has(head.readUInt32BE(0))
}
