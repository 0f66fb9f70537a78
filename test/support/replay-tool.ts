import {chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

/** One recorded answer of a tool: what it printed on each stream and its exit status. */
export interface RecordedAnswer {
  stdout?: string
  stderr?: string
  status: number
}

export interface ReplayTool {
  /** The executable; hand it to the adapter as its `executable`. */
  readonly path: string
  /** argv of every call, in order. */
  calls(): string[][]
  remove(): void
}

/**
 * An executable that answers each verb (argv[0]) with its recorded answers in turn, the last one
 * repeating: a transcript replayed on its own streams with its own exit status. A verb with no
 * recording exits 64 and says so, so a test sees any call it did not expect.
 */
export function replayTool(answers: Record<string, RecordedAnswer[]>): ReplayTool {
  const dir = mkdtempSync(join(tmpdir(), 'replay-'))
  for (const [verb, list] of Object.entries(answers)) {
    if (!/^[a-z-]+$/.test(verb) || list.length === 0) throw new Error(`bad recording for ${verb}`)
    list.forEach((a, i) => {
      writeFileSync(join(dir, `${verb}.${i}.out`), a.stdout ?? '')
      writeFileSync(join(dir, `${verb}.${i}.err`), a.stderr ?? '')
      writeFileSync(join(dir, `${verb}.${i}.status`), String(a.status))
    })
    writeFileSync(join(dir, `${verb}.last`), String(list.length - 1))
  }
  const path = join(dir, 'tool')
  writeFileSync(path, [
    '#!/bin/sh',
    `d='${dir}'`,
    'printf "%s\\0" "$@" >> "$d/calls"; printf "\\n" >> "$d/calls"',
    'v="$1"',
    'if [ ! -f "$d/$v.last" ]; then echo "replay: nothing recorded for $v" >&2; exit 64; fi',
    'n=$(cat "$d/$v.count" 2>/dev/null || echo 0)',
    'echo $((n + 1)) > "$d/$v.count"',
    'last=$(cat "$d/$v.last")',
    'if [ "$n" -gt "$last" ]; then n=$last; fi',
    'cat "$d/$v.$n.out"',
    'cat "$d/$v.$n.err" >&2',
    'exit "$(cat "$d/$v.$n.status")"',
    '',
  ].join('\n'))
  chmodSync(path, 0o755)
  return {
    path,
    calls: () => {
      const file = join(dir, 'calls')
      if (!existsSync(file)) return []
      return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => l.split('\0').filter((a, i, all) => i < all.length - 1 || a !== ''))
    },
    remove: () => rmSync(dir, {recursive: true, force: true}),
  }
}
