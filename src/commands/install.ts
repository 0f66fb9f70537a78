import {Args, Flags} from '@oclif/core'
import {LifecycleCommand, type LifecycleJson} from '../cli/lifecycle-command.js'
import {install} from '../lifecycle/index.js'

export default class Install extends LifecycleCommand {
  static override summary = 'Install the daemon from a payload (a directory or .tar.gz with esdctl.json) under /opt/<name>, verified, and run it under launchd.'
  static override description = `Verifies the staged bundle first (every slice, the profile, team and bundle id against the manifest; codesign on macOS), copies everything before the old daemon stops, swaps by rename, writes the launchd plist and bin/<name> link, bootstraps, and runs the health check. Any failure leaves the previous state running. Needs root.`
  static override examples = ['sudo <%= config.bin %> install ./payload', 'sudo <%= config.bin %> install --dry-run mydaemon-1.2.3.tar.gz', 'sudo <%= config.bin %> install --json ./payload']
  static override args = {payload: Args.string({description: 'payload directory or .tar.gz (with esdctl.json at its root)', required: true})}
  static override flags = {
    'allow-downgrade': Flags.boolean({description: 'permit installing an older version than the one installed'}),
  }

  async run(): Promise<LifecycleJson> {
    const {args, flags} = await this.parse(Install)
    return this.runLifecycle(flags.root, ctx => install(ctx, args.payload, {dryRun: flags['dry-run'], allowDowngrade: flags['allow-downgrade']}))
  }
}
