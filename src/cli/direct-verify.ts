import {parseArgs} from 'node:util'
import {renderVerifyText} from '../render/verify-text.js'
import {verifyOutcome} from './verify-outcome.js'

/**
 * `esdctl verify` without oclif: on an everyday input, loading oclif's command machinery cost about
 * as much as the verification. Only the plain text command lines are taken (`verify PATH`, with
 * `--warnings-as-errors` before or after it); everything else (--json, help, unknown or repeated
 * flags, `--`, extra or empty arguments, ESDCTL_CONTENT_TYPE set) is left to oclif, so its output
 * and errors stay exactly oclif's.
 */

export interface DirectVerifyArgs {
  path: string
  warningsAsErrors: boolean
}

/** The arguments after `verify` → what to verify, or undefined when oclif should handle them. */
export function parseVerifyArgv(argv: readonly string[]): DirectVerifyArgs | undefined {
  let parsed
  try {
    parsed = parseArgs({args: [...argv], options: {'warnings-as-errors': {type: 'boolean'}}, strict: true, allowPositionals: true, tokens: true})
  } catch {
    return undefined
  }
  const options = parsed.tokens.filter(t => t.kind !== 'positional')
  if (options.some(t => t.kind === 'option-terminator') || options.length > 1) return undefined
  const [path, ...rest] = parsed.positionals
  if (path === undefined || path === '' || rest.length > 0) return undefined
  return {path, warningsAsErrors: parsed.values['warnings-as-errors'] === true}
}

/**
 * Runs `esdctl verify <argv>` when the command line is one this path handles: writes the text
 * report to stdout and returns the exit code. Returns undefined, having written nothing, when
 * oclif should handle it.
 */
export async function verifyWithoutOclif(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number | undefined> {
  // oclif prints JSON when ESDCTL_CONTENT_TYPE=json, as for --json: left to it too.
  if ((env.ESDCTL_CONTENT_TYPE ?? '') !== '') return undefined
  const args = parseVerifyArgv(argv)
  if (args === undefined) return undefined
  try {
    const {report, exitCode, failedByWarnings} = await verifyOutcome(args.path, args.warningsAsErrors)
    process.stdout.write(renderVerifyText(report, {failedByWarnings}) + '\n')
    return exitCode
  } catch (e) {
    // As in status: oclif's handler reports an unexpected error exactly as the command would have.
    const {handle} = await import('@oclif/core/handle')
    await handle(e as Error)
    return 1
  }
}
