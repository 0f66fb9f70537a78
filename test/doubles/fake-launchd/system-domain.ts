import type {DisabledStore} from './disabled-store.js'
import type {EventLog} from './event-log.js'
import {loadJobDefinition, type JobDefinition} from './job-definition.js'
import {renderPrintDisabled, renderServicePrint} from './print-render.js'
import {reply, type FakeLaunchdConfig, type LaunchctlReply} from './protocol.js'
import {SupervisedJob} from './supervised-job.js'

/** launchd's own words for the codes it returns (xpc_strerror). */
const ERROR_TEXT: Readonly<Record<number, string>> = {
  2: 'No such file or directory',
  3: 'No such process',
  5: 'Input/output error',
  36: 'Operation now in progress',
  37: 'Operation already in progress',
  113: 'Could not find specified service',
  119: 'Service is disabled',
  122: 'Path had bad ownership/permissions',
}

const EX_USAGE = 64

interface LoadedService {
  job: SupervisedJob
  /** Set by bootout: the label stays taken until the process has exited. */
  removing: boolean
}

/** The system domain of the fake launchd: the loaded services and what each verb does to them. */
export class SystemDomain {
  private readonly services = new Map<string, LoadedService>()
  /** Label → when its bootout finished; bootstrap answers 5 until `eioWindowMs` has passed. */
  private readonly removedAt = new Map<string, number>()

  constructor(
    private readonly config: FakeLaunchdConfig,
    private readonly log: EventLog,
    private readonly disabled: DisabledStore,
  ) {}

  async handle(argv: string[]): Promise<LaunchctlReply> {
    const [verb = '', ...args] = argv
    const readOnly = verb === 'print' || verb === 'print-disabled'
    if (!readOnly) this.log.record(`${verb}-called`, {argv, label: labelOf(args.at(-1))})
    const result = await this.dispatch(verb, args)
    if (!readOnly) this.log.record(`${verb}-returned`, {exitCode: result.exitCode, label: labelOf(args.at(-1))})
    return result
  }

  async destroy(): Promise<void> {
    await Promise.all([...this.services.values()].map(({job}) => job.destroy()))
  }

  private dispatch(verb: string, args: string[]): Promise<LaunchctlReply> | LaunchctlReply {
    switch (verb) {
      case 'bootstrap': return this.bootstrap(args)
      case 'bootout': return this.bootout(args)
      case 'enable': return this.setDisabled(args, false)
      case 'disable': return this.setDisabled(args, true)
      case 'kickstart': return this.kickstart(args)
      case 'print': return this.print(args)
      case 'print-disabled': return this.printDisabled(args)
      default: return reply(EX_USAGE, '', `Unrecognized subcommand: ${verb}\n`)
    }
  }

  private bootstrap(args: string[]): LaunchctlReply {
    if (args.length !== 2 || args[0] !== 'system') return usage('bootstrap system <plist>')
    const loaded = loadJobDefinition(args[1]!)
    if (!loaded.ok) {
      this.log.record('bootstrap-refused', {path: args[1], problem: loaded.problem, detail: loaded.detail})
      switch (loaded.problem) {
        case 'missing': return failed('Bootstrap', 2)
        case 'bad-ownership': return failed('Bootstrap', this.specific(122))
        case 'malformed': return failed('Bootstrap', 5)
      }
    }
    const refused = (this.config.codeSigningKills ?? []).includes(loaded.definition.program)
    const def = this.substituted(loaded.definition)
    const existing = this.services.get(def.label)
    // A job still draining after bootout (state = SIGTERMed) gets EIO, as on macOS 15/26 (05 block E).
    if (existing?.removing) return eio()
    if (existing) return failed('Bootstrap', this.specific(37))
    const removed = this.removedAt.get(def.label)
    if (removed !== undefined && performance.now() - removed < (this.config.eioWindowMs ?? 0)) return eio()
    if (this.disabled.isDisabled(def.label)) return failed('Bootstrap', this.specific(119))
    const job = new SupervisedJob(def, this.log, refused)
    this.services.set(def.label, {job, removing: false})
    this.log.record('service-loaded', {label: def.label, path: def.plistPath})
    if (def.runAtLoad) job.start('runatload')
    return reply(0)
  }

  /** Returns at once; the label is freed only when the process has exited. */
  private bootout(args: string[]): LaunchctlReply {
    const label = serviceLabel(args)
    if (label === undefined) return usage('bootout system/<label>')
    const service = this.services.get(label)
    // Real launchctl, system domain and as root too (05 blocks A and B): 3, not 113.
    if (!service) return failed('Boot-out', 3)
    if (service.removing) return failed('Boot-out', 36)
    service.removing = true
    void service.job.stop().then(() => {
      this.services.delete(label)
      this.removedAt.set(label, performance.now())
      this.log.record('service-removed', {label})
    })
    return reply(0)
  }

  private setDisabled(args: string[], disabled: boolean): LaunchctlReply {
    const label = serviceLabel(args)
    if (label === undefined) return usage(`${disabled ? 'disable' : 'enable'} system/<label>`)
    this.disabled.set(label, disabled)
    return reply(0)
  }

  /** `-k` stops the running instance first; the restart reuses the definition loaded at bootstrap. */
  private async kickstart(args: string[]): Promise<LaunchctlReply> {
    const kill = args[0] === '-k'
    const label = serviceLabel(kill ? args.slice(1) : args)
    if (label === undefined) return usage('kickstart [-k] system/<label>')
    const service = this.services.get(label)
    if (!service) return notFound(label)
    if (service.removing) return failed('Kickstart', 37)
    const {job} = service
    if (job.pid !== undefined && !kill) return reply(0)
    if (job.pid !== undefined) await job.stop()
    if (service.removing) return failed('Kickstart', 37)
    job.resume()
    job.start('kickstart')
    return reply(0)
  }

  private print(args: string[]): LaunchctlReply {
    const label = serviceLabel(args)
    if (label === undefined) return usage('print system/<label>')
    const service = this.services.get(label)
    if (!service) return notFound(label)
    return reply(0, renderServicePrint(service.job))
  }

  private printDisabled(args: string[]): LaunchctlReply {
    if (args.length !== 1 || args[0] !== 'system') return usage('print-disabled system')
    return reply(0, renderPrintDisabled(this.disabled))
  }

  /** Applies the test-only program mapping (see FakeLaunchdConfig.programs). */
  private substituted(def: JobDefinition): JobDefinition {
    const prefix = this.config.programs?.[def.program]
    if (prefix === undefined || prefix.length === 0) return def
    return {...def, program: prefix[0]!, argv: [...prefix, ...def.argv.slice(1)]}
  }

  /** Older releases folded the specific bootstrap errors into the catch-all 5. */
  private specific(code: number): number {
    return this.config.errorStyle === 'legacy' ? 5 : code
  }
}

function failed(what: string, code: number): LaunchctlReply {
  return reply(code, '', `${what} failed: ${code}: ${ERROR_TEXT[code] ?? 'Unknown error'}\n`)
}

/** 05 block E: the catch-all, with launchctl's hint for non-root callers. */
function eio(): LaunchctlReply {
  return reply(5, '', 'Bootstrap failed: 5: Input/output error\nTry re-running the command as root for richer errors.\n')
}

/** 05 block J: `print` (and kickstart) of a label launchd does not have, system-domain wording. */
function notFound(label: string): LaunchctlReply {
  return reply(113, '', `Bad request.\nCould not find service "${label}" in domain for system\n`)
}

function usage(form: string): LaunchctlReply {
  return reply(EX_USAGE, '', `Usage: launchctl ${form} (the fake launchd models only the system domain)\n`)
}

function serviceLabel(args: string[]): string | undefined {
  if (args.length !== 1) return undefined
  return labelOf(args[0])
}

function labelOf(target: string | undefined): string | undefined {
  const m = /^system\/(.+)$/.exec(target ?? '')
  return m ? m[1] : undefined
}
