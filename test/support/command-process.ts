import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {execa} from 'execa'
import {REPO_ROOT} from './real-artifacts.js'

/**
 * Runs a command class the way bin/run.js runs commands (oclif parses, renders --json, maps errors
 * to exit codes) without depending on the generated oclif.manifest.json listing it.
 */
const RUNNER = `
import {flush, handle} from '@oclif/core'
const [mod, ...argv] = process.argv.slice(1)
const {default: Cmd} = await import(mod)
await Cmd.run(argv, {root: process.cwd()}).then(() => flush()).catch(handle)
`

/** `esdctl <command> …args` as a child process of the compiled dist/ (never rejects: read exitCode). */
export function runCommand(command: string, ...args: string[]) {
  const mod = pathToFileURL(join(REPO_ROOT, 'dist', 'src', 'commands', `${command}.js`)).href
  return execa(process.execPath, ['--input-type=module', '-e', RUNNER, mod, ...args], {reject: false, cwd: REPO_ROOT, env: {NODE_OPTIONS: ''}})
}
