import {lstat, writeFile} from 'node:fs/promises'
import {resolve} from 'node:path'
import {Args, Command, Flags} from '@oclif/core'
import {ExitCode} from '../exit-codes.js'
import {exitStatusOf, InputError} from '../exit-status.js'
import {buildPppcProfile} from '../pppc/pppc-profile.js'
import {installedDaemons} from '../status/installed-daemons.js'
import {verifyPath} from '../verify/verify-path.js'

export default class Pppc extends Command {
  static override summary = 'Write the MDM profile that grants a daemon Full Disk Access.'
  static override description = `An Endpoint Security client needs Full Disk Access (es_new_client returns ERR_NOT_PERMITTED without it), and only an MDM can grant it to a daemon: a Privacy Preferences Policy Control payload (SystemPolicyAllFiles, Allowed) keyed to the code's identifier and code requirement. The requirement is read from the signature (its designated requirement, or the Developer ID requirement built from its team id). Deploy the .mobileconfig through your MDM; re-run after changing signing identity.

A grant is refused when the signature does not verify (it would name whoever signed the bytes, not this code) or when a bundle is signed under an identifier other than its CFBundleIdentifier.

Exit codes: 0 written; 4 the daemon or bundle was not found, its signature does not verify, or it has no identity a grant can be keyed to.`
  static override examples = [
    '<%= config.bin %> pppc mydaemon --out mydaemon-fda.mobileconfig',
    '<%= config.bin %> pppc build/mydaemon.app > mydaemon-fda.mobileconfig',
  ]
  static override args = {
    target: Args.string({description: 'an installed daemon NAME, or a path to its .app bundle (default: the only installed daemon)'}),
  }
  static override flags = {
    out: Flags.string({description: 'write the profile here instead of to stdout'}),
    organization: Flags.string({description: 'PayloadOrganization shown in System Settings'}),
    root: Flags.string({description: 'directory standing in for / (staging images, tests)', default: '/'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Pppc)
    try {
      const {path, systemPath} = await bundlePath(args.target, flags.root)
      const report = await verifyPath(path)
      const profile = await buildPppcProfile(report, {systemPath, ...(flags.organization ? {organization: flags.organization} : {})})
      if (flags.out) {
        await writeFile(flags.out, profile.xml, {mode: 0o644})
        process.stderr.write(`wrote ${flags.out}: Full Disk Access for ${profile.requirement.identifier}, requirement: ${profile.requirement.requirement}\n`)
      } else {
        process.stdout.write(profile.xml)
      }
    } catch (e) {
      const status = exitStatusOf(e)
      if (status.code === ExitCode.internalError) throw e
      process.stderr.write(`esdctl pppc: ${status.message}\n`)
      process.exitCode = status.code
    }
  }
}

/**
 * The bundle to grant: `path` to read here, and `systemPath`, the same bundle as the booted Mac names
 * it (under --root, the image path without the root: what the profile may tell MDM).
 */
async function bundlePath(target: string | undefined, root: string): Promise<{path: string; systemPath: string}> {
  if (target !== undefined && (target.includes('/') || target.endsWith('.app'))) {
    const path = resolve(target)
    // Said before verifying: a missing path would otherwise read as code with no signature.
    await lstat(path).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'ENOTDIR') throw new InputError(`${path} does not exist: give the path of the daemon's .app bundle, or the NAME of a daemon esdctl installed`)
    })
    return {path, systemPath: path}
  }
  let daemons
  try {
    ;({daemons} = await installedDaemons(root, target))
  } catch (e) {
    // A bad --root or a damaged registry is bad input, reported as logs and doctor report it.
    throw new InputError((e as Error).message)
  }
  if (target === undefined && daemons.length !== 1) throw new InputError(`${daemons.length === 0 ? 'no daemon is' : `${daemons.length} daemons are`} installed by esdctl: name one, or give a bundle path`)
  if (daemons.length === 0) throw new InputError(`${target} is not installed by esdctl; give a bundle path instead`)
  const daemon = daemons[0]!
  if (daemon.layoutGuess !== undefined) process.stderr.write(`warning: ${daemon.layoutGuess}\n`)
  return {path: daemon.layout.app, systemPath: daemon.layout.system.app}
}
