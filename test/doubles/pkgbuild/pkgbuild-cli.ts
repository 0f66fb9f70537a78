import {appendFileSync, existsSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {dirname, resolve} from 'node:path'
import * as plist from 'plist'

export interface PkgbuildCall {
  seq: number
  argv: string[]
  cwd: string
  exitCode: number
  stderr: string
}

const WITH_VALUE = new Set(['--root', '--component-plist', '--scripts', '--identifier', '--version', '--install-location', '--sign', '--keychain', '--analyze', '--component'])
const FLAGS = new Set(['--timestamp', '--quiet'])

class Failure extends Error {}

/**
 * The body of the pkgbuild double: parses argv as pkgbuild does for component packages, checks
 * the inputs the real tool would reject, and writes a stand-in .pkg (a xar magic plus a JSON
 * description of what would be packaged) so callers can see the output path was honoured.
 */
export function main(logPath: string): void {
  const argv = process.argv.slice(2)
  let exitCode = 0
  let stderr = ''
  try {
    run(argv)
  } catch (e) {
    exitCode = 1
    stderr = e instanceof Failure ? `pkgbuild: error: ${e.message}\n` : `pkgbuild (double): ${(e as Error).stack}\n`
  }
  process.stderr.write(stderr)
  const seq = existsSync(logPath) ? readFileSync(logPath, 'utf8').split('\n').filter(Boolean).length + 1 : 1
  appendFileSync(logPath, JSON.stringify({seq, argv, cwd: process.cwd(), exitCode, stderr} satisfies PkgbuildCall) + '\n')
  process.exitCode = exitCode
}

function run(argv: string[]): void {
  const opts = new Map<string, string>()
  let i = 0
  for (; i < argv.length && argv[i]!.startsWith('--'); i++) {
    const name = argv[i]!
    if (FLAGS.has(name)) continue
    if (!WITH_VALUE.has(name)) throw new Failure(`unrecognized option ${name}`)
    const value = argv[++i]
    if (value === undefined) throw new Failure(`${name} requires an argument`)
    opts.set(name, value)
  }
  const rest = argv.slice(i)
  if (rest.length !== 1) throw new Failure('exactly one output package path is required')
  const output = resolve(rest[0]!)
  const root = opts.get('--root')
  if (root === undefined) throw new Failure('a --root or --component is required')
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new Failure(`Invalid root directory "${root}"`)
  for (const name of ['--identifier', '--version', '--install-location']) if (!opts.has(name)) throw new Failure(`${name} is required`)
  const scripts = opts.get('--scripts')
  if (scripts !== undefined && !statSync(scripts, {throwIfNoEntry: false})?.isDirectory()) throw new Failure(`Invalid scripts directory "${scripts}"`)
  const componentPlist = opts.get('--component-plist')
  if (componentPlist !== undefined) {
    try {
      plist.parse(readFileSync(componentPlist, 'utf8'))
    } catch {
      throw new Failure(`Invalid component property list "${componentPlist}"`)
    }
  }
  if (opts.has('--sign')) throw new Failure(`Could not find appropriate signing identity for \u201c${opts.get("--sign")}\u201d.`)
  if (!existsSync(dirname(output))) throw new Failure(`Could not write package to "${output}"`)
  const description = {identifier: opts.get('--identifier'), version: opts.get('--version'), installLocation: opts.get('--install-location'), root, scripts, componentPlist}
  writeFileSync(output, Buffer.concat([Buffer.from('xar!'), Buffer.from(JSON.stringify(description))]))
}
