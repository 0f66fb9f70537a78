import {CodesignAdapter} from '../adapters/codesign.js'
import {systemClock, type Clock} from '../adapters/clock.js'
import {resolve} from 'node:path'
import {LaunchctlAdapter} from '../adapters/launchctl.js'
import {OfflineLaunchctl} from '../adapters/offline-launchctl.js'
import {realProcessIdentity, type ProcessIdentity} from '../adapters/process-identity.js'
import {RootFs} from '../adapters/root-fs.js'
import {PinoAuditLog, type AuditLog} from '../audit/audit-log.js'
import type {ExitCode} from '../exit-codes.js'
import type {Finding} from '../verify/finding.js'
import type {VerifyOptions} from '../verify/verify-options.js'

export {LifecycleError} from './lifecycle-error.js'

export type StepOutcome = 'done' | 'skipped' | 'failed' | 'undone'

/** How a command shows progress; the CLI renders it with listr2 on a TTY and plain lines otherwise. */
export interface ProgressSink {
  stepStarted(id: string, title: string): void
  stepFinished(id: string, outcome: StepOutcome): void
}

export const silentProgress: ProgressSink = {stepStarted: () => undefined, stepFinished: () => undefined}

export interface LifecycleContext {
  /** `/` in production; tests use a temporary directory (`--root`). */
  root: string
  launchctl: LaunchctlAdapter
  /** The second opinion on macOS; undefined elsewhere (the result then carries a note, never a pass). */
  codesign?: CodesignAdapter
  /** Unrestricted reads; lifecycle code derives a RootFs allowed to change only the daemon's own paths. */
  fs: RootFs
  identity: ProcessIdentity
  clock: Clock
  audit: AuditLog
  progress: ProgressSink
  /** Library API only (tests pass the test PKI's trust store); no flag reaches it. */
  verifyOptions?: VerifyOptions
  /**
   * Staging into an image under `root` (not `/`): files are laid down, launchd is not asked (the
   * image's launchd loads the plist at its first boot), and there is no running job to check.
   */
  offline?: boolean
  /** TEST ONLY: called at every step boundary; the crash tests make it SIGKILL the process. */
  faultHook?: (point: string) => void
}

export type LifecycleAction = 'install' | 'upgrade' | 'rollback' | 'uninstall' | 'start' | 'stop' | 'restart'

/** A step as the dry run and --json show it; `kind` names its executor (plan.ts) for lifecycle plans. */
export interface PlannedStep {
  id: string
  kind?: string
  title: string
}

export interface LifecycleResult {
  action: LifecycleAction
  name: string
  label?: string
  /**
   * Whether anything on disk or in launchd changed, a repair of esdctl's records or a recovery
   * included. In a dry run (`dryRun: true`): whether the same command without --dry-run would
   * change the machine, as Ansible's check mode, Puppet's noop and Chef's why-run expect
   * (outcome.ts `dryRunOutcome` decides it, for every verb).
   */
  changed: boolean
  /** Set on every dry run's result, so `changed` is read as "would change". */
  dryRun?: true
  exitCode: ExitCode
  message: string
  fromVersion?: string
  toVersion?: string
  rolledBack?: boolean
  findings?: Finding[]
  plan?: PlannedStep[]
  /** Dry run: what the real run does after its last step (plan.finish), in order. */
  finish?: {kind: string; title: string}[]
  /** What was done first: an interrupted transaction found in the journal, damaged records rebuilt. */
  recovered?: string
  /** Things the admin should know that did not change the outcome (e.g. no codesign second opinion here). */
  notes?: string[]
}

/** The real adapters. codesign is asked only on macOS, where /usr/bin/codesign exists. */
export function productionContext(opts: {root?: string; progress: ProgressSink}): LifecycleContext {
  const root = opts.root ?? '/'
  const offline = resolve(root) !== '/'
  return {
    root,
    offline,
    launchctl: offline ? new OfflineLaunchctl() : new LaunchctlAdapter({executable: '/bin/launchctl'}),
    codesign: process.platform === 'darwin' ? new CodesignAdapter({executable: '/usr/bin/codesign'}) : undefined,
    fs: new RootFs(),
    identity: realProcessIdentity,
    clock: systemClock,
    audit: new PinoAuditLog(),
    progress: opts.progress,
  }
}
