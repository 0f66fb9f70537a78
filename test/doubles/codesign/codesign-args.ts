/**
 * codesign's command line as its getopt_long reads it: short options cluster (`-fs ID`, `-vvvv`),
 * long options take `--opt value` or `--opt=value`, some arguments are optional (`--timestamp`,
 * `--strict`, `--verbose`) and only accept the `=` form. `-v` means verify when no other
 * operation is asked for, and more verbosity otherwise.
 */
export interface ParsedCodesignArgs {
  operation: 'sign' | 'verify' | 'display'
  identity?: string
  force: boolean
  deep: boolean
  strict: boolean
  verbosity: number
  options: string[]
  timestamp?: string | true
  entitlements?: string
  identifier?: string
  paths: string[]
}

export class UsageError extends Error {}

const REQUIRED_ARG_LONG = new Set(['sign', 'entitlements', 'identifier', 'options', 'requirements', 'preserve-metadata', 'keychain'])
const OPTIONAL_ARG_LONG = new Set(['timestamp', 'strict', 'verbose'])
const FLAG_LONG = new Set(['force', 'deep', 'verify', 'display', 'generate-entitlement-der'])
const REQUIRED_ARG_SHORT: Record<string, string> = {s: 'sign', i: 'identifier', o: 'options', r: 'requirements'}
const FLAG_SHORT: Record<string, string> = {f: 'force', d: 'display'}

export function parseCodesignArgs(argv: string[]): ParsedCodesignArgs {
  const seen: {name: string; value?: string}[] = []
  let vCount = 0
  let i = 0
  for (; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') {
      i++
      break
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=')
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq)
      const inline = eq < 0 ? undefined : arg.slice(eq + 1)
      if (REQUIRED_ARG_LONG.has(name)) {
        const value = inline ?? argv[++i]
        if (value === undefined) throw new UsageError(`option '--${name}' requires an argument`)
        seen.push({name, value})
      } else if (OPTIONAL_ARG_LONG.has(name)) {
        seen.push(inline === undefined ? {name} : {name, value: inline})
      } else if (FLAG_LONG.has(name)) {
        if (inline !== undefined) throw new UsageError(`option '--${name}' doesn't allow an argument`)
        seen.push({name})
      } else {
        throw new UsageError(`unrecognized option '--${name}'`)
      }
      continue
    }
    if (arg.startsWith('-') && arg.length > 1) {
      for (let k = 1; k < arg.length; k++) {
        const letter = arg[k]!
        if (letter === 'v') {
          vCount++
        } else if (FLAG_SHORT[letter]) {
          seen.push({name: FLAG_SHORT[letter]})
        } else if (REQUIRED_ARG_SHORT[letter]) {
          const rest = arg.slice(k + 1)
          const value = rest.length > 0 ? rest : argv[++i]
          if (value === undefined) throw new UsageError(`option requires an argument -- ${letter}`)
          seen.push({name: REQUIRED_ARG_SHORT[letter], value})
          break
        } else {
          throw new UsageError(`invalid option -- ${letter}`)
        }
      }
      continue
    }
    break
  }
  const paths = argv.slice(i)
  const has = (name: string): boolean => seen.some(o => o.name === name)
  const value = (name: string): string | undefined => seen.filter(o => o.name === name).at(-1)?.value
  const explicitOps = (['sign', 'verify', 'display'] as const).filter(has)
  if (explicitOps.length > 1) throw new UsageError('only one operation may be given')
  let verbosity = vCount
  let operation = explicitOps[0]
  if (operation === undefined) {
    if (vCount === 0) throw new UsageError('no operation given')
    operation = 'verify'
    verbosity--
  }
  const verbose = value('verbose')
  if (has('verbose')) verbosity = verbose === undefined ? verbosity + 1 : Number.parseInt(verbose, 10) || 0
  if (paths.length === 0) throw new UsageError('no path given')
  const parsed: ParsedCodesignArgs = {
    operation,
    force: has('force'),
    deep: has('deep'),
    strict: has('strict'),
    verbosity,
    options: (value('options') ?? '').split(',').filter(Boolean),
    paths,
  }
  if (operation === 'sign') parsed.identity = value('sign')!
  if (has('timestamp')) parsed.timestamp = value('timestamp') ?? true
  const entitlements = value('entitlements')
  if (entitlements !== undefined) parsed.entitlements = entitlements
  const identifier = value('identifier')
  if (identifier !== undefined) parsed.identifier = identifier
  return parsed
}
