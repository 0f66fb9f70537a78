import type {RootFs} from '../adapters/root-fs.js'
import {isRootFsError} from '../adapters/root-fs-error.js'
import {FormatError} from '../formats/format-error.js'

/** What reading one of esdctl's own records found. */
export type RecordRead<T> =
  | {state: 'absent'}
  | {state: 'ok'; value: T}
  | {state: 'damaged'; path: string; problem: string}

/** Which record, for messages and error codes: `receipt` (also the rollback slot's) or `registry`. */
export type RecordKind = 'record' | 'registry'

/** Raised by the throwing readers for a damaged record; status and doctor show its message. */
export class RecordDamagedError extends FormatError {
  constructor(
    kind: RecordKind,
    readonly path: string,
    readonly problem: string,
    repair: string,
  ) {
    super(`${kind}.damaged`, `${path}: ${problem}; ${kind === 'registry' ? "esdctl's registry" : "esdctl's install record"} is damaged. ${repair}`)
    this.name = 'RecordDamagedError'
  }
}

export function isRecordDamaged(e: unknown): e is RecordDamagedError {
  return e instanceof RecordDamagedError
}

function describeNonFile(stat: {isDirectory(): boolean; isSymbolicLink(): boolean}): string {
  if (stat.isDirectory()) return 'it is a directory, not a file'
  if (stat.isSymbolicLink()) return 'it is a symbolic link, which esdctl never follows'
  return 'it is not a regular file'
}

/**
 * esdctl's state files (registry, install records) are read one way: absent means none; anything
 * but a regular file, more than `maxBytes`, an empty file (a power cut right after creation), bytes
 * that are not JSON, or JSON `check` refuses is *damaged*, with the problem in words. Only a failure
 * to read a file that is there (EACCES, EIO) throws.
 */
export async function readRecordFile<T>(fs: RootFs, path: string, maxBytes: number, check: (value: unknown) => string | undefined): Promise<RecordRead<T>> {
  const stat = await fs.lstat(path)
  if (stat === undefined) return {state: 'absent'}
  if (!stat.isFile()) return {state: 'damaged', path, problem: describeNonFile(stat)}
  if (stat.size > maxBytes) return {state: 'damaged', path, problem: `it is ${stat.size} bytes, more than the ${maxBytes} a record may have`}
  let bytes: Buffer
  try {
    bytes = await fs.readFile(path, maxBytes)
  } catch (e) {
    // Replaced between lstat and open (by a link, a directory, a bigger file): damaged too.
    if (isRootFsError(e) || (e as NodeJS.ErrnoException).code === 'ELOOP') return {state: 'damaged', path, problem: (e as Error).message}
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {state: 'absent'}
    throw e
  }
  if (bytes.toString('utf8').trim() === '') return {state: 'damaged', path, problem: 'it is empty'}
  let value: unknown
  try {
    value = JSON.parse(bytes.toString('utf8'))
  } catch (e) {
    return {state: 'damaged', path, problem: `not valid JSON (${(e as Error).message})`}
  }
  const problem = check(value)
  return problem === undefined ? {state: 'ok', value: value as T} : {state: 'damaged', path, problem}
}

/** The journal's reader (lifecycle/journal.ts): absent → undefined, anything but a regular file is refused, size bounded. */
export async function readOwnFile(fs: RootFs, path: string, maxBytes: number, kind: string, what: string): Promise<Buffer | undefined> {
  const stat = await fs.lstat(path)
  if (stat === undefined) return undefined
  if (!stat.isFile()) throw new FormatError(`${kind}.not-a-file`, `${path}: expected ${what}, found something that is not a regular file`)
  return fs.readFile(path, maxBytes)
}

export function parseOwnJson(bytes: Buffer, path: string, kind: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'))
  } catch (e) {
    throw new FormatError(`${kind}.malformed`, `${path}: not valid JSON (${(e as Error).message})`)
  }
}
