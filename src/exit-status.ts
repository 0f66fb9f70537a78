import {LaunchctlError} from './adapters/launchctl-error.js'
import {LockPathError} from './adapters/lock.js'
import {RootFsError} from './adapters/root-fs-error.js'
import {BuildRefusal} from './bundle/bundle-error.js'
import {ExitCode} from './exit-codes.js'
import {FormatError} from './formats/format-error.js'
import {NotRegularFileError} from './io/regular-file.js'
import {LayoutError} from './layout/prefix-layout.js'
import {LifecycleError, StepFailure, TransactionUndone} from './lifecycle/lifecycle-error.js'
import {RequirementError} from './pppc/code-requirement.js'
import type {Finding} from './verify/finding.js'

/** How a command ends on an error: the exit code (exit-codes.ts), the message, and what backs it. */
export interface ExitStatus {
  code: ExitCode
  message: string
  /** Each offender, one line each (a refusal naming several paths or variables). */
  details?: string[]
  /** What to do about it, when the error carries its own fix. */
  fix?: string
  /** Verifier findings behind a refusal. */
  findings?: Finding[]
  /** A stable machine-readable reason, when the error has one. */
  reason?: string
}

/** A command's own refusal of its arguments (a name that is not installed, a target it cannot pick): bad input. */
export class InputError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'InputError'
  }
}

const UNREADABLE = new Set(['ENOENT', 'EACCES', 'EPERM', 'ENOTDIR', 'ELOOP', 'EISDIR', 'ENAMETOOLONG'])

function isUnreadablePath(e: unknown): e is NodeJS.ErrnoException & {code: string} {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && UNREADABLE.has((e as NodeJS.ErrnoException).code!) && typeof (e as NodeJS.ErrnoException).syscall === 'string'
}

/** Where a root-only file operation refused to go or what it refused to copy. */
function rootFsStatus(e: RootFsError): ExitStatus {
  const unsafe = e.code === 'root-fs.outside-allowed' || e.code === 'root-fs.symlink' || e.code === 'root-fs.not-a-directory'
  return {code: unsafe ? ExitCode.unsafeEnvironment : ExitCode.badInput, message: e.message, reason: e.code}
}

/**
 * The one place an error becomes an exit code, for every command. Refusals carry their own code
 * (LifecycleError, StepFailure, BuildRefusal); bad input of any layer is 4 (FormatError, LayoutError,
 * RequirementError, InputError); launchd that cannot be asked is 5 (launchctl); unsafe paths are 9.
 * Anything else is a bug: internal error 1, its message kept.
 */
export function exitStatusOf(e: unknown): ExitStatus {
  if (e instanceof LifecycleError) return {code: e.exitCode, message: e.message, ...(e.details ? {details: e.details} : {})}
  if (e instanceof StepFailure) return {code: e.exitCode, message: e.message, ...(e.findings ? {findings: e.findings} : {})}
  if (e instanceof BuildRefusal) return {code: e.exitCode, message: e.message, fix: e.fix, reason: e.code, ...(e.findings.length > 0 ? {findings: e.findings} : {})}
  if (e instanceof LaunchctlError) return {code: ExitCode.launchdFailed, message: `launchd could not be asked (launchctl ${e.verb}: ${e.explanation}); nothing was changed`}
  if (e instanceof LockPathError) return {code: ExitCode.unsafeEnvironment, message: `unsafe path: ${e.message}`, details: [e.message]}
  if (e instanceof RootFsError) return rootFsStatus(e)
  if (e instanceof FormatError) return {code: ExitCode.badInput, message: e.message, reason: e.code}
  if (e instanceof LayoutError) return {code: ExitCode.badInput, message: e.message, reason: e.code}
  if (e instanceof RequirementError || e instanceof InputError || e instanceof NotRegularFileError) return {code: ExitCode.badInput, message: e.message}
  // A plan whose step failed and was undone: the state before it is back.
  if (e instanceof TransactionUndone) return {code: ExitCode.rolledBack, message: `${e.message}; everything it did was undone`}
  // A path the command was given (or a record it must read) that the system will not open: bad input, with the system's reason.
  if (isUnreadablePath(e)) return {code: ExitCode.badInput, message: e.message, reason: e.code}
  return {code: ExitCode.internalError, message: `internal error: ${e instanceof Error ? e.message : String(e)}`}
}
