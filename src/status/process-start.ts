import {readFile} from 'node:fs/promises'

/**
 * Linux's `/proc/<pid>/stat` field 22 counts clock ticks since boot; the kernel ABI fixes the tick
 * (USER_HZ) at 100 on every architecture Node runs on.
 */
const USER_HZ = 100
const MAX_PROC_BYTES = 64 * 1024

/**
 * When a process started, where that is one cheap read: Linux (`/proc`, e.g. a staging image or
 * the test double). macOS has no file to read it from and a `ps` per daemon would cost more than
 * the rest of `status`, so there it is left out.
 */
export async function processStartTime(pid: number): Promise<Date | undefined> {
  if (process.platform !== 'linux' || !Number.isInteger(pid) || pid <= 0) return undefined
  try {
    const [stat, bootStat] = await Promise.all([readSmall(`/proc/${pid}/stat`), readSmall('/proc/stat')])
    // The command name (field 2) is in parentheses and may itself contain spaces or parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[19])
    const btime = Number(/^btime (\d+)$/m.exec(bootStat)?.[1])
    if (!Number.isFinite(ticks) || !Number.isFinite(btime)) return undefined
    return new Date(btime * 1000 + (ticks / USER_HZ) * 1000)
  } catch {
    return undefined
  }
}

async function readSmall(path: string): Promise<string> {
  const text = await readFile(path, 'utf8')
  return text.slice(0, MAX_PROC_BYTES)
}
