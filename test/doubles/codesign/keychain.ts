import {createConnection, createServer, type Server} from 'node:net'
import {signCodeDirectories, type TestIdentity} from '../../support/test-pki.js'
import type {KeychainRequest, KeychainResponse} from './protocol.js'

/**
 * The double's keychain. As codesign asks securityd to sign with a private key it never sees (and
 * Apple's server for the timestamp), the double asks the test process, which holds the test-PKI
 * identities and its time-stamping authority, over a Unix socket. Private keys never leave the test.
 */
export function serveKeychain(socketPath: string, identities: TestIdentity[]): Server {
  const bySha1 = new Map(identities.map(i => [i.info.sha1.toUpperCase(), i]))
  const server = createServer(socket => {
    let text = ''
    socket.setEncoding('utf8')
    socket.on('data', chunk => {
      text += chunk
      const nl = text.indexOf('\n')
      if (nl < 0) return
      const request = JSON.parse(text.slice(0, nl)) as KeychainRequest
      answer(bySha1, request).then(
        response => socket.end(JSON.stringify(response) + '\n'),
        (e: unknown) => socket.end(JSON.stringify({error: (e as Error).message} satisfies KeychainResponse) + '\n'),
      )
    })
    socket.on('error', () => socket.destroy())
  })
  server.listen(socketPath)
  // The tests' process must be free to exit even if a test forgets cleanup().
  server.unref()
  return server
}

async function answer(bySha1: Map<string, TestIdentity>, request: KeychainRequest): Promise<KeychainResponse> {
  const identity = bySha1.get(request.sha1.toUpperCase())
  if (!identity) return {error: `no private key for ${request.sha1}`}
  const cms = await signCodeDirectories({
    codeDirectories: request.codeDirectories.map(cd => Buffer.from(cd, 'base64')),
    identity,
    signingTime: new Date(request.signingTime),
    ...(request.timestamp ? {timestamp: {time: new Date(request.timestamp)}} : {}),
  })
  return {cms: cms.toString('base64')}
}

/** The double's side: one request, one answer. */
export function askKeychain(socketPath: string, request: KeychainRequest): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath)
    let text = ''
    socket.setEncoding('utf8')
    socket.on('connect', () => socket.write(JSON.stringify(request) + '\n'))
    socket.on('data', chunk => (text += chunk))
    socket.on('error', reject)
    socket.on('end', () => {
      try {
        const response = JSON.parse(text) as KeychainResponse
        if ('error' in response) reject(new Error(response.error))
        else resolve(Buffer.from(response.cms, 'base64'))
      } catch (e) {
        reject(e as Error)
      }
    })
  })
}
