/**
 * TEST ONLY: a process that makes one esdctl scratch directory (argv[2]: JSON {parent, lead}),
 * writes a file in it, prints its path as one line and waits until stdin closes, so a test can end
 * it by a signal and see what is left.
 */
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {makeScratchDir} from '../../src/adapters/scratch-dir.js'

const {parent, lead} = JSON.parse(process.argv[2] ?? '{}') as {parent: string; lead: string}
const scratch = await makeScratchDir(lead, parent)
await writeFile(join(scratch.path, 'big-copy'), 'x'.repeat(4096))
process.stdout.write(scratch.path + '\n')
await new Promise<void>((resolve) => process.stdin.on('end', resolve).on('close', resolve).resume())
await scratch.dispose()
