import {execFileSync, spawn, type ChildProcess} from 'node:child_process'
import {createHash} from 'node:crypto'
import {chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {once} from 'node:events'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {readEventLog, type LaunchdEvent} from './event-log.js'
import {CONFIG_NAME, EVENTS_NAME, LAUNCHCTL_NAME, SOCKET_NAME, type ErrorStyle, type FakeLaunchdConfig} from './protocol.js'

export type {LaunchdEvent} from './event-log.js'
export type {ErrorStyle} from './protocol.js'

export interface FakeLaunchd {
  /** Per-instance directory: socket, event log, disabled overrides, the launchctl launcher. */
  readonly stateDir: string
  /** Executable fake `launchctl`; hand it to `new LaunchctlAdapter({executable})`. */
  readonly launchctlPath: string
  events(): LaunchdEvent[]
  /** Kills every job, stops the fake launchd and removes the state dir. */
  stop(): Promise<void>
}

const READY_TIMEOUT_MS = 10_000
const STOP_TIMEOUT_MS = 5_000

/** Starts a fake launchd in a fresh state dir; call `stop()` in an after hook. */
export async function startFakeLaunchd(opts: {errorStyle?: ErrorStyle; programs?: Record<string, string[]>; eioWindowMs?: number; codeSigningKills?: string[]} = {}): Promise<FakeLaunchd> {
  // Short base path: unix socket paths are limited to about 100 bytes.
  const stateDir = mkdtempSync(join(tmpdir(), 'fake-launchd-'))
  const config: FakeLaunchdConfig = {
    errorStyle: opts.errorStyle ?? 'modern',
    ...(opts.programs ? {programs: opts.programs} : {}),
    ...(opts.eioWindowMs ? {eioWindowMs: opts.eioWindowMs} : {}),
    ...(opts.codeSigningKills ? {codeSigningKills: opts.codeSigningKills} : {}),
  }
  writeFileSync(join(stateDir, CONFIG_NAME), JSON.stringify(config))
  const launchctlPath = join(stateDir, LAUNCHCTL_NAME)
  const native = nativeClient()
  if (native) copyFileSync(native, launchctlPath)
  else writeFileSync(launchctlPath, launcherScript(stateDir))
  chmodSync(launchctlPath, 0o755)

  const serverScript = fileURLToPath(new URL('./launchd-server.js', import.meta.url))
  const server = spawn(process.execPath, [serverScript, stateDir], {stdio: ['pipe', 'pipe', 'inherit']})
  try {
    await waitForReady(server)
  } catch (e) {
    server.kill('SIGKILL')
    rmSync(stateDir, {recursive: true, force: true})
    throw e
  }
  return {
    stateDir,
    launchctlPath,
    events: () => readEventLog(join(stateDir, EVENTS_NAME)),
    stop: async () => {
      await stopServer(server)
      rmSync(stateDir, {recursive: true, force: true})
    },
  }
}

/**
 * The fake `launchctl` executable. The real one is a native binary that answers in a few
 * milliseconds; a client that takes tens would distort the benchmarks (status start-up, upgrade
 * downtime). So the client is, in order of preference: native/launchctl-client.c compiled once
 * with the machine's C compiler (cached by source hash under .cache/), a few lines of the system
 * Python (about 10 ms), or a Node launcher (the state dir has no package.json) that loads the ESM
 * CLI body. All speak the protocol in protocol.ts and print and exit alike.
 */
const NATIVE_SOURCE = fileURLToPath(new URL('../../../../test/doubles/fake-launchd/native/launchctl-client.c', import.meta.url))
const NATIVE_CACHE = fileURLToPath(new URL('../../../../.cache/fake-launchctl/', import.meta.url))
let nativeBuilt: string | null | undefined

function nativeClient(): string | undefined {
  if (nativeBuilt !== undefined) return nativeBuilt ?? undefined
  nativeBuilt = null
  try {
    const source = readFileSync(NATIVE_SOURCE)
    const out = join(NATIVE_CACHE, createHash('sha256').update(source).digest('hex').slice(0, 16), LAUNCHCTL_NAME)
    if (!existsSync(out)) {
      mkdirSync(dirname(out), {recursive: true})
      const tmp = `${out}.${process.pid}.tmp`
      execFileSync('cc', ['-O2', '-o', tmp, NATIVE_SOURCE], {stdio: 'ignore'})
      renameSync(tmp, out)
    }
    nativeBuilt = out
  } catch {
    // No C compiler here: the Python or Node client takes over.
  }
  return nativeBuilt ?? undefined
}
const SYSTEM_PYTHON = '/usr/bin/python3'

function launcherScript(stateDir: string): string {
  const socketPath = join(stateDir, SOCKET_NAME)
  if (existsSync(SYSTEM_PYTHON)) {
    return [
      `#!${SYSTEM_PYTHON} -SE`,
      'import json, socket, sys',
      's = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)',
      'try:',
      `    s.connect(${JSON.stringify(socketPath)})`,
      'except OSError as e:',
      `    sys.stderr.write("launchctl (fake): cannot reach the fake launchd in " + ${JSON.stringify(stateDir)} + ": " + str(e) + "\\n")`,
      '    sys.exit(1)',
      's.sendall((json.dumps({"argv": sys.argv[1:]}) + "\\n").encode())',
      'data = b""',
      'while True:',
      '    chunk = s.recv(65536)',
      '    if not chunk:',
      '        break',
      '    data += chunk',
      'answer = json.loads(data.decode())',
      'sys.stdout.write(answer["stdout"])',
      'sys.stderr.write(answer["stderr"])',
      'sys.exit(answer["exitCode"])',
      '',
    ].join('\n')
  }
  const cli = pathToFileURL(fileURLToPath(new URL('./launchctl-cli.js', import.meta.url))).href
  return `#!/usr/bin/env node\nimport(${JSON.stringify(cli)}).then((m) => m.main(${JSON.stringify(stateDir)}))\n`
}

async function waitForReady(server: ChildProcess): Promise<void> {
  let output = ''
  const ready = new Promise<void>((resolve, reject) => {
    server.stdout!.setEncoding('utf8')
    server.stdout!.on('data', (chunk: string) => {
      output += chunk
      if (output.includes('ready\n')) resolve()
    })
    server.once('exit', (code) => reject(new Error(`fake launchd exited (${code}) before it was ready`)))
  })
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('fake launchd did not become ready')), READY_TIMEOUT_MS)
  })
  try {
    await Promise.race([ready, timeout])
  } finally {
    clearTimeout(timer)
  }
}

async function stopServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return
  const exited = once(server, 'exit')
  server.kill('SIGTERM')
  const timer = setTimeout(() => server.kill('SIGKILL'), STOP_TIMEOUT_MS)
  try {
    await exited
  } finally {
    clearTimeout(timer)
  }
}
