import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import type Mocha from 'mocha'
import {FINDING_CATALOGUE} from '../../src/verify/finding-catalogue.js'
import {assertedFindingIds} from './expect-finding.js'
import {findingCoverage, testFilesUnder} from './finding-coverage.js'

/** The compiled test tree (dist/test), whose every *.test.js a whole-suite run loads. */
const TEST_DIR = join(dirname(fileURLToPath(import.meta.url)), '..')

/**
 * A mocha root-hook plugin (.mocharc.json `require`): after the last test, in a run of the whole
 * suite, fails the run naming every catalogue id no test asserted through `expectFinding`.
 */
export const mochaHooks = {
  afterAll(this: Mocha.Context): void {
    const root = this.test?.parent
    if (!root) throw new Error('the finding-id check found no root suite')
    const verdict = findingCoverage(root, {
      catalogue: Object.keys(FINDING_CATALOGUE),
      asserted: assertedFindingIds(),
      testFiles: testFilesUnder(TEST_DIR),
      ci: process.env['CI'] === 'true',
    })
    if (verdict.kind === 'fail') throw new Error(verdict.line)
    process.stdout.write(`${verdict.line}\n`)
  },
}
