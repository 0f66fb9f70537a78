/**
 * `npm run corpus`: verifies every item of the evidence corpus (fetching what is not cached yet),
 * prints the table, then every deviation from what the item expects; exits 1 when there is one.
 */
import {CORPUS, corpusTable, runCorpusItem, type CorpusResult} from './corpus.js'

const results: CorpusResult[] = []
for (const item of CORPUS) results.push(await runCorpusItem(item))
console.log(corpusTable(results))
const deviating = results.filter(r => r.deviations.length > 0)
for (const r of deviating) console.log(`\n${r.item.name} (${r.item.note}): ${r.deviations.join('; ')}`)
console.log(`\n${results.length - deviating.length} of ${results.length} as expected.`)
process.exitCode = deviating.length ? 1 : 0
