import {readFileSync} from 'node:fs'
import {createServer, type Socket} from 'node:net'
import {join} from 'node:path'
import {DisabledStore} from './disabled-store.js'
import {EventLog} from './event-log.js'
import {CONFIG_NAME, DISABLED_NAME, EVENTS_NAME, reply, SOCKET_NAME, type FakeLaunchdConfig, type LaunchctlReply, type LaunchctlRequest} from './protocol.js'
import {SystemDomain} from './system-domain.js'

/** No launchctl argv comes near this; a longer request is a bug in the caller. */
const MAX_REQUEST_BYTES = 64 * 1024
/** SIGKILLed children are normally reaped within milliseconds; never hang a test run on one. */
const SHUTDOWN_REAP_MS = 2_000

/**
 * The fake launchd process: `node launchd-server.js <stateDir>`. Prints `ready` once it listens.
 * It exits (killing every job it spawned) on SIGTERM or when its parent closes stdin, so no
 * daemon outlives the test that started it.
 */
function main(stateDir: string): void {
  const config = JSON.parse(readFileSync(join(stateDir, CONFIG_NAME), 'utf8')) as FakeLaunchdConfig
  const log = new EventLog(join(stateDir, EVENTS_NAME))
  const domain = new SystemDomain(config, log, new DisabledStore(join(stateDir, DISABLED_NAME)))
  const server = createServer((socket) => serve(socket, domain))
  let stopping = false
  const shutdown = (): void => {
    if (stopping) return
    stopping = true
    server.close()
    const bounded = new Promise((resolve) => setTimeout(resolve, SHUTDOWN_REAP_MS).unref())
    void Promise.race([domain.destroy(), bounded]).finally(() => {
      log.record('launchd-stopped', {pid: process.pid})
      process.exit(0)
    })
  }
  process.on('SIGTERM', shutdown)
  process.stdin.on('end', shutdown)
  process.stdin.resume()
  server.listen(join(stateDir, SOCKET_NAME), () => {
    log.record('launchd-started', {pid: process.pid, errorStyle: config.errorStyle})
    process.stdout.write('ready\n')
  })
}

function serve(socket: Socket, domain: SystemDomain): void {
  let received = ''
  socket.setEncoding('utf8')
  socket.on('error', () => socket.destroy())
  socket.on('data', (chunk: string) => {
    received += chunk
    if (received.length > MAX_REQUEST_BYTES) {
      socket.end(JSON.stringify(reply(64, '', 'request too large\n')) + '\n')
      return
    }
    const newline = received.indexOf('\n')
    if (newline < 0) return
    socket.removeAllListeners('data')
    let request: LaunchctlRequest
    try {
      request = JSON.parse(received.slice(0, newline)) as LaunchctlRequest
      if (!Array.isArray(request.argv) || !request.argv.every((a) => typeof a === 'string')) throw new Error('argv')
    } catch {
      socket.end(JSON.stringify(reply(64, '', 'malformed request\n')) + '\n')
      return
    }
    const send = (r: LaunchctlReply) => socket.end(request.framed ? framedReply(r) : JSON.stringify(r) + '\n')
    domain.handle(request.argv).then(send, (e: unknown) => send(reply(1, '', `fake launchd failed: ${(e as Error).message}\n`)))
  })
}

const stateDir = process.argv[2]
if (!stateDir) {
  process.stderr.write('usage: launchd-server.js <stateDir>\n')
  process.exit(64)
}
main(stateDir)

/** For the native client, which has no JSON parser: `<exit>\\n<n>\\n<n bytes of stdout><m>\\n<m bytes of stderr>`. */
function framedReply(r: LaunchctlReply): Buffer {
  const out = Buffer.from(r.stdout)
  const err = Buffer.from(r.stderr)
  return Buffer.concat([Buffer.from(`${r.exitCode}\n${out.length}\n`), out, Buffer.from(`${err.length}\n`), err])
}
