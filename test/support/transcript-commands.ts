import type {RecordedAnswer} from './replay-tool.js'

/** One `$ command` of a transcript block and what it printed. */
export interface RecordedCommand {
  command: string
  /** Exit status when the transcript records it (`exit status N`, `echo $?`, `; echo $?`). */
  status?: number
  /** Lines given with their stream (`stdout: …`, `stderr: …`; `(empty)` is none). */
  stdout?: string
  stderr?: string
  /** Lines printed without a recorded stream. */
  output: string[]
}

/**
 * The commands of a transcript block in the `$ cmd` / output / status layout of
 * 05-launchctl-errors.txt. Lines before the first `$` are ignored (the caller reads those itself).
 */
export function recordedCommands(lines: readonly string[]): RecordedCommand[] {
  const commands: RecordedCommand[] = []
  let current: RecordedCommand | undefined
  let awaitingStatus = false
  for (const line of lines) {
    if (line.startsWith('$ ')) {
      const command = line.slice(2).replace(/\s+#.*$/, '').trim()
      if (command === 'echo $?') {
        awaitingStatus = true
        continue
      }
      current = {command: command.replace(/\s*;\s*echo \$\?$/, ''), output: []}
      awaitingStatus = command.endsWith('echo $?')
      commands.push(current)
      continue
    }
    if (!current) continue
    const status = /^(?:exit status )?(\d{1,3})$/.exec(line.trim())
    if (status && (awaitingStatus || line.startsWith('exit status'))) {
      current.status = Number(status[1])
      awaitingStatus = false
      continue
    }
    const stream = /^(stdout|stderr): (.*)$/.exec(line)
    if (stream) {
      const text = stream[2] === '(empty)' ? '' : `${stream[2]}\n`
      current[stream[1] as 'stdout' | 'stderr'] = (current[stream[1] as 'stdout' | 'stderr'] ?? '') + text
      continue
    }
    current.output.push(line)
  }
  return commands
}

/**
 * A recorded command as a replay answer. Output whose stream the transcript does not record is
 * put on `stream` (the caller says which, and the test states that it chose).
 */
export function answerOf(c: RecordedCommand, stream: 'stdout' | 'stderr' = 'stderr'): RecordedAnswer {
  if (c.status === undefined) throw new Error(`the transcript records no exit status for: ${c.command}`)
  const unrecorded = c.output.length > 0 ? c.output.join('\n') + '\n' : ''
  return {
    status: c.status,
    stdout: (c.stdout ?? '') + (stream === 'stdout' ? unrecorded : ''),
    stderr: (c.stderr ?? '') + (stream === 'stderr' ? unrecorded : ''),
  }
}
