import {parseArgs, type ParseArgsOptionsConfig} from 'node:util'
import type {LaunchctlAdapter} from '../adapters/launchctl.js'
import {runStatus} from './run-status.js'
import {STATUS_FLAGS, statusOptions, type StatusFlagValues, type StatusOptions} from './status-flags.js'

/**
 * `esdctl status` without oclif: loading oclif's command machinery costs more than the status
 * itself, and fleet tools run status on a schedule. Only command lines this path is sure to read
 * the way oclif would are taken; everything else (help, unknown or repeated flags, extra
 * arguments, `--`, empty values) is left to oclif, so errors and help look exactly as before.
 */

const PARSE_CONFIG: ParseArgsOptionsConfig = Object.fromEntries(
  Object.entries(STATUS_FLAGS).map(([flag, spec]) => [flag, 'default' in spec ? {type: spec.type, default: spec.default} : {type: spec.type}]),
)

/** The arguments after `status` → options, or undefined when oclif should handle them. */
export function parseStatusArgv(argv: readonly string[]): StatusOptions | undefined {
  let parsed
  try {
    parsed = parseArgs({args: [...argv], options: PARSE_CONFIG, strict: true, allowPositionals: true, tokens: true})
  } catch {
    return undefined
  }
  const seen = new Set<string>()
  for (const token of parsed.tokens) {
    if (token.kind === 'option-terminator') return undefined
    if (token.kind === 'option') {
      if (seen.has(token.name) || token.value === '') return undefined
      seen.add(token.name)
    }
  }
  const {positionals} = parsed
  if (positionals.length > 1 || positionals[0] === '') return undefined
  return statusOptions(parsed.values as StatusFlagValues, positionals[0])
}

/**
 * Runs `esdctl status <argv>` when the command line is one this path handles, and returns its exit
 * code; returns undefined, having written nothing, when oclif should handle it.
 */
export async function statusWithoutOclif(argv: readonly string[], launchctlFor: (root: string) => LaunchctlAdapter | undefined): Promise<number | undefined> {
  const options = parseStatusArgv(argv)
  if (options === undefined) return undefined
  try {
    return await runStatus(options, launchctlFor(options.root))
  } catch (e) {
    // Output may already be out, so no second try through oclif; its handler reports the error
    // exactly as it would have, and exits (1 as in oclif's). Only this rare path pays for loading it.
    const {handle} = await import('@oclif/core/handle')
    await handle(e as Error)
    return 1
  }
}
