import {Args, Command, Flags} from '@oclif/core'
import {UnifiedLogAdapter} from '../adapters/unified-log.js'
import {ExitCode} from '../exit-codes.js'
import {exitStatusOf} from '../exit-status.js'
import {daemonLogs, followLogs} from '../status/daemon-logs.js'
import {installedDaemons} from '../status/installed-daemons.js'

export default class Logs extends Command {
  static override summary = 'Show (or follow) a daemon\'s output and its unified-log lines.'
  static override description = `Reads the StandardOutPath and StandardErrorPath of the daemon's installed launchd plist and, on macOS, the unified log for its process (log show / log stream with a predicate on the process name). With -f, follows both until interrupted.

Exit codes: 0 shown; 4 the daemon is not installed by esdctl (or, without NAME, not exactly one is).`
  static override examples = ['<%= config.bin %> logs mydaemon', '<%= config.bin %> logs mydaemon -f', '<%= config.bin %> logs mydaemon --lines 200']
  static override args = {
    name: Args.string({description: 'the daemon (default: the only daemon esdctl installed)'}),
  }
  static override flags = {
    follow: Flags.boolean({char: 'f', description: 'keep printing new lines until interrupted'}),
    lines: Flags.integer({char: 'n', description: 'lines to show from each source', default: 50, min: 0, max: 100_000}),
    minutes: Flags.integer({description: 'how far back the unified log is read', default: 60, min: 1, max: 1440}),
    root: Flags.string({description: 'directory standing in for / (staging images, tests)', default: '/'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Logs)
    let daemons
    try {
      ;({daemons} = await installedDaemons(flags.root, args.name))
    } catch (e) {
      const status = exitStatusOf(e)
      if (status.code === ExitCode.internalError) throw e
      return this.fail(status.message, status.code)
    }
    if (daemons.length !== 1) {
      return this.fail(args.name !== undefined ? `${args.name} is not installed by esdctl` : `${daemons.length === 0 ? 'no daemon is' : `${daemons.length} daemons are`} installed by esdctl: name one`)
    }
    if (daemons[0]!.layoutGuess !== undefined) process.stderr.write(`esdctl logs: warning: ${daemons[0]!.layoutGuess}\n`)
    const ctx = {layout: daemons[0]!.layout, log: new UnifiedLogAdapter(), lines: flags.lines, minutes: flags.minutes}
    for (const section of await daemonLogs(ctx)) {
      process.stdout.write(`==> ${section.title} <==\n${section.note ? `(${section.note})\n` : ''}${section.lines.map((l) => l + '\n').join('')}\n`)
    }
    if (!flags.follow) return
    const abort = new AbortController()
    process.once('SIGINT', () => abort.abort())
    process.once('SIGTERM', () => abort.abort())
    await followLogs({...ctx, signal: abort.signal, onLine: (line) => process.stdout.write(line + '\n')})
  }

  private fail(message: string, code: ExitCode = ExitCode.badInput): void {
    process.stderr.write(`esdctl logs: ${message}\n`)
    process.exitCode = code
  }
}
