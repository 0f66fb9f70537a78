import type {PlistDict} from '../formats/property-list.js'

/**
 * The program a launchd job runs: `Program`, else `ProgramArguments[0]` (launchd.plist(5): Program
 * wins when both are given); undefined when the plist names neither as a string.
 */
export function jobProgram(job: PlistDict): string | undefined {
  const args = job['ProgramArguments']
  if (typeof job['Program'] === 'string') return job['Program']
  return Array.isArray(args) && typeof args[0] === 'string' ? args[0] : undefined
}
