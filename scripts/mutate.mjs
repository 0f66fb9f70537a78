#!/usr/bin/env node
// `npm run mutate [-- AREA ... ] [-- --force]`: Stryker over each named area of stryker.config.mjs
// (all areas when none is named), one after the other, niced: the machine is shared. Reports and
// the incremental files land in .cache/mutation/ (not committed).
//
// Incremental: a rerun tests again only the mutants whose source changed. The command runner
// reports one test ("All tests") without its files, so Stryker cannot see a changed test itself:
// when the area's tests or the test support code changed since the last run, the whole area runs
// again (--force).
import {spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {AREAS} from '../stryker.config.mjs'

const root = dirname(dirname(fileURLToPath(import.meta.url)))

// Stryker's buildCommand, run inside the sandbox: Stryker makes the sandbox private (0700), and one
// test runs esdctl as an unprivileged user, who must reach it; then the usual build.
if (process.argv[2] === '--build-sandbox') {
  chmodSync('.', 0o755)
  process.exit(spawnSync('npx', ['tsc', '-b'], {stdio: 'inherit'}).status ?? 1)
}

const args = process.argv.slice(2)
const asked = args.filter((a) => !a.startsWith('--'))
const passed = args.filter((a) => a.startsWith('--'))
const unknown = asked.filter((a) => !(a in AREAS))
if (unknown.length > 0) {
  process.stderr.write(`mutate: no area ${unknown.join(', ')}; the areas are: ${Object.keys(AREAS).join(', ')}\n`)
  process.exit(4)
}

/** sha256 over the area's test files and every file of test/support and test/doubles. */
function testsDigest(area) {
  const hash = createHash('sha256')
  const files = AREAS[area].tests.map((t) => join('test', 'unit', `${t}.test.ts`))
  for (const dir of ['test/support', 'test/doubles']) {
    if (existsSync(join(root, dir))) files.push(...readdirSync(join(root, dir), {recursive: true}).map((f) => join(dir, String(f))).sort())
  }
  for (const file of files) {
    const path = join(root, file)
    if (lstatSync(path).isFile()) hash.update(file).update('\0').update(readFileSync(path)).update('\0')
  }
  return hash.digest('hex')
}

let failed = false
for (const area of asked.length > 0 ? asked : Object.keys(AREAS)) {
  process.stdout.write(`\n== mutate ${area}\n`)
  const stamp = join(root, '.cache', 'mutation', `${area}-tests.sha256`)
  const digest = testsDigest(area)
  const force = !existsSync(stamp) || readFileSync(stamp, 'utf8') !== digest ? ['--force'] : []
  const run = spawnSync('nice', ['-n', '10', 'npx', 'stryker', 'run', 'stryker.config.mjs', ...force, ...passed], {
    cwd: root,
    stdio: 'inherit',
    env: {...process.env, ESDCTL_MUTATE_AREA: area},
  })
  if (run.status === 0) {
    mkdirSync(dirname(stamp), {recursive: true})
    writeFileSync(stamp, digest)
  } else {
    failed = true
  }
}
process.exit(failed ? 1 : 0)
