/** Thin headers in both byte orders and the two universal forms, read big-endian from the first 4 bytes. */
const MACHO_MAGICS = new Set([0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe, 0xcafebabe, 0xcafebabf])
const FAT_MAGIC = 0xcafebabe

/**
 * A universal file never holds more slices than this; a Java class file shares the magic
 * `0xcafebabe` and has its version (minor, then major ≥ 45) where nfat_arch would be, so a
 * larger "count" means Java. The same threshold file(1)'s magic database uses.
 */
export const MAX_PLAUSIBLE_FAT_ARCHS = 30

export type MagicKind = 'macho' | 'java-class' | 'other'

/**
 * What the first bytes of a file say it is. `head` should hold at least 8 bytes; with only 4, a
 * `0xcafebabe` file counts as Mach-O.
 */
export function classifyMagic(head: Buffer): MagicKind {
  if (head.length < 4) return 'other'
  const magic = head.readUInt32BE(0)
  if (!MACHO_MAGICS.has(magic)) return 'other'
  if (magic === FAT_MAGIC && head.length >= 8 && head.readUInt32BE(4) > MAX_PLAUSIBLE_FAT_ARCHS) return 'java-class'
  return 'macho'
}

export function isMachOMagic(head: Buffer): boolean {
  return classifyMagic(head) === 'macho'
}

/** "Java class file version 65.0" for a head classifyMagic called java-class. */
export function javaClassVersion(head: Buffer): string {
  return `${head.readUInt16BE(6)}.${head.readUInt16BE(4)}`
}
