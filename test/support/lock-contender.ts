/**
 * TEST ONLY: a separate process contending for esdctl's lock, so the tests exercise what the
 * kernel does between processes (POSIX record locks are per process, so one process cannot test them).
 *
 * argv[2] is JSON: {path, mode: 'hold' | 'race', rounds?, sentinel?, go?}
 * - hold: take the lock once, print {acquired, holderPid, tookOverFrom} as one JSON line, then keep
 *   it until stdin closes (the test ends it, or SIGKILLs the process to leave a dead holder).
 * - race: wait for the file `go`, then `rounds` times take the lock and, while holding it, create
 *   `sentinel` with O_EXCL (it exists only while someone holds the lock: EEXIST means two holders),
 *   pause, remove it, release. Prints {acquired, refused, overlaps}.
 */
import {constants, existsSync} from 'node:fs'
import {open, unlink} from 'node:fs/promises'
import {setTimeout as sleep} from 'node:timers/promises'
import {tryLock} from '../../src/adapters/lock.js'

interface Config {
  path: string
  mode: 'hold' | 'race'
  rounds?: number
  sentinel?: string
  go?: string
}

async function hold(config: Config): Promise<void> {
  const attempt = await tryLock(config.path, process.pid)
  const line = attempt.acquired ? {acquired: true, tookOverFrom: attempt.tookOverFrom ?? null} : {acquired: false, holderPid: attempt.holderPid ?? null}
  process.stdout.write(JSON.stringify(line) + '\n')
  if (!attempt.acquired) return
  await new Promise<void>((resolve) => {
    process.stdin.on('end', resolve).on('close', resolve).resume()
  })
  await attempt.lock.release()
}

async function race(config: Config): Promise<void> {
  while (config.go !== undefined && !existsSync(config.go)) await sleep(2)
  let acquired = 0
  let refused = 0
  let overlaps = 0
  for (let round = 0; round < (config.rounds ?? 1); round++) {
    const attempt = await tryLock(config.path, process.pid)
    if (!attempt.acquired) {
      refused += 1
      await sleep(Math.random() * 3)
      continue
    }
    acquired += 1
    try {
      const marker = await open(config.sentinel!, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600)
      await marker.close()
      await sleep(1 + Math.random() * 4)
      await unlink(config.sentinel!)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
      overlaps += 1
    }
    await attempt.lock.release()
  }
  process.stdout.write(JSON.stringify({acquired, refused, overlaps}) + '\n')
}

const config = JSON.parse(process.argv[2] ?? '{}') as Config
await (config.mode === 'hold' ? hold(config) : race(config))
