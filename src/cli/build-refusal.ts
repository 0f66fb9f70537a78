import type {Command} from '@oclif/core'
import {isBuildRefusal} from '../bundle/bundle-error.js'
import {exitStatusOf} from '../exit-status.js'

/** Ends a build command on a refusal with its own exit code, message, fix and (--json: error.findings) findings; rethrows anything else. */
export function endOnRefusal(command: Command, e: unknown): never {
  if (isBuildRefusal(e)) {
    const status = exitStatusOf(e)
    // oclif's --json error path takes the exit status from process.exitCode, not from `exit`.
    process.exitCode = status.code
    try {
      command.error(status.message, {exit: status.code, code: status.reason, suggestions: status.fix ? [status.fix] : []})
    } catch (err) {
      // oclif's --json error is the error's own enumerable properties: the findings go there as data.
      if (status.findings) Object.assign(err as object, {findings: status.findings})
      throw err
    }
  }
  throw e
}
