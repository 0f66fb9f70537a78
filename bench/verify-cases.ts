import {PageHashPool} from '../src/io/page-hash-pool.js'
import type {PageHashOptions} from '../src/io/page-hasher.js'
import {verifyPath} from '../src/verify/verify-path.js'
import {writeSignedMachOFile} from '../test/support/macho-writer.js'
import type {BenchCase} from './harness.js'

/** An ad-hoc signed arm64 executable of `codeSize` bytes: a real target for end-to-end verification. */
export async function writeSignedBenchBinary(path: string, codeSize: number, pageSize: 4096 | 16384): Promise<void> {
  await writeSignedMachOFile(path, {arch: 'arm64', codeSize, fill: (i, page) => page.fill(i & 0xff)}, {identifier: 'com.example.bench', pageSize})
}

/** The whole of `esdctl verify` on that file (layout, signature, every page, findings), as the library runs it. */
export function verifyWholeFile(path: string, codeBytes: number, parallel: PageHashOptions['parallel'], minRatio?: number, opts: {coldWorkers?: boolean} = {}): BenchCase {
  return {
    name: `esdctl verify parallel:${String(parallel)}${opts.coldWorkers ? ', workers booted cold' : ''}, signed Mach-O from disk`,
    bytes: codeBytes,
    minRatio,
    run: async () => {
      // Cold: as the first verification of a process that did not boot its workers ahead (the CLI does, while oclif loads).
      if (opts.coldWorkers) PageHashPool.releaseShared()
      const r = await verifyPath(path, {pageHashing: {parallel}})
      if (!r.ok) throw new Error(`bench binary did not verify: ${r.findings.map((f) => f.id).join(', ')}`)
    },
  }
}
