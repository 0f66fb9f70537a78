import {lstat, open} from 'node:fs/promises'
import {isFormatError} from '../formats/format-error.js'
import {MAX_PLIST_BYTES, parsePropertyListDict, type PlistDict} from '../formats/property-list.js'
import type {PrefixLayout} from '../layout/prefix-layout.js'

export interface InstalledPlist {
  /** Rebased path that was read. */
  path: string
  dict?: PlistDict
  /** The bytes `dict` was parsed from. */
  bytes?: Buffer
  uid?: number
  gid?: number
  mode?: number
  /** Why `dict` is absent. */
  problem?: string
}

/** The daemon's launchd plist as installed, with its owner and mode; never throws for a bad file. */
export async function readInstalledPlist(layout: PrefixLayout): Promise<InstalledPlist> {
  const path = layout.launchdPlist
  const out: InstalledPlist = {path}
  try {
    const st = await lstat(path)
    Object.assign(out, {uid: st.uid, gid: st.gid, mode: st.mode & 0o7777})
    if (!st.isFile()) return {...out, problem: `${path} is not a regular file`}
    if (st.size > MAX_PLIST_BYTES) return {...out, problem: `${path} is ${st.size} bytes, far larger than a launchd plist`}
    out.bytes = await readAtMost(path, MAX_PLIST_BYTES)
    out.dict = parsePropertyListDict(out.bytes, path)
  } catch (e) {
    if (isFormatError(e)) return {...out, problem: e.message}
    const code = (e as NodeJS.ErrnoException).code
    return {...out, problem: code === 'ENOENT' ? `${path} does not exist` : `${path} cannot be read (${code ?? (e as Error).message})`}
  }
  return out
}

export interface OutputFile {
  key: 'StandardOutPath' | 'StandardErrorPath'
  /** As written in the plist (the booted Mac's path). */
  systemPath: string
  /** Where it is read from (under --root). */
  path: string
}

/** StandardOutPath and StandardErrorPath (once when both name the same file). */
export function outputFiles(dict: PlistDict | undefined, layout: PrefixLayout): OutputFile[] {
  const files: OutputFile[] = []
  for (const key of ['StandardOutPath', 'StandardErrorPath'] as const) {
    const value = dict?.[key]
    if (typeof value !== 'string' || !value.startsWith('/')) continue
    if (files.some((f) => f.systemPath === value)) continue
    try {
      files.push({key, systemPath: value, path: layout.rebase(value)})
    } catch {
      // a path with `..` is not followed
    }
  }
  return files
}

/** The last `maxLines` lines within the last `maxBytes` bytes of a file; undefined when it cannot be read. */
export async function tailLines(path: string, maxLines: number, maxBytes = 1024 * 1024): Promise<string[] | undefined> {
  let text: string
  try {
    const fh = await open(path, 'r')
    try {
      const {size} = await fh.stat()
      const length = Math.min(size, maxBytes)
      const buf = Buffer.alloc(length)
      await fh.read(buf, 0, length, size - length)
      text = buf.toString('utf8')
      // A cut first line is partial: drop it unless the whole file was read.
      if (length < size) text = text.slice(text.indexOf('\n') + 1)
    } finally {
      await fh.close()
    }
  } catch {
    return undefined
  }
  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()
  return maxLines <= 0 ? [] : lines.slice(-maxLines)
}

async function readAtMost(path: string, max: number): Promise<Buffer> {
  const fh = await open(path, 'r')
  try {
    const buf = Buffer.alloc(Math.min(max, (await fh.stat()).size))
    const {bytesRead} = await fh.read(buf, 0, buf.length, 0)
    return buf.subarray(0, bytesRead)
  } finally {
    await fh.close()
  }
}
