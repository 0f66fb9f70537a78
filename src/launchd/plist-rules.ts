import type * as plist from 'plist'

type PlistDict = {[key: string]: plist.PlistValue}

/** What the plist of this daemon must say, as the booted Mac sees it. */
export interface PlistExpectation {
  name: string
  label: string
  /** The bundle's main executable: `/opt/<name>/<name>.app/Contents/MacOS/<name>`. */
  executable: string
  /** `/opt/<name>/bin/<name>`: a symlink, never what launchd should run. */
  binLink: string
}

export interface PlistProblem {
  id: string
  severity: 'error' | 'warning'
  /** The plist key at fault. */
  key: string
  /** The esdctl.json field that produces the key, when the manifest controls it. */
  manifestField?: string
  problem: string
  fix: string
}

interface PlistRule {
  id: string
  severity: 'error' | 'warning'
  key: string
  manifestField?: string
  check(job: PlistDict, expect: PlistExpectation): {problem: string; fix: string} | undefined
}

const REINSTALL = 'Reinstall with `sudo esdctl install` (it writes the plist from the manifest).'

/**
 * The one rule set for a launchd plist of an Endpoint Security daemon. doctor applies it to the
 * installed plist; install, upgrade, plist and payload apply it to the plist the manifest would
 * produce and refuse (exit 4) on any error, so nothing doctor calls an error can be installed.
 * Facts: launchd must exec the bundle's main executable for its provisioning profile to apply
 * (DESIGN §1, §6); es_new_client returns ERR_NOT_PRIVILEGED unless the client runs as root.
 */
const RULES: readonly PlistRule[] = [
  {
    id: 'plist.label', severity: 'error', key: 'Label',
    check: (job, e) => (job.Label === e.label ? undefined : {problem: `Label is ${JSON.stringify(job.Label)}, expected ${e.label}`, fix: REINSTALL}),
  },
  {
    id: 'plist.program', severity: 'error', key: 'Program',
    check: (job, e) => {
      if (job.Program === e.executable) return undefined
      const viaLink = job.Program === e.binLink ? ' (the bin symlink: macOS then finds no bundle and no profile, and AMFI kills the daemon)' : ''
      return {problem: `Program is ${JSON.stringify(job.Program)}, expected the executable inside the bundle, ${e.executable}${viaLink}`, fix: REINSTALL}
    },
  },
  {
    id: 'plist.program-arguments', severity: 'warning', key: 'ProgramArguments', manifestField: '/programArguments',
    check: (job, e) => {
      const args = job.ProgramArguments
      if (!Array.isArray(args) || typeof args[0] !== 'string' || args[0] === e.executable || args[0] === e.name) return undefined
      return {problem: `ProgramArguments[0] is ${JSON.stringify(args[0])}; launchd runs Program, but the daemon sees this as argv[0]`, fix: REINSTALL}
    },
  },
  {
    id: 'plist.user', severity: 'error', key: 'UserName', manifestField: '/UserName',
    check: (job) => {
      const user = job.UserName
      if (user === undefined || user === 'root') return undefined
      return {problem: `UserName is ${JSON.stringify(user)}: an Endpoint Security client must run as root (es_new_client returns ERR_NOT_PRIVILEGED otherwise)`, fix: 'Remove UserName from esdctl.json (launchd runs system daemons as root) and install again.'}
    },
  },
]

/** Every rule the job dictionary breaks, errors and warnings, in rule order. */
export function plistProblems(job: PlistDict, expect: PlistExpectation): PlistProblem[] {
  const problems: PlistProblem[] = []
  for (const rule of RULES) {
    const found = rule.check(job, expect)
    if (found) problems.push({id: rule.id, severity: rule.severity, key: rule.key, ...(rule.manifestField ? {manifestField: rule.manifestField} : {}), ...found})
  }
  return problems
}
