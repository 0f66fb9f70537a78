import {isAbsolute} from 'node:path'
import {execFile} from 'node:child_process'
import {explainLaunchctlCode, LAUNCHCTL_NOT_RUN, LaunchctlError} from './launchctl-error.js'
import {parsePrintDisabled, parseServicePrint, type ServiceInfo} from './launchctl-print.js'

export {LaunchctlError, explainLaunchctlCode, LAUNCHCTL_NOT_RUN} from './launchctl-error.js'
export type {ServiceInfo, ServiceState} from './launchctl-print.js'

export interface LaunchctlClock {
  now(): number
  sleep(ms: number): Promise<void>
}

export interface LaunchctlOptions {
  /** Default `/bin/launchctl`. Only tests set it (to the fake launchd); never read from env or flags. */
  executable?: string
  clock?: LaunchctlClock
}

const DEFAULT_EXECUTABLE = '/bin/launchctl'
/** launchctl talks to launchd over XPC; a call that takes this long is hung, not slow. */
const CALL_TIMEOUT_MS = 60_000
const MAX_OUTPUT_BYTES = 4 * 1024 * 1024
/**
 * How long bootstrap keeps answering 5 (EIO) or 37 after a bootout: about 5 s measured on macOS 26
 * (headroom issue 1289: ten failed attempts, the eleventh loaded), launchd scheduling its cleanup
 * 5 s after SIGTERM (d-inference issue 1102). Three times that, so a slow Mac still gets through,
 * while a bootstrap that can never succeed fails within seconds, not minutes.
 */
export const BOOTSTRAP_WINDOW_MS = 15_000
const BACKOFF_FIRST_MS = 100
const BACKOFF_MAX_MS = 1_000
const POLL_FIRST_MS = 5
const POLL_MAX_MS = 200
/** Codes that mean "launchd is still busy with this label": worth another bootstrap attempt. */
const TRANSIENT_BOOTSTRAP_CODES = new Set([5, 37])
const NOT_FOUND = 113
/** `Boot-out failed: 3: No such process`: what bootout of an unloaded service answers, as root too. */
const NO_SUCH_PROCESS = 3
const IN_PROGRESS = 36
/** Reverse-DNS labels; nothing that could change the meaning of a `system/<label>` target. */
const LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/

const realClock: LaunchctlClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
}

interface LaunchctlResult {
  exitCode: number
  stdout: string
  stderr: string
}

/**
 * The one place esdctl runs launchctl. Only the modern verbs: the legacy `load`/`unload` exit 0
 * even when launchd refused the request, so their success means nothing.
 */
export class LaunchctlAdapter {
  private readonly executable: string
  private readonly clock: LaunchctlClock

  constructor(opts: LaunchctlOptions = {}) {
    this.executable = opts.executable ?? DEFAULT_EXECUTABLE
    this.clock = opts.clock ?? realClock
  }

  async enable(label: string): Promise<void> {
    await this.runOrThrow('enable', [serviceTarget(label)])
  }

  async disable(label: string): Promise<void> {
    await this.runOrThrow('disable', [serviceTarget(label)])
  }

  /**
   * Loads `plistPath` into the system domain. 5 and 37 are retried with backoff for at most
   * `windowMs` (default BOOTSTRAP_WINDOW_MS) and `retries` more attempts (default: as many as fit):
   * right after a bootout launchd still holds the label and answers one of those. With `label`,
   * each refusal is checked with `print`: a job still draining (`SIGTERMed`) is waited out first,
   * and one that is loaded and not leaving fails at once, since no retry can load it twice.
   * Throws LaunchctlError (its code is launchctl's exit status).
   */
  async bootstrap(plistPath: string, opts: {retries?: number; windowMs?: number; label?: string} = {}): Promise<void> {
    if (!isAbsolute(plistPath)) throw refused('bootstrap', `plist path must be absolute, got ${JSON.stringify(plistPath)}`)
    const retries = opts.retries === undefined ? Number.POSITIVE_INFINITY : Math.max(0, Math.floor(opts.retries))
    const windowMs = Math.max(0, opts.windowMs ?? BOOTSTRAP_WINDOW_MS)
    const started = this.clock.now()
    for (let attempt = 0; ; attempt++) {
      const result = await this.run('bootstrap', ['system', plistPath])
      if (result.exitCode === 0) return
      const giveUp = (why = '') => {
        const tried = attempt > 0 ? ` (gave up after ${attempt + 1} attempts over ${Math.round(this.clock.now() - started)} ms)` : ''
        return new LaunchctlError('bootstrap', result.exitCode, `${explainLaunchctlCode(result.exitCode)}${why}${tried} (plist ${plistPath})`, result.stderr.trim())
      }
      if (!TRANSIENT_BOOTSTRAP_CODES.has(result.exitCode) || attempt >= retries || this.clock.now() - started >= windowMs) throw giveUp()
      if (opts.label !== undefined) {
        const info = await this.print(opts.label)
        if (info !== undefined && info.state !== 'stopping') {
          throw giveUp(`; system/${opts.label} is loaded (state = ${info.stateText ?? info.state}${info.pid === undefined ? '' : `, pid ${info.pid}`}) and not leaving, so bootstrap cannot load it again: bootout it first`)
        }
        if (info !== undefined) await this.waitUntilGone(opts.label, Math.max(0, windowMs - (this.clock.now() - started)))
      }
      const pause = Math.min(BACKOFF_FIRST_MS * 2 ** Math.min(attempt, 16), BACKOFF_MAX_MS, Math.max(0, windowMs - (this.clock.now() - started)))
      await this.clock.sleep(pause)
    }
  }

  /**
   * bootout returns while the job may still be exiting, so this waits (bounded by `waitMs`) until
   * `print` no longer finds the service; only then may the label be bootstrapped again. A service
   * that is not loaded is already stopped: launchctl answers 3 ("No such process", real macOS,
   * nix-installer issue 1148) or 113, and neither is an error here.
   */
  async bootout(label: string, opts: {waitMs: number; wait?: boolean}): Promise<void> {
    const target = serviceTarget(label)
    const result = await this.run('bootout', [target])
    if (result.exitCode === NOT_FOUND || result.exitCode === NO_SUCH_PROCESS) return
    if (result.exitCode !== 0 && result.exitCode !== IN_PROGRESS) throw failure('bootout', result)
    if (opts.wait !== false) await this.waitUntilGone(label, opts.waitMs)
  }

  /**
   * Polls `print` until launchd no longer knows the service (113): bootout returns while the job
   * is still exiting, and a bootstrap before it is gone fails with 37 or 5.
   */
  async waitUntilGone(label: string, waitMs: number): Promise<void> {
    const target = serviceTarget(label)
    const started = this.clock.now()
    for (let interval = POLL_FIRST_MS; ; interval = Math.min(interval * 2, POLL_MAX_MS)) {
      const print = await this.run('print', [target])
      if (print.exitCode === NOT_FOUND) return
      if (print.exitCode !== 0) throw failure('print', print)
      const waited = this.clock.now() - started
      if (waited >= waitMs) {
        const info = parseServicePrint(label, print.stdout)
        const pid = info.pid === undefined ? '' : ` with pid ${info.pid}`
        throw new LaunchctlError('bootout', IN_PROGRESS,
          `${target} was still loaded (state = ${info.stateText ?? info.state}${pid}) ${Math.round(waited)} ms after bootout, longer than the ${waitMs} ms allowed; the daemon is not exiting on SIGTERM and launchd has not killed it yet`)
      }
      await this.clock.sleep(Math.min(interval, waitMs - waited))
    }
  }

  /** With `kill`, restarts a running job; launchd reuses the loaded definition, not the plist on disk. */
  async kickstart(label: string, opts: {kill?: boolean} = {}): Promise<void> {
    const target = serviceTarget(label)
    await this.runOrThrow('kickstart', opts.kill ? ['-k', target] : [target])
  }

  /** undefined when the service is not loaded. */
  async print(label: string): Promise<ServiceInfo | undefined> {
    const result = await this.run('print', [serviceTarget(label)])
    if (result.exitCode === NOT_FOUND) return undefined
    if (result.exitCode !== 0) throw failure('print', result)
    return parseServicePrint(label, result.stdout)
  }

  async isDisabled(label: string): Promise<boolean> {
    serviceTarget(label)
    return (await this.disabledServices()).get(label) ?? false
  }

  /** launchd's whole enabled/disabled table for the system domain, in one call (status asks it once for every daemon). */
  async disabledServices(): Promise<Map<string, boolean>> {
    const result = await this.runOrThrow('print-disabled', ['system'])
    return parsePrintDisabled(result.stdout)
  }

  private async runOrThrow(verb: string, args: string[]): Promise<LaunchctlResult> {
    const result = await this.run(verb, args)
    if (result.exitCode !== 0) throw failure(verb, result)
    return result
  }

  /**
   * Node's execFile rather than execa here: `esdctl status` asks launchd on every call and must
   * start fast, and loading execa alone costs about 50 ms (measured with the compile cache on),
   * while launchctl needs nothing beyond an exit code and two bounded outputs.
   */
  private run(verb: string, args: string[]): Promise<LaunchctlResult> {
    return new Promise((resolve, reject) => {
      const child = execFile(this.executable, [verb, ...args], {timeout: CALL_TIMEOUT_MS, maxBuffer: MAX_OUTPUT_BYTES, encoding: 'utf8'}, (error, stdout, stderr) => {
        const code = error ? (error as {code?: unknown}).code : 0
        if (typeof code !== 'number' || (error as {killed?: boolean} | null)?.killed) {
          const why = error ? `${(error as NodeJS.ErrnoException).code ?? ''} ${error.message}`.trim() : 'no exit code'
          reject(new LaunchctlError(verb, LAUNCHCTL_NOT_RUN, `could not run ${this.executable}: ${why}`))
          return
        }
        resolve({exitCode: code, stdout: String(stdout ?? ''), stderr: String(stderr ?? '')})
      })
      child.stdin?.end()
    })
  }
}

function serviceTarget(label: string): string {
  if (!LABEL.test(label)) throw refused('target', `not a valid launchd label: ${JSON.stringify(label)}`)
  return `system/${label}`
}

function refused(verb: string, why: string): LaunchctlError {
  return new LaunchctlError(verb, LAUNCHCTL_NOT_RUN, `launchctl was not run: ${why}`)
}

function failure(verb: string, result: LaunchctlResult): LaunchctlError {
  return new LaunchctlError(verb, result.exitCode, explainLaunchctlCode(result.exitCode), result.stderr.trim())
}
