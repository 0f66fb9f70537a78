import {Args, Flags} from '@oclif/core'
import {LifecycleCommand, type LifecycleJson} from '../cli/lifecycle-command.js'
import {upgrade} from '../lifecycle/index.js'

export default class Upgrade extends LifecycleCommand {
  static override summary = 'Upgrade the installed daemon to the version in a payload; changed etc/ files are kept (the new default beside them as .default), var/ is never touched.'
  static override description = `Verifies the staged bundle first (every slice, the profile, team and bundle id against the manifest; codesign on macOS), copies everything before the old daemon stops, swaps by rename, writes the launchd plist and bin/<name> link, bootstraps, and runs the health check. Any failure leaves the previous state running. Needs root.`
  static override examples = ['sudo <%= config.bin %> upgrade ./payload', 'sudo <%= config.bin %> upgrade --dry-run mydaemon-1.2.3.tar.gz', 'sudo <%= config.bin %> upgrade --json ./payload']
  static override args = {payload: Args.string({description: 'payload directory or .tar.gz (with esdctl.json at its root)', required: true})}
  static override flags = {
    'allow-downgrade': Flags.boolean({description: 'permit installing an older version than the one installed'}),
  }

  async run(): Promise<LifecycleJson> {
    const {args, flags} = await this.parse(Upgrade)
    return this.runLifecycle(flags.root, ctx => upgrade(ctx, args.payload, {dryRun: flags['dry-run'], allowDowngrade: flags['allow-downgrade']}))
  }
}
