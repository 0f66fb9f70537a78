/**
 * `esdctl status` as bin/run.js runs it — compile cache, oclif config without user plugins, the
 * real Status command — except that launchctl is the test double. Benchmark only:
 * `node startup-status-entry.js <launchctl> <root> [--library-only]`.
 */
import {enableCompileCache} from 'node:module'
import {fileURLToPath} from 'node:url'

enableCompileCache?.()
const [launchctlPath, root, mode] = process.argv.slice(2) as [string, string, string | undefined]
const {LaunchctlAdapter} = await import('../src/adapters/launchctl.js')
const launchctl = new LaunchctlAdapter({executable: launchctlPath})

if (mode === '--library-only') {
  const {statusReport} = await import('../src/status/status-report.js')
  const {renderTable} = await import('../src/status/render-status.js')
  process.stdout.write(renderTable(await statusReport({launchctl, root})))
} else {
  const {Config} = await import('@oclif/core')
  const {default: Status} = await import('../src/commands/status.js')
  class StatusWithDouble extends Status {
    protected override launchctl(): InstanceType<typeof LaunchctlAdapter> {
      return launchctl
    }
  }
  const config = await Config.load({root: fileURLToPath(new URL('../../', import.meta.url)), userPlugins: false, devPlugins: false, jitPlugins: false})
  await StatusWithDouble.run(['--root', root], config)
}
