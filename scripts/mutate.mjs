#!/usr/bin/env node
// `npm run mutate [-- AREA ...]`: Stryker over each named area of stryker.config.mjs (all areas when
// none is named), one after the other, niced: the machine is shared. Reports and the incremental
// files land in .cache/mutation/ (not committed); a rerun tests only the mutants whose code or
// tests changed.
import {spawnSync} from 'node:child_process'
import {chmodSync, lstatSync, mkdirSync, symlinkSync, unlinkSync} from 'node:fs'
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
const asked = process.argv.slice(2)
const unknown = asked.filter((a) => !(a in AREAS))
if (unknown.length > 0) {
  process.stderr.write(`mutate: no area ${unknown.join(', ')}; the areas are: ${Object.keys(AREAS).join(', ')}\n`)
  process.exit(4)
}

// The tests find the shared fixtures at <checkout>/../shared; inside Stryker's sandbox
// (<checkout>/.stryker-tmp/sandbox-*) that is <checkout>/.stryker-tmp/shared, linked back here.
const temp = join(root, '.stryker-tmp')
mkdirSync(temp, {recursive: true})
const link = join(temp, 'shared')
// unlink, never a recursive remove: the link leads to the shared fixtures themselves.
if (lstatSync(link, {throwIfNoEntry: false})?.isSymbolicLink()) unlinkSync(link)
symlinkSync(join('..', '..', 'shared'), link)

let failed = false
for (const area of asked.length > 0 ? asked : Object.keys(AREAS)) {
  process.stdout.write(`\n== mutate ${area}\n`)
  const run = spawnSync('nice', ['-n', '10', 'npx', 'stryker', 'run', 'stryker.config.mjs'], {
    cwd: root,
    stdio: 'inherit',
    env: {...process.env, ESDCTL_MUTATE_AREA: area},
  })
  if (run.status !== 0) failed = true
}
process.exit(failed ? 1 : 0)
