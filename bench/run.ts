/**
 * `npm run bench`: page-hashing throughput and memory, every figure a ratio to a baseline
 * measured in the same run. Not a test: it reports whether the targets are met and exits 0.
 *
 * To add a case, write a function returning a BenchCase (see page-hash-cases.ts) and put it in a
 * group below; the group's first case is what it is compared with.
 */
import {mkdtemp, readFile, rm} from 'node:fs/promises'
import {availableParallelism, tmpdir} from 'node:os'
import {join} from 'node:path'
import {measureGroup, type BenchGroup, type Measured} from './harness.js'
import {writeDeterministicFile} from './input-file.js'
import {coldStreamingHashPages, createHashPerPage, oneShotPerPage, readOnly, streamingHashPages} from './page-hash-cases.js'
import {ParallelCeiling} from './parallel-ceiling.js'
import {peakMemoryOfHashing, peakMemoryOfVerify, type PeakMemoryCheck} from './peak-memory.js'
import {isMet, memoryLine, throughputTable} from './report.js'
import {startupBench} from './startup.js'
import {everydayVerifyBench} from './everyday-verify.js'
import {upgradeDowntimeBench} from './upgrade-downtime.js'
import {verifyWholeFile, writeSignedBenchBinary} from './verify-cases.js'

const MiB = 2 ** 20
const GiB = 2 ** 30
const REPEATS = 5
const SEQUENTIAL_TARGET = 0.85
const PARALLEL_TARGET = 1.6
const PARALLEL_ABOVE = 64 * MiB
const PEAK_RSS_LIMIT = 200 * MiB

function pageHashingGroup(path: string, code: Buffer, codeLimit: number, pageSize: number, ceiling: ParallelCeiling): BenchGroup {
  const inMemory = code.subarray(0, codeLimit)
  return {
    title: `SHA-256, ${pageSize / 1024} KiB pages, ${codeLimit / MiB} MiB`,
    cases: [
      createHashPerPage(inMemory, pageSize),
      oneShotPerPage(inMemory, pageSize),
      ceiling.benchCase(inMemory, pageSize),
      readOnly(path, codeLimit, pageSize),
      streamingHashPages(path, codeLimit, pageSize, 'off', SEQUENTIAL_TARGET),
      streamingHashPages(path, codeLimit, pageSize, 'auto', codeLimit > PARALLEL_ABOVE ? PARALLEL_TARGET : undefined),
      coldStreamingHashPages(path, codeLimit, pageSize),
    ],
  }
}

/**
 * How the file-reading cases compare with the stricter references: the one-shot digest on one
 * core, and every core hashing in memory (the machine's ceiling, which bounds the parallel rows).
 */
function againstReferences(rows: Measured[]): string {
  const measured = rows.filter((m) => m.bench.name.startsWith('hashPages') || m.bench.name.startsWith('esdctl verify'))
  const lines: string[] = []
  for (const [prefix, label] of [['ref:', 'the one-shot reference'], ['ceiling:', "this machine's ceiling"]] as const) {
    const reference = rows.find((m) => m.bench.name.startsWith(prefix))
    if (!reference) continue
    lines.push(`  vs ${label}: ${measured.map((m) => `${withoutLastPart(m.bench.name)} ${(m.gibPerSecond / reference.gibPerSecond).toFixed(3)}`).join('; ')}`)
  }
  const bound = readerBound(rows)
  if (bound !== undefined) lines.push(bound)
  return lines.join('\n')
}

/**
 * The most a hasher that reads the file can reach on this machine, in the same run: every thread
 * copies its share out of the page cache before digesting it, so the ceiling's time grows by
 * read/(one-shot digest) on every core at once. Printed with the share of it the parallel row gets.
 */
function readerBound(rows: Measured[]): string | undefined {
  const find = (prefix: string) => rows.find((m) => m.bench.name.startsWith(prefix))
  const [reference, ceiling, read, parallel] = [find('ref:'), find('ceiling:'), find('read only:'), find('hashPages parallel:auto')]
  if (!reference || !ceiling || !read || !parallel) return undefined
  const bound = ceiling.ratio * (reference.medianSeconds / (reference.medianSeconds + read.medianSeconds))
  return `  reading costs ${(read.medianSeconds / reference.medianSeconds).toFixed(3)} of the one-shot digest's time, so a reader can reach at most ${bound.toFixed(3)} × limit here; hashPages parallel:auto reaches ${(parallel.ratio / bound).toFixed(3)} of that`
}

/** 'hashPages parallel:auto, 256 MiB from disk' → 'hashPages parallel:auto': what differs between a group's rows. */
function withoutLastPart(name: string): string {
  return name.split(', ').slice(0, -1).join(', ')
}

/** The throughput groups: hashPages from disk, then whole verifications of signed binaries; one verdict per group. */
async function hashingGroups(dir: string, path: string, ceiling: ParallelCeiling): Promise<boolean[]> {
  const met: boolean[] = []
  const code = await readFile(path)
  for (const codeLimit of [256 * MiB, 1 * GiB]) {
    for (const pageSize of [4096, 16384]) {
      const group = pageHashingGroup(path, code, codeLimit, pageSize, ceiling)
      const rows = await measureGroup(group, REPEATS)
      console.log(throughputTable(group.title, rows))
      console.log(againstReferences(rows) + '\n')
      met.push(isMet(rows))
    }
  }

  const signedSize = 256 * MiB
  for (const pageSize of [4096, 16384] as const) {
    const binary = join(dir, `signed-${pageSize}`)
    await writeSignedBenchBinary(binary, signedSize, pageSize)
    const bytes = (await readFile(binary)).subarray(0, signedSize)
    const group: BenchGroup = {
      title: `esdctl verify end to end: ad-hoc signed arm64 Mach-O, ${signedSize / MiB} MiB of code, ${pageSize / 1024} KiB pages`,
      cases: [
        createHashPerPage(bytes, pageSize),
        ceiling.benchCase(bytes, pageSize),
        verifyWholeFile(binary, signedSize, 'off', SEQUENTIAL_TARGET),
        verifyWholeFile(binary, signedSize, 'auto', PARALLEL_TARGET),
        verifyWholeFile(binary, signedSize, 'auto', undefined, {coldWorkers: true}),
      ],
    }
    const rows = await measureGroup(group, REPEATS)
    console.log(throughputTable(group.title, rows))
    console.log(againstReferences(rows) + '\n')
    met.push(isMet(rows))
    await rm(binary)
  }
  return met
}

async function main(): Promise<void> {
  const started = Date.now()
  const dir = await mkdtemp(join(tmpdir(), 'esdctl-bench-'))
  try {
    const path = join(dir, 'code.bin')
    await writeDeterministicFile(path, 1 * GiB, 0xc0de)
    console.log(`node ${process.version}, ${availableParallelism()} cores, median of ${REPEATS} runs after a warm-up; input ${path} (page cache warm)\n`)

    // Before the parent grows: a child's maxRSS starts from its parent's size at fork on Linux.
    const checks: PeakMemoryCheck[] = []
    for (const parallel of ['off', 'auto'] as const) checks.push(await peakMemoryOfHashing(path, 1 * GiB, 4096, parallel, PEAK_RSS_LIMIT))
    const signedGiB = join(dir, 'signed-1g')
    await writeSignedBenchBinary(signedGiB, 1 * GiB, 4096)
    for (const parallel of ['off', 'auto'] as const) checks.push(await peakMemoryOfVerify(signedGiB, 1 * GiB, parallel, PEAK_RSS_LIMIT))
    await rm(signedGiB)
    console.log('Peak memory (separate process)')
    for (const check of checks) console.log(memoryLine(check))
    // One verdict per group, collected rather than chained: a missed target must not stop later groups from running and printing.
    const met: boolean[] = [checks.every((c) => c.maxRssBytes < c.limitBytes)]
    console.log('')

    met.push(await startupBench())
    met.push(await everydayVerifyBench())
    met.push(await upgradeDowntimeBench())

    const ceiling = await ParallelCeiling.start()
    try {
      met.push(...(await hashingGroups(dir, path, ceiling)))
    } finally {
      await ceiling.close()
    }

    console.log(`\n${met.every(Boolean) ? 'all targets met' : 'SOME TARGETS NOT MET'} (${((Date.now() - started) / 1000).toFixed(0)} s)`)
  } finally {
    await rm(dir, {recursive: true, force: true})
  }
}

await main()
