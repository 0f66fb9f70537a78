import type {ProgressSink, StepOutcome} from '../lifecycle/context.js'

const MARK: Record<StepOutcome, string> = {done: '✔', skipped: '-', failed: '✖', undone: '↺'}

/**
 * Progress as plain lines on stderr (stdout stays for the result and --json): one line per
 * finished step. Used when stderr is not a terminal — logs of a .pkg postinstall, Jamf, Ansible.
 */
export class LineProgress implements ProgressSink {
  private readonly titles = new Map<string, string>()
  constructor(private readonly write: (line: string) => void = line => process.stderr.write(`${line}\n`)) {}

  stepStarted(id: string, title: string): void {
    this.titles.set(id, title)
  }

  stepFinished(id: string, outcome: StepOutcome): void {
    this.write(`${MARK[outcome]} ${this.titles.get(id) ?? id}${outcome === 'done' ? '' : ` (${outcome})`}`)
  }
}

/**
 * A task list on a terminal, drawn by listr2: the running step under a spinner, then each step
 * ticked off. The lifecycle reports steps as it goes, so each becomes a listr2 task when it starts.
 */
export class TaskListProgress implements ProgressSink {
  private readonly pending = new Map<string, {resolve: (o: StepOutcome) => void}>()
  private chain: Promise<unknown> = Promise.resolve()
  private listr: Promise<typeof import('listr2')> = import('listr2')

  stepStarted(id: string, title: string): void {
    const finished = new Promise<StepOutcome>(resolve => this.pending.set(id, {resolve}))
    this.chain = this.chain.then(async () => {
      const {Listr} = await this.listr
      const task = {
        title,
        task: async (_: unknown, t: {skip: (m?: string) => void; title: string}) => {
          const outcome = await finished
          if (outcome === 'failed') throw new Error(`${title}: failed`)
          if (outcome === 'skipped') t.skip(`${title} (skipped)`)
          if (outcome === 'undone') t.title = `${title} (undone)`
        },
      }
      await new Listr([task], {exitOnError: false}).run().catch(() => undefined)
    })
  }

  stepFinished(id: string, outcome: StepOutcome): void {
    const p = this.pending.get(id)
    if (!p) return
    this.pending.delete(id)
    p.resolve(outcome)
  }

  /** Waits until every drawn task has been settled on screen. */
  async flush(): Promise<void> {
    for (const p of this.pending.values()) p.resolve('skipped')
    this.pending.clear()
    await this.chain
  }
}
