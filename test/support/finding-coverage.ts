import {readdirSync} from 'node:fs'
import {join, resolve} from 'node:path'
import type Mocha from 'mocha'

/**
 * The suite-level check that keeps the finding catalogue and the tests in step: in a run of the
 * whole suite, every catalogue id must have been asserted through `expectFinding`. A run of some
 * files only (one file, `--grep`, `.only`) cannot know that, so the check stands aside and says so.
 */
export type CoverageVerdict =
  | {kind: 'pass'; line: string}
  | {kind: 'fail'; missing: string[]; line: string}
  /** Not a run of the whole suite: nothing is judged. */
  | {kind: 'partial'; line: string}
  /** Ids are missing, but tests were skipped outside CI, which may be why: reported, not failed. */
  | {kind: 'notice'; missing: string[]; line: string}

export interface CoverageInputs {
  catalogue: readonly string[]
  asserted: ReadonlySet<string>
  /** Every test file of the suite, as absolute paths (what `npm test`'s glob loads). */
  testFiles: readonly string[]
  ci: boolean
}

interface RunShape {
  files: Set<string>
  /** Tests neither run nor skipped: filtered out by --grep or .only, or stopped by --bail or a failed hook. */
  unrun: number
  skipped: number
}

function shapeOf(root: Mocha.Suite): RunShape {
  const shape: RunShape = {files: new Set(), unrun: 0, skipped: 0}
  const walk = (suite: Mocha.Suite): void => {
    if (suite.file) shape.files.add(resolve(suite.file))
    for (const test of suite.tests) {
      if (test.file) shape.files.add(resolve(test.file))
      if (test.isPending()) shape.skipped++
      else if (test.state === undefined) shape.unrun++
    }
    for (const child of suite.suites) walk(child)
  }
  walk(root)
  return shape
}

/** Judges the finished run below `root` (mocha's root suite). */
export function findingCoverage(root: Mocha.Suite, inputs: CoverageInputs): CoverageVerdict {
  const shape = shapeOf(root)
  const notLoaded = inputs.testFiles.filter(f => !shape.files.has(resolve(f)))
  if (notLoaded.length > 0) return {kind: 'partial', line: `finding ids: not checked, ${notLoaded.length} of ${inputs.testFiles.length} test files were not loaded (only a whole-suite run checks them)`}
  if (shape.unrun > 0) return {kind: 'partial', line: `finding ids: not checked, ${shape.unrun} tests did not run (filtered, or stopped early)`}
  const missing = inputs.catalogue.filter(id => !inputs.asserted.has(id)).sort()
  if (missing.length === 0) return {kind: 'pass', line: `finding ids: all ${inputs.catalogue.length} are produced and asserted by a test`}
  const list = `no test produces and asserts (through expectFinding) these ${missing.length} finding ids: ${missing.join(', ')}`
  if (!inputs.ci && shape.skipped > 0) return {kind: 'notice', missing, line: `finding ids: ${list} (${shape.skipped} tests were skipped, which may be why; CI fails on this)`}
  return {kind: 'fail', missing, line: `finding ids: ${list}`}
}

/** Every `*.test.js` below `dir`, as absolute paths. */
export function testFilesUnder(dir: string): string[] {
  return readdirSync(dir, {recursive: true, withFileTypes: true})
    .filter(e => e.isFile() && e.name.endsWith('.test.js'))
    .map(e => resolve(join(e.parentPath, e.name)))
    .sort()
}
