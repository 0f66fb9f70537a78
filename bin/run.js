#!/usr/bin/env node
// Kept dependency-free until the checks below have run: nothing is loaded that an unsafe
// environment could have redirected.
import {lstatSync} from 'node:fs'
// A namespace, not a named import: Node 22.0 (engines allow it) has no enableCompileCache, and a
// missing named import fails at link time before the `?.()` below could skip it.
import * as nodeModule from 'node:module'
import {userInfo} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

/** Same value as ExitCode.unsafeEnvironment in src/exit-codes.ts. */
const UNSAFE_ENVIRONMENT = 9

// As root, NODE_OPTIONS (--require, --import, --inspect …) and NODE_PATH let whoever set the
// environment run code with root's rights; sudo may keep them (env_keep, sudo -E).
if (process.geteuid?.() === 0) {
  const set = ['NODE_OPTIONS', 'NODE_PATH'].filter((name) => (process.env[name] ?? '').trim() !== '')
  if (set.length > 0) {
    process.stderr.write(
      `esdctl: refusing to run as root with ${set.join(' and ')} set: ${set.length > 1 ? 'they let' : 'it lets'} whoever set the environment load code into a root process.\n` +
        `Unset ${set.join(' and ')} (for example: sudo env -u NODE_OPTIONS -u NODE_PATH esdctl …) and run again.\n`,
    )
    process.exit(UNSAFE_ENVIRONMENT)
  }
}

// Cached compiled code of esdctl and its dependencies: most of a short command's start-up. Root
// never reads a cache others can write (Node's default is under the shared temporary directory).
if (process.geteuid?.() !== 0) {
  nodeModule.enableCompileCache?.()
} else {
  const dir = rootOnlyCacheDir()
  if (dir !== undefined) nodeModule.enableCompileCache?.(dir)
}

// Verifying a large file hashes its pages on worker threads too; booting them now hides their
// start-up behind oclif's or the verifier's loading. Idle workers do not keep the process alive.
// Only for inputs that large: idle workers cost an everyday verify more start-up and memory than it saves.
if (process.argv[2] === 'verify') (await import('../dist/src/io/page-hasher.js')).warmPageHashingFor(process.argv.slice(3).find((a) => !a.startsWith('-')))

// `status` runs on fleet schedules and `verify` in CI gates and on every artifact: each skips
// oclif's start-up when its command line is a plain one, and leaves anything else (help, bad flags,
// --json for verify) to oclif below.
const exitCode =
  process.argv[2] === 'status' ? await statusWithoutOclif(process.argv.slice(3))
  : process.argv[2] === 'verify' ? await (await import('../dist/src/cli/direct-verify.js')).verifyWithoutOclif(process.argv.slice(3))
  : undefined
if (exitCode !== undefined) {
  process.exitCode = exitCode
} else {
  if (process.argv[2] === 'doctor') (await import('../dist/src/io/page-hasher.js')).warmPageHashing()
  const {execute} = await import('@oclif/core/execute')
  // Only esdctl's own plugins: oclif would otherwise load "user" and "linked" plugins from the
  // invoking user's data directory (ESDCTL_DATA_DIR, ~/.local/share/esdctl), i.e. run a user's code as root.
  await execute({loadOptions: {root: dirname(dirname(fileURLToPath(import.meta.url))), userPlugins: false, devPlugins: false, jitPlugins: false}})
}

/** The exit code of `esdctl status <args>` run without oclif, or undefined when oclif is to run it. */
async function statusWithoutOclif(args) {
  const [direct, host] = await Promise.all([import('../dist/src/status/direct-status.js'), import('../dist/src/status/host-launchd.js')])
  return direct.statusWithoutOclif(args, host.hostLaunchctlFor)
}

/** Under root's own home (from the user database: sudo may keep the caller's HOME), if only root can write it. */
function rootOnlyCacheDir() {
  try {
    const home = userInfo().homedir
    const st = lstatSync(home)
    if (st.isDirectory() && st.uid === 0 && (st.mode & 0o022) === 0) return join(home, '.cache', 'esdctl', 'node-compile-cache')
  } catch {
    // no usable home: run without the cache
  }
  return undefined
}
