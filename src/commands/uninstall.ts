import {Args, Flags} from '@oclif/core'
import {LifecycleCommand, type LifecycleJson} from '../cli/lifecycle-command.js'
import {uninstall} from '../lifecycle/index.js'

export default class Uninstall extends LifecycleCommand {
  static override summary = 'Stop the daemon and remove its bundle, link, plist and records; etc/ and var/ stay unless --purge. Needs root.'
  static override examples = ['sudo <%= config.bin %> uninstall mydaemon', 'sudo <%= config.bin %> uninstall --json mydaemon']
  static override args = {name: Args.string({description: 'the daemon name (/opt/<name>)', required: true})}
  static override flags = {
    purge: Flags.boolean({description: 'also remove etc/ and var/ (configuration and state) and the payload copies packages left for it'}),
  }

  async run(): Promise<LifecycleJson> {
    const {args, flags} = await this.parse(Uninstall)
    return this.runLifecycle({root: flags.root, dryRun: flags['dry-run']}, ctx => uninstall(ctx, args.name, {dryRun: flags['dry-run'], purge: flags.purge}))
  }
}
