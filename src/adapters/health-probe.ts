import {execa} from 'execa'

/** The whole environment of the health probe: nothing of the caller's (NODE_*, DYLD_*, HOME) reaches a program run as root. */
export const PROBE_ENVIRONMENT: Readonly<Record<string, string>> = {PATH: '/usr/bin:/bin:/usr/sbin:/sbin', LANG: 'C'}

/** How the probe ended; `output` is stderr then stdout, trimmed, at most 2000 characters. */
export interface ProbeOutcome {
  exitCode: number | undefined
  signal: string | undefined
  timedOut: boolean
  output: string
}

/**
 * Runs the manifest's healthCheck.command (already expanded, argv[0] absolute or found on the fixed
 * PATH) with no stdin, cwd `/`, the fixed environment, and a timeout in milliseconds. Never throws
 * for the probe's own failure: a missing program, a non-zero exit or a timeout is in the outcome.
 */
export async function runHealthProbe(argv: readonly string[], timeoutMs: number): Promise<ProbeOutcome> {
  const result = await execa(argv[0]!, argv.slice(1), {reject: false, timeout: timeoutMs, stdin: 'ignore', maxBuffer: 1024 * 1024, env: PROBE_ENVIRONMENT, extendEnv: false, cwd: '/'})
  return {
    exitCode: result.exitCode,
    signal: result.signal ?? undefined,
    timedOut: result.timedOut === true,
    output: `${String(result.stderr ?? '')}${String(result.stdout ?? '')}`.trim().slice(0, 2000),
  }
}
