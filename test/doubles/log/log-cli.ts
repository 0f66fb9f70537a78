import {appendFileSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {CALLS_NAME, ENTRIES_NAME, type FakeLogEntry} from './fake-log.js'

/** The body of the fake `log`; the launcher in its directory calls this. */
export function main(dir: string): void {
  const argv = process.argv.slice(2)
  appendFileSync(join(dir, CALLS_NAME), JSON.stringify(argv) + '\n')
  const {entries, exitCode} = JSON.parse(readFileSync(join(dir, ENTRIES_NAME), 'utf8')) as {entries: FakeLogEntry[]; exitCode: number}
  if (exitCode !== 0) {
    process.stderr.write('log: Could not open log archive\n')
    process.exitCode = exitCode
    return
  }
  const verb = argv[0]
  if (verb !== 'show' && verb !== 'stream') {
    process.stderr.write(`log: unknown subcommand ${verb}\n`)
    process.exitCode = 64
    return
  }
  const predicate = argv[argv.indexOf('--predicate') + 1] ?? ''
  const processes = [...predicate.matchAll(/process == "([^"]+)"/g)].map((m) => m[1])
  const contains = [...predicate.matchAll(/eventMessage CONTAINS(\[c\])? "((?:[^"\\]|\\.)*)"/g)].map((m) => ({text: m[2]!.replace(/\\(.)/g, '$1'), caseless: m[1] !== undefined}))
  const says = (message: string) => contains.length === 0 || contains.some((c) => (c.caseless ? message.toLowerCase().includes(c.text.toLowerCase()) : message.includes(c.text)))
  const matching = entries.filter((e) => {
    const name = e.processImagePath.slice(e.processImagePath.lastIndexOf('/') + 1)
    return processes.includes(name) && (name !== 'kernel' || says(e.eventMessage))
  })
  process.stdout.write(matching.map((e) => JSON.stringify(e) + '\n').join(''))
  if (verb === 'show') {
    process.stdout.write(JSON.stringify({count: matching.length, finished: 1}) + '\n')
  } else {
    // `log stream` runs until it is interrupted.
    setInterval(() => {}, 60_000)
  }
}
