import {open} from 'node:fs/promises'
import {FILE_HEAD_BYTES, machHeaderExtent, parseFileLayout, parseMachO} from '../../src/formats/macho.js'
import {parseEmbeddedSignature, type EmbeddedSignature} from '../../src/formats/superblob.js'

/** Reads at most `length` bytes; a short result means the file ended first. */
export async function readRange(path: string, offset: number, length: number): Promise<Buffer> {
  const fh = await open(path, 'r')
  try {
    const buf = Buffer.alloc(length)
    const {bytesRead} = await fh.read(buf, 0, length, offset)
    return buf.subarray(0, bytesRead)
  } finally {
    await fh.close()
  }
}

export async function fileSize(path: string): Promise<number> {
  const fh = await open(path, 'r')
  try {
    return (await fh.stat()).size
  } finally {
    await fh.close()
  }
}

export interface RealSlice {
  arch: string
  offset: number
  size: number
  /** The raw LC_CODE_SIGNATURE data, left unparsed so tests of the SuperBlob parser do the parsing themselves. */
  signatureData: Buffer
}

/**
 * Every slice of a real binary with its signature data, found through the layout and header parsers.
 * Only the headers and the signature are read, since the binaries run to tens of megabytes; read the
 * whole slice with `readRange(path, slice.offset, slice.size)` when a test hashes its pages.
 */
export async function realSlices(path: string): Promise<RealSlice[]> {
  const size = await fileSize(path)
  const out = []
  for (const slice of parseFileLayout(await readRange(path, 0, FILE_HEAD_BYTES), size).slices) {
    const image = parseMachO(await readRange(path, slice.offset, machHeaderExtent(await readRange(path, slice.offset, 32), slice.size)), slice.size)
    const {dataOffset, dataSize} = image.codeSignature!
    out.push({arch: slice.arch, offset: slice.offset, size: slice.size, signatureData: await readRange(path, slice.offset + dataOffset, dataSize)})
  }
  return out
}

/** The parsed embedded signature of every slice of a real binary, in slice order. */
export async function realSignatures(path: string): Promise<EmbeddedSignature[]> {
  return (await realSlices(path)).map(s => parseEmbeddedSignature(s.signatureData))
}
