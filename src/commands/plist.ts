import {Args, Command, Flags} from '@oclif/core'
import {renderPlistForPayload} from '../lifecycle/index.js'

export default class Plist extends Command {
  static override summary = 'Print the launchd plist that install would write for a payload, and where.'
  static override examples = ['<%= config.bin %> plist ./payload']
  static override args = {payload: Args.string({description: 'payload directory or .tar.gz (with esdctl.json at its root)', required: true})}
  static override flags = {root: Flags.directory({description: 'treat DIR as /', default: '/'})}

  async run(): Promise<{path: string; xml: string}> {
    const {args, flags} = await this.parse(Plist)
    const out = await renderPlistForPayload(args.payload, flags.root)
    this.log(`<!-- ${out.path} (root:wheel 0644) -->`)
    this.log(out.xml.trimEnd())
    return out
  }
}
