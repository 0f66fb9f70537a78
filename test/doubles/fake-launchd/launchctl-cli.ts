import {connect} from 'node:net'
import {join} from 'node:path'
import {SOCKET_NAME, type LaunchctlReply} from './protocol.js'

/**
 * The body of the fake `launchctl`: forwards argv to the fake launchd in `stateDir` and prints
 * and exits exactly as it answers. The executable launcher in the state dir calls this.
 */
export async function main(stateDir: string): Promise<void> {
  try {
    const answer = await ask(join(stateDir, SOCKET_NAME), process.argv.slice(2))
    process.stdout.write(answer.stdout)
    process.stderr.write(answer.stderr)
    process.exitCode = answer.exitCode
  } catch (e) {
    process.stderr.write(`launchctl (fake): cannot reach the fake launchd in ${stateDir}: ${(e as Error).message}\n`)
    process.exitCode = 1
  }
}

function ask(socketPath: string, argv: string[]): Promise<LaunchctlReply> {
  return new Promise((resolve, reject) => {
    let received = ''
    const socket = connect(socketPath, () => socket.write(JSON.stringify({argv}) + '\n'))
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => (received += chunk))
    socket.on('error', reject)
    socket.on('end', () => {
      try {
        resolve(JSON.parse(received) as LaunchctlReply)
      } catch {
        reject(new Error('the fake launchd closed the connection without an answer'))
      }
    })
  })
}
