import {join, relative} from 'node:path'
import {parseArgs} from 'node:util'
import {DARWIN_ARCHES, type DarwinArch} from '../../src/payload-build/esdctl-dist-layout.js'
import {commandLine} from '../../src/payload-build/pkg-commands.js'
import {buildDarwinDist} from './build-dist.js'

// `npm run dist:darwin [-- --out DIR --arch arm64 --identifier ID]`; run from the repository root.
const {values} = parseArgs({options: {out: {type: 'string', default: 'dist-darwin'}, arch: {type: 'string', multiple: true}, identifier: {type: 'string'}}})
const arches = (values.arch ?? [...DARWIN_ARCHES]) as DarwinArch[]
for (const arch of arches) {
  if (!(DARWIN_ARCHES as readonly string[]).includes(arch)) {
    process.stderr.write(`dist:darwin: --arch ${arch} is not one of ${DARWIN_ARCHES.join(', ')}\n`)
    process.exit(2)
  }
}
const repo = process.cwd()
try {
  const result = await buildDarwinDist({repo, out: values.out!, cacheDir: join(repo, '.cache', 'node-darwin'), arches, ...(values.identifier === undefined ? {} : {identifier: values.identifier})})
  for (const a of result.artifacts) {
    process.stdout.write(`${relative(repo, a.tarball)}  (Node ${a.info.node.version} from ${a.info.node.package})\n`)
    process.stdout.write(`  pkgbuild inputs: ${relative(repo, a.pkg.dir)}/ — on a Mac, there:\n`)
    for (const key of ['pkgbuild', 'productbuild'] as const) process.stdout.write(`    ${commandLine(a.pkg.commands[key])}\n`)
  }
} catch (e) {
  process.stderr.write(`dist:darwin: ${(e as Error).message}\n`)
  process.exitCode = 1
}
