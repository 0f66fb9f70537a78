import {existsSync, readFileSync} from 'node:fs'
import {join, resolve} from 'node:path'
import {REPO_ROOT} from './real-artifacts.js'
import {skipBecause} from './skip.js'

/** Real macOS tool output with sources (shared fixtures, read in place, never copied). */
export const TRANSCRIPTS_DIR = resolve(REPO_ROOT, '..', 'shared', 'fixtures', 'macos-transcripts')

/** The whole transcript file, or undefined when the shared fixtures are absent in this checkout. */
export function transcriptText(file: string): string | undefined {
  const path = join(TRANSCRIPTS_DIR, file)
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined
}

/** The file without its leading `# source: …` comment lines: what the tool printed. */
export function transcriptBody(file: string): string | undefined {
  const text = transcriptText(file)
  if (text === undefined) return undefined
  const lines = text.split('\n')
  let first = 0
  while (first < lines.length && lines[first]!.startsWith('# ')) first++
  return lines.slice(first).join('\n')
}

export interface TranscriptBlock {
  /** `A`, `B1`, … as the file names it after `----`. */
  id: string
  /** The rest of the `----X` line (its source, when given there). */
  heading: string
  /** The lines up to the next block, without trailing `# …` comments that head the next one. */
  lines: string[]
}

/** The blocks of a transcript file that separates them with `----<id>` lines. */
export function transcriptBlocks(file: string): Map<string, TranscriptBlock> | undefined {
  const text = transcriptText(file)
  if (text === undefined) return undefined
  const blocks = new Map<string, TranscriptBlock>()
  let current: TranscriptBlock | undefined
  for (const line of text.split('\n')) {
    const m = /^----([A-Z][0-9]?)\b\s*(.*)$/.exec(line)
    if (m) {
      current = {id: m[1]!, heading: m[2]!, lines: []}
      blocks.set(current.id, current)
    } else if (current) current.lines.push(line)
  }
  for (const block of blocks.values()) {
    while (block.lines.length > 0 && (block.lines.at(-1) === '' || block.lines.at(-1)!.startsWith('# '))) block.lines.pop()
  }
  return blocks
}

/** Skips the calling test when the shared fixtures are absent, saying so. */
export function requireTranscript<T>(ctx: Mocha.Context, value: T | undefined): T {
  if (value === undefined) {
    skipBecause(ctx, 'fixtures-absent')
  }
  return value!
}
