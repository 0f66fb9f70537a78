/**
 * `esdctl status --root <root>` as bin/run.js runs it — compile cache, then the oclif-free path —
 * except that launchctl is the test double, handed over as the adapter. With `--oclif`, the oclif
 * command instead (config without user plugins), for reference. Benchmark only:
 * `node startup-status-entry.js <launchctl> <root> [--oclif]`.
 */
import {enableCompileCache} from 'node:module'
import {fileURLToPath} from 'node:url'

enableCompileCache?.()
const [launchctlPath, root, mode] = process.argv.slice(2) as [string, string, string | undefined]
const argv = ['--root', root]

if (mode === '--oclif') {
  const [{LaunchctlAdapter}, {Config}, {default: Status}] = await Promise.all([
    import('../src/adapters/launchctl.js'),
    import('@oclif/core'),
    import('../src/commands/status.js'),
  ])
  class StatusWithDouble extends Status {
    protected override launchctl(): InstanceType<typeof LaunchctlAdapter> {
      return new LaunchctlAdapter({executable: launchctlPath})
    }
  }
  const config = await Config.load({root: fileURLToPath(new URL('../../', import.meta.url)), userPlugins: false, devPlugins: false, jitPlugins: false})
  await StatusWithDouble.run(argv, config)
} else {
  // The same two imports, in parallel, as bin/run.js.
  const [{statusWithoutOclif}, {LaunchctlAdapter}] = await Promise.all([import('../src/status/direct-status.js'), import('../src/adapters/launchctl.js')])
  const exitCode = await statusWithoutOclif(argv, () => new LaunchctlAdapter({executable: launchctlPath}))
  if (exitCode === undefined) throw new Error(`the oclif-free path did not take ${argv.join(' ')}`)
  process.exitCode = exitCode
}
