import type {Command} from '@oclif/core'
import {isBuildRefusal} from '../bundle/bundle-error.js'

/** Ends a build command on a refusal with its own exit code, message and fix; rethrows anything else. */
export function endOnRefusal(command: Command, e: unknown): never {
  if (isBuildRefusal(e)) {
    // oclif's --json error path takes the exit status from process.exitCode, not from `exit`.
    process.exitCode = e.exitCode
    command.error(e.message, {exit: e.exitCode, code: e.code, suggestions: [e.fix]})
  }
  throw e
}
