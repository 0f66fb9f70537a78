import {execFile} from 'node:child_process'
import {existsSync} from 'node:fs'
import {mkdir, mkdtemp, rm, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'
import {readCpioOdc} from '../src/formats/cpio-odc.js'
import {parseXarHeader, readXarToc} from '../src/formats/xar.js'
import {cpioBytes} from '../src/io/payload-stream.js'
import {RandomAccessFile} from '../src/io/random-access-file.js'
import {xarDataChunks} from '../src/io/xar-data.js'
import {median} from './harness.js'

const run = promisify(execFile)
const REPEATS = 9
const RUN_JS = fileURLToPath(new URL('../../bin/run.js', import.meta.url))
const RSS_HOOK = new URL('./rss-on-exit.js', import.meta.url).href
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const PKG = join(REPO_ROOT, '..', 'shared', 'fixtures', 'real-packages', 'Karabiner-DriverKit-VirtualHIDDevice-6.10.0.pkg')
const DAEMON = 'Karabiner-VirtualHIDDevice-Daemon.app'
const BUNDLE_TARGET = 2
const PKG_TARGET = 2.5
const RSS_TARGET = 100 * 2 ** 20

/** Writes the real daemon bundle out of the real package's Payload (AppleDouble members left out). */
async function extractDaemon(into: string): Promise<string> {
  const file = await RandomAccessFile.open(PKG)
  try {
    const header = parseXarHeader(await file.read(0, 28, 'header'), file.size, PKG)
    const toc = readXarToc(header, await file.read(28, header.tocCompressedLength, 'toc'), PKG)
    const payload = toc.entries.find(e => e.path === 'Payload')!.data!
    const chunks = xarDataChunks(file, header.heapStart, file.size, payload, {extractedBytes: 0}, 2 ** 30)
    for await (const e of readCpioOdc(cpioBytes(chunks, 'Payload', 2 ** 30), 'Payload')) {
      const i = e.path.indexOf(DAEMON)
      if (i < 0 || e.path.split('/').pop()!.startsWith('._')) continue
      const out = join(into, e.path.slice(i))
      if (e.kind === 'dir') await mkdir(out, {recursive: true})
      else if (e.kind === 'symlink') await symlink(e.linkTarget!, out)
      else if (e.kind === 'file') {
        const parts: Buffer[] = []
        for await (const c of e.body()) parts.push(c)
        await mkdir(dirname(out), {recursive: true})
        await writeFile(out, Buffer.concat(parts))
      }
    }
  } finally {
    await file.close()
  }
  return join(into, DAEMON)
}

interface Case {
  name: string
  argv: string[]
}

/** Wall time (median, round-robin after a warm-up that fills the compile cache) and peak RSS of whole processes. */
async function measure(cases: Case[]): Promise<Array<{ms: number; maxRss: number}>> {
  const env = {...process.env}
  delete env.NODE_OPTIONS
  delete env.NODE_PATH
  const once = async (c: Case) => {
    const start = process.hrtime.bigint()
    const {stderr} = await run(process.execPath, ['--import', RSS_HOOK, RUN_JS, ...c.argv], {env}).catch((e: {stderr: string}) => e)
    const ms = Number(process.hrtime.bigint() - start) / 1e6
    return {ms, maxRss: Number(/ESDCTL_BENCH_MAX_RSS=(\d+)/.exec(stderr)?.[1] ?? NaN)}
  }
  for (const c of cases) await once(c)
  const samples = cases.map((): Array<{ms: number; maxRss: number}> => [])
  for (let r = 0; r < REPEATS; r++) for (const [i, c] of cases.entries()) samples[i]!.push(await once(c))
  return samples.map(s => ({ms: median(s.map(x => x.ms)), maxRss: Math.max(...s.map(x => x.maxRss))}))
}

/**
 * `npm run bench` group for issue 11's everyday inputs: whole `esdctl verify` processes on the real
 * 3.5 MB daemon bundle (taken out of the real package), on the real 2 MB package and on that
 * bundle's 12 KB profile, each as a ratio to `esdctl --version` measured in the same run, plus the
 * bundle's peak RSS. Returns whether the targets are met; skips when the shared fixtures are absent.
 */
export async function everydayVerifyBench(): Promise<boolean> {
  if (!existsSync(PKG)) {
    console.log('Everyday verify: skipped (the shared fixtures are not beside this checkout)\n')
    return true
  }
  const dir = await mkdtemp(join(tmpdir(), 'esdctl-bench-everyday-'))
  try {
    const bundle = await extractDaemon(dir)
    const cases: Case[] = [
      {name: 'esdctl --version', argv: ['--version']},
      {name: 'esdctl verify <3.5 MB daemon bundle>', argv: ['verify', bundle]},
      {name: 'esdctl verify <2 MB .pkg>', argv: ['verify', PKG]},
      {name: 'esdctl verify <12 KB profile>', argv: ['verify', join(bundle, 'Contents', 'embedded.provisionprofile')]},
    ]
    const rows = await measure(cases)
    const base = rows[0]!.ms
    const ratio = (i: number) => rows[i]!.ms / base
    const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`
    const bundleMet = ratio(1) <= BUNDLE_TARGET && rows[1]!.maxRss <= RSS_TARGET
    const pkgMet = ratio(2) <= PKG_TARGET
    console.log([
      `Everyday verify: wall time of whole processes, median of ${REPEATS} after a warm-up; ratio to esdctl --version`,
      ...cases.map((c, i) => `  ${c.name.padEnd(40)} ${rows[i]!.ms.toFixed(1).padStart(8)} ms  ×${ratio(i).toFixed(2)}  maxRSS ${mib(rows[i]!.maxRss)}`),
      `  bundle: ×${ratio(1).toFixed(2)} (target ≤ ${BUNDLE_TARGET}), ${mib(rows[1]!.maxRss)} (target ≤ ${mib(RSS_TARGET)})  ${bundleMet ? 'MET' : 'NOT MET'}`,
      `  .pkg:   ×${ratio(2).toFixed(2)} (target ≤ ${PKG_TARGET})  ${pkgMet ? 'MET' : 'NOT MET'}`,
    ].join('\n') + '\n')
    return bundleMet && pkgMet
  } finally {
    await rm(dir, {recursive: true, force: true})
  }
}

// Run on its own: node dist/bench/everyday-verify.js
if (process.argv[1] === fileURLToPath(import.meta.url)) await everydayVerifyBench()
