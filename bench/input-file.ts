import {createCipheriv} from 'node:crypto'
import {open} from 'node:fs/promises'

/**
 * Writes `bytes` deterministic pseudo-random bytes: an AES-256-CTR keystream from a key derived
 * from `seed`. Incompressible like real code, the same on every run, and fast to make.
 */
export async function writeDeterministicFile(path: string, bytes: number, seed: number): Promise<void> {
  const key = Buffer.alloc(32)
  key.writeUInt32BE(seed >>> 0)
  const keystream = createCipheriv('aes-256-ctr', key, Buffer.alloc(16))
  const zeros = Buffer.alloc(8 << 20)
  const file = await open(path, 'w')
  try {
    for (let written = 0; written < bytes; written += zeros.length) {
      await file.write(keystream.update(zeros.subarray(0, Math.min(zeros.length, bytes - written))))
    }
  } finally {
    await file.close()
  }
}
