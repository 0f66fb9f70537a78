import {createHash} from 'node:crypto'
import {createReadStream} from 'node:fs'

/** Streams a file through a digest, so sealed resources of any size cost constant memory. */
export async function fileDigest(path: string, algorithm: 'sha1' | 'sha256'): Promise<Buffer> {
  const h = createHash(algorithm)
  for await (const chunk of createReadStream(path, {highWaterMark: 1 << 20})) h.update(chunk as Buffer)
  return h.digest()
}
