/**
 * TEST ONLY: runs one lifecycle verb in its own process, so the crash tests can SIGKILL it at a
 * chosen step boundary. `node lifecycle-runner.js <config.json>`; prints the result (or refusal)
 * as one JSON line and exits with its exit code. With `countFile` it writes how many boundaries
 * the run passed, which is how the tests learn k's range.
 */
import {readFileSync, writeFileSync} from 'node:fs'
import {systemClock} from '../../src/adapters/clock.js'
import {LaunchctlAdapter} from '../../src/adapters/launchctl.js'
import {OfflineLaunchctl} from '../../src/adapters/offline-launchctl.js'
import {realProcessIdentity} from '../../src/adapters/process-identity.js'
import {RootFs} from '../../src/adapters/root-fs.js'
import {PinoAuditLog} from '../../src/audit/audit-log.js'
import {isLifecycleError} from '../../src/lifecycle/lifecycle-error.js'
import * as lifecycle from '../../src/lifecycle/index.js'
import type {LifecycleContext, LifecycleResult} from '../../src/lifecycle/context.js'
import {TrustStore} from '../../src/trust/trust-store.js'

export interface RunnerConfig {
  root: string
  launchctlPath: string
  /** base64 DER of the test PKI's anchors. */
  anchors: {name: string; der: string}[]
  verb: 'install' | 'upgrade' | 'rollback' | 'uninstall' | 'start' | 'stop' | 'restart'
  /** The payload (install, upgrade) or the daemon's name. */
  target: string
  options?: Record<string, boolean>
  /** SIGKILL this process at the k-th boundary (1-based). */
  killAt?: number
  countFile?: string
  /** Stage into an image: no launchd asked (OfflineLaunchctl), as production does for a --root other than /. */
  offline?: boolean
  /** Hold the lock this long (ms) at the first boundary: lets the concurrency test catch a run in flight. */
  pauseMs?: number
}

async function main(): Promise<void> {
  const config = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as RunnerConfig
  let boundaries = 0
  const ctx: LifecycleContext = {
    root: config.root,
    launchctl: config.offline ? new OfflineLaunchctl() : new LaunchctlAdapter({executable: config.launchctlPath}),
    ...(config.offline ? {offline: true} : {}),
    fs: new RootFs(),
    identity: realProcessIdentity,
    clock: systemClock,
    audit: new PinoAuditLog(),
    progress: {stepStarted: () => undefined, stepFinished: () => undefined},
    verifyOptions: {trust: new TrustStore(config.anchors.map((a) => ({name: a.name, der: Buffer.from(a.der, 'base64')})))},
    faultHook: (point) => {
      boundaries++
      if (boundaries === config.killAt) {
        writeFileSync(`${process.argv[2]}.killed`, point)
        process.kill(process.pid, 'SIGKILL')
      }
      if (boundaries === 1 && config.pauseMs) {
        const until = Date.now() + config.pauseMs
        while (Date.now() < until) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10)
      }
    },
  }
  let result: LifecycleResult | {refused: string; exitCode: number; details?: string[]}
  try {
    const opts = config.options ?? {}
    switch (config.verb) {
      case 'install': result = await lifecycle.install(ctx, config.target, opts); break
      case 'upgrade': result = await lifecycle.upgrade(ctx, config.target, opts); break
      case 'rollback': result = await lifecycle.rollback(ctx, config.target, opts); break
      case 'uninstall': result = await lifecycle.uninstall(ctx, config.target, opts); break
      case 'start': result = await lifecycle.start(ctx, config.target, opts); break
      case 'stop': result = await lifecycle.stop(ctx, config.target, opts); break
      case 'restart': result = await lifecycle.restart(ctx, config.target, opts); break
    }
  } catch (e) {
    if (!isLifecycleError(e)) throw e
    result = {refused: e.message, exitCode: e.exitCode, ...(e.details ? {details: e.details} : {})}
  }
  if (config.countFile) writeFileSync(config.countFile, String(boundaries))
  process.stdout.write(JSON.stringify(result) + '\n')
  process.exitCode = result.exitCode
}

await main()
