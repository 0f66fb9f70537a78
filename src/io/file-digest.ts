import {createHash} from 'node:crypto'
import {openRegularFile} from './regular-file.js'

/** Streams a file through a digest, so sealed resources of any size cost constant memory. */
export async function fileDigest(path: string, algorithm: 'sha1' | 'sha256'): Promise<Buffer> {
  const h = createHash(algorithm)
  // Never a path re-resolved after the caller's lstat: a pipe swapped in would block the read forever.
  const {handle} = await openRegularFile(path)
  for await (const chunk of handle.createReadStream({highWaterMark: 1 << 20})) h.update(chunk as Buffer)
  return h.digest()
}
