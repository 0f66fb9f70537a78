import type {RootFs} from '../adapters/root-fs.js'

/** One rename a step makes; undone by renaming back. */
export interface Move {
  from: string
  to: string
}

/** Renames each `from` that exists onto `to` (which must not exist: rename never merges trees). */
export async function doMoves(fs: RootFs, moves: readonly Move[]): Promise<void> {
  for (const move of moves) {
    if ((await fs.lstat(move.from)) === undefined) continue
    if ((await fs.lstat(move.to)) !== undefined) throw new Error(`cannot move ${move.from} to ${move.to}: something is already there`)
    await fs.rename(move.from, move.to)
  }
}

/**
 * Newest first, moves back whatever a (possibly interrupted) doMoves moved: a move happened exactly
 * when its destination exists and its source does not.
 */
export async function undoMoves(fs: RootFs, moves: readonly Move[]): Promise<void> {
  for (const move of [...moves].reverse()) {
    if ((await fs.lstat(move.to)) !== undefined && (await fs.lstat(move.from)) === undefined) await fs.rename(move.to, move.from)
  }
}
