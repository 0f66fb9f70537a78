// Mutation testing of the code that decides whether something is trusted or safe (issue 14).
// `npm run mutate` runs every area in turn; `npm run mutate -- <area>` one of them (scripts/mutate.mjs).
//
// How it fits a tsc-built ESM project: Stryker instruments the TypeScript sources in its sandbox
// (every mutant at once, switched on at run time, with `// @ts-nocheck` so a mutant that breaks a
// type still compiles), the buildCommand compiles the sandbox to dist/, and each mutant runs the
// area's compiled tests with mocha.
//
// The command runner, not @stryker-mutator/mocha-runner: that plugin (10.0.0) cannot load with
// Mocha 12, whose cli internals it requires by their old extensionless names (stryker-js pull
// request 6205, open). The command runner sets the active mutant in the environment
// (__STRYKER_ACTIVE_MUTANT__), which also reaches child processes (bin/run.js), but it measures
// no per-test coverage: every mutant runs its area's whole test list, so the lists stay narrow
// and mocha stops at the first failure (--bail).

import {existsSync, lstatSync, mkdirSync, symlinkSync, unlinkSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

/** @typedef {{mutate: string[], tests: string[]}} Area */

/**
 * Each area: the files mutated and the test files (test/unit/<name>.test.ts) that defend them,
 * quickest first: mocha stops at the first failing test, so most mutants end in the first file.
 * @type {Record<string, Area>}
 */
export const AREAS = {
  // bin/run.js's refusal of NODE_OPTIONS / NODE_PATH as root (its lines 15-26). It runs only in
  // child processes; the test passes the active mutant on to them.
  env: {mutate: ['bin/run.js:15-26'], tests: ['startup-bin']},
  lock: {mutate: ['src/adapters/lock.ts'], tests: ['lock-mutants', 'lock']},
  safety: {mutate: ['src/safety/**/*.ts'], tests: ['safety-program', 'safety-ancestors', 'safety-mutants']},
  preflight: {mutate: ['src/lifecycle/preflight.ts'], tests: ['safety-mutants', 'lifecycle-refusals']},
  'root-fs': {mutate: ['src/adapters/root-fs.ts', 'src/adapters/root-fs-error.ts'], tests: ['root-fs', 'root-fs-mutants', 'journal']},
  judge: {mutate: ['src/lifecycle/judge-payload.ts'], tests: ['judge-mutants', 'findings-install']},
  // Code already on the Mac that a rollback puts back and esdctl starts as root: the adopted legacy
  // files, the rollback slot, a committed rollback finished by the next run. The lifecycle suites
  // reach them only through whole runs (seconds a mutant); judge-installed-mutants calls them directly. The
  // same for installed-damage (is the installed bundle still the receipt's code?) and the cdhash comparison both use.
  'judge-installed': {
    mutate: [
      'src/lifecycle/judge-legacy.ts', 'src/lifecycle/judge-slot.ts', 'src/lifecycle/judge-rolled-forward.ts',
      'src/lifecycle/installed-damage.ts', 'src/records/recorded-code.ts',
    ],
    tests: ['recorded-code', 'judge-installed-mutants'],
  },
  // src/trust/**/*.ts in three parts (about 1000 mutants in all), each with the tests of its modules.
  'trust-cms': {
    mutate: ['src/trust/signed-data.ts', 'src/trust/cms.ts', 'src/trust/timestamp.ts', 'src/trust/signature.ts'],
    tests: ['trust-mutants', 'cms', 'verify-binary-signing'],
  },
  'trust-certs': {
    mutate: ['src/trust/apple-roots.ts', 'src/trust/trust-store.ts', 'src/trust/chain.ts', 'src/trust/xar-signature.ts', 'src/trust/notarization-ticket.ts'],
    tests: ['trust-mutants-certs', 'trust-mutants', 'trust', 'notarization-ticket', 'verify-package'],
  },
  'trust-profile': {
    mutate: ['src/trust/provisioning-profile.ts'],
    tests: ['trust-mutants-profile', 'provisioning-profile', 'verify-profile'],
  },
  // src/verify split by concern, the checks that decide a verdict first (issue 14); each part's
  // list starts with its fast *-mutants file, where most mutants die.
  'verify-checks': {
    mutate: [
      'src/verify/check-*.ts', 'src/verify/entitlement-match.ts', 'src/verify/restricted-entitlements.ts', 'src/verify/sealed-requirement.ts',
      'src/verify/signer-kind.ts', 'src/verify/signed-slice.ts', 'src/verify/bundle-shape.ts', 'src/verify/bundle-ticket.ts',
    ],
    // The direct tests first (about 1 s together); the end-to-end files catch what only a whole
    // bundle shows (Info.plist and CodeResources bound by special slots, real nested code).
    tests: [
      'verify-checks-mutants-slice', 'verify-checks-mutants-signature', 'verify-checks-mutants-bundle', 'verify-checks-mutants', 'verify-seal-mutants', 'verify-profile-mutants', 'verify-ticket-mutants', 'verify-checks-messages',
      'sealed-requirement', 'verify-binary-signing', 'verify-real-binaries', 'verify-nested-code', 'verify-bundle', 'verify-unreadable-member',
    ],
  },
  // Installer packages and archives, in two parts so a surviving mutant runs only the slow files
  // that can see it: the direct tests first (a few seconds), then the end-to-end files (verify-package
  // about 13 s, verify-archive about 13 s). verify-fifo is left out: it feeds named pipes to bundles only.
  'verify-package': {
    mutate: ['src/verify/package-signature.ts', 'src/verify/verify-package.ts', 'src/verify/package-report.ts'],
    tests: ['verify-package-mutants', 'verify-package'],
  },
  'verify-package-payload': {
    mutate: ['src/verify/package-payload.ts', 'src/verify/verify-archive.ts'],
    // verify-archive-members: a .pkg and a .provisionprofile inside archives (namedItems); verify-folder-kinds: namedKindOf for folders.
    tests: ['verify-package-mutants', 'verify-archive-members', 'verify-folder-kinds', 'verify-archive', 'verify-package'],
  },
  'verify-report': {
    mutate: [
      'src/verify/report.ts', 'src/verify/finding*.ts', 'src/verify/verify-path.ts', 'src/verify/verify-folder.ts', 'src/verify/article.ts',
      'src/verify/unsupported-container.ts', 'src/verify/verify-binary.ts', 'src/verify/verify-bundle.ts', 'src/verify/verify-options.ts',
      'src/verify/unreadable-member.ts', 'src/verify/empty-input.ts',
    ],
    // verify-report-mutants first (about 2 s, whole findings of every part of a report), the
    // slowest (verify-robustness, 25 s of random damage) last.
    // verify-unreadable-member runs esdctl as nobody on a copy of a real bundle (about 7 s).
    // verify-bundle-mutants (under 1 s): the nested-code looker's entries and the identity a parent's seal judges.
    tests: ['verify-report-mutants', 'verify-bundle-mutants', 'verify-empty-input', 'finding-catalogue', 'verify-messages', 'verify-unreadable-member', 'verify-binary-signing', 'verify-bundle', 'verify-folder-kinds', 'cli-verify', 'verify-robustness'],
  },
  // The journal as recovery reads it: its header and format (journal.ts), and every step's and
  // cleanup's shape and paths (plan-shape.ts, its own area: ~360 mutants, mostly its field table),
  // checked before recovery acts on any of it. The crash matrices (lifecycle-crash*, minutes a
  // mutant) are left out: journal-mutants covers what they would catch here in a fraction of a second.
  journal: {mutate: ['src/lifecycle/journal.ts'], tests: ['journal-mutants', 'journal', 'lifecycle-journal-damage']},
  'journal-shape': {mutate: ['src/lifecycle/plan-shape.ts'], tests: ['journal-mutants', 'journal', 'lifecycle-journal-damage']},
  // Recovery's checks of a journal before it acts (session.ts, untrusted() to the end of
  // recoverInterrupted(), through judgeJournal (also doctor's): the paths, links, plists and labels it names, foreign and damaged
  // journals, the outcome texts). A line range: keep it in step when session.ts changes above it.
  'journal-recovery': {mutate: ['src/lifecycle/session.ts:64-223'], tests: ['journal-recovery', 'lifecycle-journal-damage']},
}

// The tests read the shared fixtures at <checkout>/../shared; inside Stryker's sandbox
// (<checkout>/.stryker-tmp/sandbox-*) that is <checkout>/.stryker-tmp/shared, linked back here on
// every load, so a plain `npx stryker run` finds them as `npm run mutate` does. Without the fixtures
// their tests skip, and every mutant only they would kill survives: refuse instead.
const checkout = dirname(fileURLToPath(import.meta.url))
if (!existsSync(join(checkout, '..', 'shared', 'fixtures'))) {
  throw new Error(`stryker.config.mjs: ${join(checkout, '..', 'shared', 'fixtures')} is absent; its tests would skip and their mutants survive for nothing. Put the shared folder beside the checkout.`)
}
const sandboxLink = join(checkout, '.stryker-tmp', 'shared')
mkdirSync(dirname(sandboxLink), {recursive: true})
// unlink, never a recursive remove: the link leads to the shared fixtures themselves.
if (lstatSync(sandboxLink, {throwIfNoEntry: false})?.isSymbolicLink()) unlinkSync(sandboxLink)
symlinkSync(join('..', '..', 'shared'), sandboxLink)

const name = process.env.ESDCTL_MUTATE_AREA ?? 'env'
const area = AREAS[name]
if (area === undefined) throw new Error(`ESDCTL_MUTATE_AREA=${name}: no such area; one of ${Object.keys(AREAS).join(', ')}`)
const specs = area.tests.map((t) => `dist/test/unit/${t}.test.js`)

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: area.mutate,
  // dist/ is rebuilt in the sandbox from the instrumented sources; .cache/ holds downloads and reports.
  ignorePatterns: ['dist', 'dist-darwin', '.cache', 'oclif.manifest.json'],
  buildCommand: 'node scripts/mutate.mjs --build-sandbox',
  testRunner: 'command',
  commandRunner: {command: `npx mocha --bail ${specs.join(' ')}`},
  coverageAnalysis: 'off',
  // Two cores shared by several engineers; the wrapper also runs Stryker under `nice`.
  concurrency: 1,
  // Tests that spawn processes or stall on purpose get 10 s on top of 1.5 × the unmutated run.
  timeoutMS: 10000,
  incremental: true,
  incrementalFile: `.cache/mutation/${name}-incremental.json`,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: {fileName: `.cache/mutation/${name}.html`},
  jsonReporter: {fileName: `.cache/mutation/${name}.json`},
  // The sandbox sits one level below .stryker-tmp; scripts/mutate.mjs links ../shared beside it.
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  thresholds: {high: 100, low: 90, break: null},
}
