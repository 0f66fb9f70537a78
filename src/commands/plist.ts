import {Args, Command, Flags} from '@oclif/core'
import {ExitCode} from '../exit-codes.js'
import {exitStatusOf} from '../exit-status.js'
import {renderPlistForPayload} from '../lifecycle/index.js'

export default class Plist extends Command {
  static override summary = 'Print the launchd plist that install would write for a payload, and where.'
  static override examples = ['<%= config.bin %> plist ./payload']
  static override args = {payload: Args.string({description: 'payload directory or .tar.gz (with esdctl.json at its root)', required: true})}
  static override flags = {root: Flags.directory({description: 'treat DIR as /', default: '/'})}

  async run(): Promise<{path: string; xml: string}> {
    const {args, flags} = await this.parse(Plist)
    let out: {path: string; xml: string}
    try {
      out = await renderPlistForPayload(args.payload, flags.root)
    } catch (e) {
      // An unreadable payload, a refused manifest or a bad --root is bad input (exit 4), not a crash.
      const status = exitStatusOf(e)
      if (status.code === ExitCode.internalError) throw e
      process.exitCode = status.code
      this.error(status.message, {exit: status.code})
    }
    // stdout is the plist alone, so `esdctl plist P > x.plist` writes a valid file; where it goes is said on stderr.
    this.logToStderr(`${out.path} (root:wheel 0644)`)
    this.log(out.xml.trimEnd())
    return out
  }
}
