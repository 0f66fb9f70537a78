import {spawn} from 'node:child_process'
import {fileURLToPath} from 'node:url'

const CONTENDER = fileURLToPath(new URL('./lock-contender.js', import.meta.url))

/**
 * Another process holding esdctl's lock at `path` (lock-contender.ts, hold mode) until `stop`: POSIX
 * record locks are per process, so only a second process shows what a run meets while another runs.
 */
export async function holdLockElsewhere(path: string): Promise<{pid: number; stop: () => Promise<void>}> {
  const child = spawn(process.execPath, [CONTENDER, JSON.stringify({path, mode: 'hold'})], {stdio: 'pipe'})
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(d.toString()))
    child.once('exit', (code) => reject(new Error(`contender exited ${code}`)))
  })
  if (!(JSON.parse(line.split('\n')[0]!) as {acquired: boolean}).acquired) throw new Error(`the contender could not take ${path}: ${line}`)
  return {
    pid: child.pid!,
    stop: async () => {
      child.stdin.end()
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve))
    },
  }
}
