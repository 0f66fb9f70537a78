/**
 * `npm run fuzz -- --seed S --count N [--from I] [--jobs J] [--hang-ms MS] [--stall-ms MS] [--json]`
 *
 * Mutation fuzzing of what esdctl reads from outside: `verify`'s inputs (Mach-O thin, universal
 * and linker-signed; real provisioning profiles; a real signed bundle), manifests (JSON) and
 * property lists (XML and binary). Each case is a pure function of (seed, index). Reports:
 * - exit-1s: cases where esdctl's code threw where it must return a finding or a refusal (what the
 *   CLI would turn into exit 1, "internal error"), with the index to replay;
 * - hangs: cases with no answer within --hang-ms (the worker is terminated and the run goes on);
 * - peak RSS of the whole process (kernel's maxrss and sampled rss).
 * Exits 0 when there were no exit-1s and no hangs, 1 otherwise.
 */
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseArgs} from 'node:util'
import {Worker} from 'node:worker_threads'
import type {WorkerJob, WorkerMessage} from './worker.js'

const {values} = parseArgs({
  options: {
    seed: {type: 'string', default: '1'},
    count: {type: 'string', default: '1000'},
    from: {type: 'string', default: '0'},
    'hang-ms': {type: 'string', default: '10000'},
    // For testing the watchdog itself: every case first blocks its worker this long, as a real hang would.
    'stall-ms': {type: 'string', default: '0'},
    jobs: {type: 'string', default: '1'},
    json: {type: 'boolean', default: false},
  },
})
const seed = Number(values.seed)
const from = Number(values.from)
const count = Number(values.count)
const hangMs = Number(values['hang-ms'])
const stallMs = Number(values['stall-ms'])
const jobs = Number(values.jobs)
if (![seed, from, count, hangMs, stallMs, jobs].every((n) => Number.isSafeInteger(n) && n >= 0) || jobs < 1) {
  process.stderr.write('fuzz: --seed, --count, --from, --hang-ms and --jobs take non-negative integers (--jobs at least 1)\n')
  process.exit(2)
}

interface Finding {
  index: number
  target: string
  what: string
}

const crashes: Finding[] = []
const hangs: Finding[] = []
const perTarget = new Map<string, number>()
const msPerTarget = new Map<string, number>()
let done = 0
let slowest = {ms: 0, index: -1, target: ''}
let notes: string[] = []
let peakRss = process.memoryUsage().rss
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100)
const startedAt = Date.now()
const MiB = 1024 * 1024

/** Runs cases [start, end) in one worker; resolves with the index to resume at (end when done). */
function runWorker(start: number, end: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'esdctl-fuzz-'))
  const job: WorkerJob = {seed, from: start, to: end, dir, stallMs}
  const worker = new Worker(new URL('./worker.js', import.meta.url), {workerData: job})
  let current: {index: number; target: string} | undefined
  let lastBeat = Date.now()
  let ready = false
  return new Promise<number>((resolve) => {
    const finish = (next: number): void => {
      clearInterval(watchdog)
      void worker.terminate().finally(() => {
        rmSync(dir, {recursive: true, force: true})
        resolve(next)
      })
    }
    const watchdog = setInterval(() => {
      // Seeds are built before the first case: allow them time; after that each case has hangMs.
      if (!ready || current === undefined || Date.now() - lastBeat < hangMs) return
      hangs.push({index: current.index, target: current.target, what: `no answer after ${hangMs} ms`})
      finish(current.index + 1)
    }, 250)
    worker.on('message', (m: WorkerMessage) => {
      lastBeat = Date.now()
      if (m.type === 'ready') {
        ready = true
        notes = m.notes
      } else if (m.type === 'start') current = {index: m.index, target: m.target}
      else if (m.type === 'done') {
        current = undefined
        perTarget.set(m.target, (perTarget.get(m.target) ?? 0) + 1)
        if (++done % 10_000 === 0) process.stderr.write(`fuzz: ${done} cases, ${crashes.length} exit-1s, ${hangs.length} hangs, ${Math.round((Date.now() - startedAt) / 1000)} s\n`)
        msPerTarget.set(m.target, (msPerTarget.get(m.target) ?? 0) + m.ms)
        if (m.ms > slowest.ms) slowest = {ms: m.ms, index: m.index, target: m.target}
        if (m.crash) crashes.push({index: m.index, target: m.target, what: m.crash})
      } else if (m.type === 'finished') finish(end)
    })
    worker.on('error', (e) => {
      // An uncaught error or an out-of-memory abort of the worker: count it against the case it was on.
      crashes.push({index: current?.index ?? -1, target: current?.target ?? '(set-up)', what: `the worker died: ${e.stack ?? e.message}`})
      finish(current ? current.index + 1 : end)
    })
  })
}

// SIGINT/SIGTERM end a long run early with the summary of the cases done so far.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => (report(true), process.exit()))

// --jobs N splits the range among N workers; a case depends only on (seed, index), so the
// findings are the same whatever N is.
const share = Math.ceil(count / jobs)
await Promise.all(
  Array.from({length: jobs}, async (_, j) => {
    const end = Math.min(from + count, from + (j + 1) * share)
    for (let next = from + j * share; next < end; ) next = await runWorker(next, end)
  }),
)
function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>()
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item])
  return groups
}

function report(interrupted: boolean): void {
clearInterval(sampler)
const maxRssKiB = process.resourceUsage().maxRSS
const peak = Math.max(peakRss, maxRssKiB * 1024)
const summary = {
  seed,
  from,
  count,
  casesRun: [...perTarget.values()].reduce((a, b) => a + b, 0),
  interrupted,
  seconds: Math.round((Date.now() - startedAt) / 100) / 10,
  casesPerTarget: Object.fromEntries([...perTarget].sort()),
  secondsPerTarget: Object.fromEntries([...msPerTarget].sort().map(([t, ms]) => [t, Math.round(ms / 100) / 10])),
  exit1s: crashes.length,
  hangs: hangs.length,
  peakRssMiB: Math.round((peak / MiB) * 10) / 10,
  slowestCase: {...slowest, ms: Math.round(slowest.ms)},
  // Grouped by target and the first two lines of the error: one row per distinct crash, with how often and where first.
  crashes: [...groupBy(crashes, (c) => `${c.target}\n${c.what.split('\n').slice(0, 2).join('\n')}`).values()].map((group) => ({
    ...group[0]!,
    times: group.length,
    what: group[0]!.what.split('\n').slice(0, 6).join('\n'),
  })),
  hangCases: hangs,
  notes,
}
if (values.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n')
else {
  const lines = [
    `esdctl fuzz: seed ${seed}, cases ${from}..${from + count - 1}${interrupted ? ` (interrupted after ${summary.casesRun})` : ''}, ${summary.seconds} s`,
    `  cases: ${Object.entries(summary.casesPerTarget).map(([t, n]) => `${t} ${n} (${summary.secondsPerTarget[t]} s)`).join(', ')}`,
    `  exit-1s: ${crashes.length}   hangs (> ${hangMs} ms): ${hangs.length}   peak RSS: ${summary.peakRssMiB} MiB   slowest case: #${slowest.index} ${slowest.target} ${Math.round(slowest.ms)} ms`,
    ...notes.map((n) => `  note: ${n}`),
    ...summary.crashes.map((c) => `  exit-1 ×${c.times}, first #${c.index} (${c.target}), replay: npm run fuzz -- --seed ${seed} --from ${c.index} --count 1\n    ${c.what.replace(/\n/g, '\n    ')}`),
    ...hangs.map((h) => `  hang #${h.index} (${h.target}), replay: npm run fuzz -- --seed ${seed} --from ${h.index} --count 1`),
  ]
  process.stdout.write(lines.join('\n') + '\n')
}
process.exitCode = crashes.length === 0 && hangs.length === 0 && !interrupted ? 0 : 1
}

report(false)
