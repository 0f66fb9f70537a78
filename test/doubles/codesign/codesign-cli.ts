import {appendFileSync, existsSync, lstatSync, readFileSync, writeFileSync} from 'node:fs'
import {join, resolve} from 'node:path'
import * as plist from 'plist'
import {parseCodesignArgs, UsageError, type ParsedCodesignArgs} from './codesign-args.js'
import type {CodesignCall, CodesignDoubleConfig, SealRecord, SealState} from './protocol.js'
import {isMachO, sealDifferences, snapshot} from './seal-snapshot.js'

const USAGE = 'Usage: codesign -s identity [-fv*] [-o flags] [-r reqs] [-i ident] path ... # sign\n       codesign -v [-v*] [-R=<req string>|-R <req file path>] path|[+]pid ... # verify\n'

class Failure extends Error {
  constructor(readonly exitCode: number, message: string) {
    super(message)
  }
}

/** The body of the codesign double; the launcher in the double's directory calls it with its config. */
export function main(configPath: string): void {
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as CodesignDoubleConfig
  const argv = process.argv.slice(2)
  let exitCode = 0
  let stderr = ''
  try {
    stderr = run(config, argv)
  } catch (e) {
    if (e instanceof UsageError) {
      stderr = `codesign: ${e.message}\n${USAGE}`
      exitCode = 2
    } else if (e instanceof Failure) {
      stderr = e.message
      exitCode = e.exitCode
    } else {
      stderr = `codesign (double): ${(e as Error).stack ?? String(e)}\n`
      exitCode = 1
    }
  }
  process.stderr.write(stderr)
  const previous = existsSync(config.logPath) ? readFileSync(config.logPath, 'utf8').split('\n').filter(Boolean).length : 0
  const call: CodesignCall = {seq: previous + 1, argv, cwd: process.cwd(), exitCode, stderr}
  appendFileSync(config.logPath, JSON.stringify(call) + '\n')
  process.exitCode = exitCode
}

function run(config: CodesignDoubleConfig, argv: string[]): string {
  const args = parseCodesignArgs(argv)
  const state: SealState = existsSync(config.statePath) ? (JSON.parse(readFileSync(config.statePath, 'utf8')) as SealState) : {}
  let out = ''
  for (const given of args.paths) {
    const path = resolve(given)
    if (!existsSync(path)) throw new Failure(1, `${given}: No such file or directory\n`)
    if (args.operation === 'sign') out += sign(config, state, args, given, path)
    else if (args.operation === 'verify') out += verify(state, args, given, path)
    else out += `Executable=${path}\n`
  }
  writeFileSync(config.statePath, JSON.stringify(state))
  return out
}

function sign(config: CodesignDoubleConfig, state: SealState, args: ParsedCodesignArgs, given: string, path: string): string {
  const identity = args.identity!
  if (identity !== '-' && !config.identities.includes(identity)) throw new Failure(1, `${identity}: no identity found\n`)
  const bundle = bundleShape(given, path)
  if (bundle) {
    const unsigned = bundle.nested.find(n => !isIntact(state, n))
    if (unsigned) throw new Failure(1, `${given}: code object is not signed at all\nIn subcomponent: ${unsigned}\n`)
  }
  if (state[path] && !args.force) throw new Failure(1, `${given}: is already signed\n`)
  const record: SealRecord = {
    identity,
    runtime: args.options.includes('runtime'),
    timestamp: args.timestamp !== undefined && args.timestamp !== 'none',
    files: snapshot(path),
  }
  if (args.identifier !== undefined) record.identifier = args.identifier
  if (args.entitlements !== undefined) {
    try {
      const text = readFileSync(resolve(args.entitlements), 'utf8')
      plist.parse(text)
      record.entitlements = text
    } catch {
      throw new Failure(1, `${given}: failed to parse entitlements\n`)
    }
  }
  state[path] = record
  return args.verbosity > 0 ? `${given}: signed ${bundle ? 'app bundle with Mach-O' : 'Mach-O'} [${args.identifier ?? 'default'}]\n` : ''
}

function verify(state: SealState, args: ParsedCodesignArgs, given: string, path: string): string {
  const record = state[path]
  if (!record) throw new Failure(1, `${given}: code object is not signed at all\n`)
  const differences = sealDifferences(record.files, snapshot(path))
  if (differences.length > 0) throw new Failure(1, `${given}: a sealed resource is missing or invalid\n${differences.join('\n')}\n`)
  let out = ''
  const bundle = bundleShape(given, path)
  if (bundle && args.deep) {
    for (const nested of bundle.nested) {
      if (!isIntact(state, nested)) throw new Failure(1, `${given}: code object is not signed at all\nIn subcomponent: ${nested}\n`)
      if (args.verbosity >= 3) out += `--validated:${nested}\n`
    }
  }
  if (args.verbosity > 0) out += `${given}: valid on disk\n${given}: satisfies its Designated Requirement\n`
  return out
}

/** For an .app: the main executable (signed with the bundle) and every other Mach-O, the nested code. */
function bundleShape(given: string, path: string): {nested: string[]} | undefined {
  if (!lstatSync(path).isDirectory()) return undefined
  const info = join(path, 'Contents', 'Info.plist')
  if (!existsSync(info)) throw new Failure(1, `${given}: bundle format unrecognized, invalid, or unsuitable\n`)
  const executable = (plist.parse(readFileSync(info, 'utf8')) as {CFBundleExecutable?: string}).CFBundleExecutable
  const main = executable ? join(path, 'Contents', 'MacOS', executable) : undefined
  if (!main || !existsSync(main)) throw new Failure(1, `${given}: main executable failed strict validation\n`)
  const nested = Object.keys(snapshot(path))
    .map(rel => join(path, rel))
    .filter(full => full !== main && lstatSync(full).isFile() && isMachO(full))
  return {nested}
}

function isIntact(state: SealState, path: string): boolean {
  const record = state[path]
  return record !== undefined && sealDifferences(record.files, snapshot(path)).length === 0
}
