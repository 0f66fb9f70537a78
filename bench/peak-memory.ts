import {execFile} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'

const CHILD = fileURLToPath(new URL('./peak-memory-child.js', import.meta.url))

export interface PeakMemoryCheck {
  name: string
  maxRssBytes: number
  /** Linux VmHWM of the child's own address space, when readable. */
  highWaterMarkBytes: number | undefined
  limitBytes: number
}

/** Hashes `codeLimit` bytes of `path` in a fresh process and reads that process's peak RSS. */
export async function peakMemoryOfHashing(path: string, codeLimit: number, pageSize: number, parallel: 'off' | 'auto', limitBytes: number): Promise<PeakMemoryCheck> {
  const {stdout} = await promisify(execFile)(process.execPath, [CHILD, path, String(codeLimit), String(pageSize), parallel])
  const {maxRssBytes, highWaterMarkBytes} = JSON.parse(stdout) as {maxRssBytes: number; highWaterMarkBytes?: number}
  const name = `peak RSS, hashPages parallel:${parallel}, ${codeLimit / 2 ** 30} GiB, ${pageSize / 1024} KiB pages`
  return {name, maxRssBytes, highWaterMarkBytes, limitBytes}
}

/** Runs the whole of `esdctl verify` on a signed file in a fresh process and reads its peak RSS. */
export async function peakMemoryOfVerify(path: string, sizeBytes: number, parallel: 'off' | 'auto', limitBytes: number): Promise<PeakMemoryCheck> {
  const {stdout} = await promisify(execFile)(process.execPath, [CHILD, 'verify', path, parallel])
  const {maxRssBytes, highWaterMarkBytes} = JSON.parse(stdout) as {maxRssBytes: number; highWaterMarkBytes?: number}
  return {name: `peak RSS, esdctl verify parallel:${parallel}, signed Mach-O of ${(sizeBytes / 2 ** 30).toFixed(2)} GiB`, maxRssBytes, highWaterMarkBytes, limitBytes}
}
