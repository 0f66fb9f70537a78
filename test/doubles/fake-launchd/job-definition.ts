import {readFileSync, statSync} from 'node:fs'
import {isDict, MAX_PLIST_BYTES, parsePropertyListDict, type PlistDict, type PlistValue} from '../../../src/formats/property-list.js'

/** launchd.plist(5) defaults. */
const DEFAULT_THROTTLE_S = 10
const DEFAULT_EXIT_TIMEOUT_S = 20

export type KeepAlive =
  | {kind: 'never'}
  | {kind: 'always'}
  /** The dictionary form; only the two keys about how the last run ended are modelled. */
  | {kind: 'conditional'; successfulExit?: boolean; crashed?: boolean}

export interface JobDefinition {
  label: string
  plistPath: string
  program: string
  argv: string[]
  keepAlive: KeepAlive
  runAtLoad: boolean
  throttleIntervalMs: number
  /** 0 = wait forever after SIGTERM, as launchd treats ExitTimeOut 0. */
  exitTimeOutMs: number
  environment: Record<string, string>
  workingDirectory?: string
  standardOutPath?: string
  standardErrorPath?: string
}

export type PlistProblem = 'missing' | 'bad-ownership' | 'malformed'

export type JobDefinitionResult = {ok: true; definition: JobDefinition} | {ok: false; problem: PlistProblem; detail: string}

/**
 * What launchd checks before it accepts a plist into the system domain: the file exists, is
 * owned by root and not writable by group or others, and is a property list with a Label and
 * something to run.
 */
export function loadJobDefinition(plistPath: string): JobDefinitionResult {
  let uid: number
  let mode: number
  let size: number
  try {
    ;({uid, mode, size} = statSync(plistPath))
  } catch (e) {
    return {ok: false, problem: 'missing', detail: (e as Error).message}
  }
  if (uid !== 0 || (mode & 0o022) !== 0) {
    return {ok: false, problem: 'bad-ownership', detail: `owner uid ${uid}, mode ${(mode & 0o7777).toString(8)}`}
  }
  if (size > MAX_PLIST_BYTES) return {ok: false, problem: 'malformed', detail: `${size} bytes`}
  try {
    return {ok: true, definition: toDefinition(plistPath, parsePropertyListDict(readFileSync(plistPath), plistPath))}
  } catch (e) {
    return {ok: false, problem: 'malformed', detail: (e as Error).message}
  }
}

function toDefinition(plistPath: string, dict: PlistDict): JobDefinition {
  const label = dict.Label
  if (typeof label !== 'string' || label === '') throw new Error('no Label')
  const args = dict.ProgramArguments
  const argv = Array.isArray(args) && args.every((a): a is string => typeof a === 'string') ? args : undefined
  const program = typeof dict.Program === 'string' ? dict.Program : argv?.[0]
  if (program === undefined) throw new Error('neither Program nor ProgramArguments')
  const keepAlive = readKeepAlive(dict.KeepAlive)
  return {
    label,
    plistPath,
    program,
    argv: argv && argv.length > 0 ? argv : [program],
    keepAlive,
    // A conditional KeepAlive needs a first run to have an exit status to judge, so it implies RunAtLoad.
    runAtLoad: dict.RunAtLoad === true || keepAlive.kind !== 'never',
    throttleIntervalMs: seconds(dict.ThrottleInterval, DEFAULT_THROTTLE_S) * 1000,
    exitTimeOutMs: seconds(dict.ExitTimeOut, DEFAULT_EXIT_TIMEOUT_S) * 1000,
    environment: stringDict(dict.EnvironmentVariables),
    workingDirectory: optionalString(dict.WorkingDirectory),
    standardOutPath: optionalString(dict.StandardOutPath),
    standardErrorPath: optionalString(dict.StandardErrorPath),
  }
}

function readKeepAlive(value: PlistValue | undefined): KeepAlive {
  if (value === true) return {kind: 'always'}
  if (!isDict(value)) return {kind: 'never'}
  const successfulExit = typeof value.SuccessfulExit === 'boolean' ? value.SuccessfulExit : undefined
  const crashed = typeof value.Crashed === 'boolean' ? value.Crashed : undefined
  if (successfulExit === undefined && crashed === undefined) return {kind: 'never'}
  return {kind: 'conditional', successfulExit, crashed}
}

/** launchd takes these as integers; anything else falls back to the default, as launchd does. */
function seconds(value: PlistValue | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : fallback
}

function stringDict(value: PlistValue | undefined): Record<string, string> {
  if (!isDict(value)) return {}
  return Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'))
}

function optionalString(value: PlistValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined
}

export interface ExitStatus {
  code?: number
  /** Node's name for the signal that ended the process, e.g. `SIGKILL`. */
  signal?: string
}

export function shouldRestart(keepAlive: KeepAlive, exit: ExitStatus): boolean {
  switch (keepAlive.kind) {
    case 'never': return false
    case 'always': return true
    case 'conditional': {
      const crashed = exit.signal !== undefined
      if (keepAlive.crashed !== undefined && crashed === keepAlive.crashed) return true
      if (keepAlive.successfulExit !== undefined && !crashed) return (exit.code === 0) === keepAlive.successfulExit
      return false
    }
  }
}
