import {spawn, type ChildProcess} from 'node:child_process'
import {closeSync, openSync} from 'node:fs'
import {preciseNow, type EventLog} from './event-log.js'
import {shouldRestart, type ExitStatus, type JobDefinition} from './job-definition.js'

/** launchd's `state` words (01…04 transcripts): `SIGTERMed` while a stopped job drains. */
export type JobState = 'running' | 'not running' | 'spawn scheduled' | 'SIGTERMed'

/** launchd's answer when it cannot exec the program at all (sysexits EX_CONFIG). */
const EX_CONFIG = 78
/** What launchd puts in a daemon's environment before EnvironmentVariables. */
const LAUNCHD_PATH = '/usr/bin:/bin:/usr/sbin:/sbin'

/**
 * One loaded job: really spawns the program, watches it, respawns it under KeepAlive no sooner
 * than ThrottleInterval after the previous spawn, and stops it the way launchd does (SIGTERM,
 * then SIGKILL once ExitTimeOut has passed).
 */
export class SupervisedJob {
  state: JobState = 'not running'
  pid: number | undefined
  runs = 0
  lastExit: ExitStatus | undefined
  /** `job state`: how the last spawn went (`running`, `exited`, `spawn failed`). */
  jobState: 'running' | 'exited' | 'spawn failed' | undefined
  /** `last exit reason`, set when the kernel (not the process) ended it. */
  exitReason: string | undefined
  private lastSpawnAt = 0
  private respawnTimer: NodeJS.Timeout | undefined
  private killTimer: NodeJS.Timeout | undefined
  private exitWaiters: (() => void)[] = []
  /** While a bootout or kickstart -k is stopping the job, KeepAlive must not bring it back. */
  private stopping = false
  private child: ChildProcess | undefined

  constructor(
    readonly definition: JobDefinition,
    private readonly log: EventLog,
    /** The kernel refuses this program's signature (see FakeLaunchdConfig.codeSigningKills). */
    private readonly refusedSignature = false,
  ) {}

  get label(): string {
    return this.definition.label
  }

  start(reason: string): void {
    this.cancelRespawn()
    if (this.child) return
    const def = this.definition
    this.runs++
    this.lastSpawnAt = preciseNow()
    if (this.refusedSignature) {
      // The kernel kills it at exec: launchd records the reason, no signal and no exit code.
      this.log.record('job-spawn-failed', {label: this.label, reason: 'OS_REASON_CODESIGNING'})
      this.exitReason = 'OS_REASON_CODESIGNING'
      this.jobState = 'spawn failed'
      this.lastExit = {signal: 'SIGKILL'}
      this.state = 'not running'
      if (!this.stopping && shouldRestart(this.definition.keepAlive, this.lastExit)) this.scheduleRespawn()
      return
    }
    let child: ChildProcess
    const stdio = [openOutput(def.standardOutPath), openOutput(def.standardErrorPath)] as const
    try {
      child = spawn(def.program, def.argv.slice(1), {
        argv0: def.argv[0],
        cwd: def.workingDirectory,
        env: {PATH: LAUNCHD_PATH, ...def.environment},
        detached: true,
        stdio: ['ignore', stdio[0], stdio[1]],
      })
    } catch (e) {
      this.log.record('job-spawn-failed', {label: this.label, error: (e as Error).message})
      this.exited(undefined, {code: EX_CONFIG})
      return
    } finally {
      for (const fd of stdio) if (typeof fd === 'number') closeSync(fd)
    }
    this.child = child
    child.on('error', (e) => {
      // How node reports that exec failed (missing or non-executable program).
      if (child.pid !== undefined) return
      this.log.record('job-spawn-failed', {label: this.label, error: e.message})
      this.exited(child, {code: EX_CONFIG})
    })
    child.once('exit', (code, signal) => {
      this.exited(child, child.pid === undefined ? {code: EX_CONFIG} : signal ? {signal} : {code: code ?? 0})
    })
    if (child.pid !== undefined) {
      this.pid = child.pid
      this.state = 'running'
      this.jobState = 'running'
      this.log.record('job-spawned', {label: this.label, pid: child.pid, run: this.runs, reason, spawnStartedAt: this.lastSpawnAt})
    }
  }

  /** Resolves once the process is gone (immediately if none). KeepAlive stays off until `resume`. */
  stop(): Promise<void> {
    this.stopping = true
    this.cancelRespawn()
    const child = this.child
    if (!child) {
      this.state = 'not running'
      return Promise.resolve()
    }
    const gone = new Promise<void>((resolve) => this.exitWaiters.push(resolve))
    this.state = 'SIGTERMed'
    this.signal(child, 'SIGTERM')
    if (this.definition.exitTimeOutMs > 0 && !this.killTimer) {
      this.killTimer = setTimeout(() => this.signal(child, 'SIGKILL'), this.definition.exitTimeOutMs)
    }
    return gone
  }

  resume(): void {
    this.stopping = false
  }

  /**
   * For the fake launchd's own shutdown: nothing may outlive the test. Resolves once the process
   * is reaped here, so no zombie is left for init to collect later.
   */
  destroy(): Promise<void> {
    this.stopping = true
    this.cancelRespawn()
    const pid = this.child?.pid
    if (pid === undefined) return Promise.resolve()
    const gone = new Promise<void>((resolve) => this.exitWaiters.push(resolve))
    try {
      process.kill(-pid, 'SIGKILL')
    } catch {
      // already gone
    }
    return gone
  }

  private signal(child: ChildProcess, signal: NodeJS.Signals): void {
    if (this.child !== child || child.pid === undefined) return
    this.log.record('job-signalled', {label: this.label, pid: child.pid, signal})
    child.kill(signal)
  }

  private exited(child: ChildProcess | undefined, status: ExitStatus): void {
    if (child !== this.child) return
    this.log.record('job-exited', {label: this.label, pid: this.pid, ...status})
    this.child = undefined
    this.pid = undefined
    this.lastExit = status
    this.exitReason = undefined
    this.jobState = status.code === EX_CONFIG && status.signal === undefined && child?.pid === undefined ? 'spawn failed' : 'exited'
    this.state = 'not running'
    clearTimeout(this.killTimer)
    this.killTimer = undefined
    const waiters = this.exitWaiters.splice(0)
    if (!this.stopping && shouldRestart(this.definition.keepAlive, status)) this.scheduleRespawn()
    for (const resolve of waiters) resolve()
  }

  private scheduleRespawn(): void {
    const remaining = () => this.definition.throttleIntervalMs - (preciseNow() - this.lastSpawnAt)
    this.state = 'spawn scheduled'
    this.log.record('job-respawn-scheduled', {label: this.label, delayMs: Math.max(0, remaining())})
    // Timers may fire a little early and round fractional delays; launchd never respawns inside the interval.
    const arm = () => {
      this.respawnTimer = setTimeout(() => {
        if (remaining() > 0) return arm()
        this.respawnTimer = undefined
        this.start('keepalive')
      }, Math.max(0, Math.ceil(remaining())))
    }
    arm()
  }

  private cancelRespawn(): void {
    if (this.respawnTimer) clearTimeout(this.respawnTimer)
    this.respawnTimer = undefined
    if (this.state === 'spawn scheduled') this.state = 'not running'
  }
}

function openOutput(path: string | undefined): number | 'ignore' {
  if (path === undefined) return 'ignore'
  try {
    return openSync(path, 'a')
  } catch {
    return 'ignore'
  }
}
