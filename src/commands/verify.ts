import {Args, Command, Flags} from '@oclif/core'
import {verifyOutcome} from '../cli/verify-outcome.js'
import {renderVerifyText} from '../render/verify-text.js'
import type {VerifyReport} from '../verify/report.js'

export {exitCodeFor} from '../cli/verify-outcome.js'

export default class Verify extends Command {
  static override summary = 'Say, on any OS, whether macOS would run a daemon bundle, binary, profile or installer package, and why not.'
  static override description = `Checks what AMFI checks at launch: every slice's code pages and special slots, the CMS signature and its chain to Apple's roots, the bundle seal, nested code in depth (each nested bundle's own signature, seal and profile, and a second executable claiming a restricted entitlement, which is killed), and the provisioning profile against the signed entitlements; the stapled notarization ticket, offline; for a .pkg, its checksums, signatures and every bundle and Mach-O file in its payloads.

Exit codes: 0 no error finding; 3 at least one error finding; 4 the input is unreadable, empty (0 bytes) or of an unknown kind.`
  static override examples = [
    '<%= config.bin %> verify /opt/mydaemon/mydaemon.app',
    '<%= config.bin %> verify --json build/mydaemon.app',
    '<%= config.bin %> verify embedded.provisionprofile',
    '<%= config.bin %> verify --json dist/mydaemon.pkg',
  ]
  static override enableJsonFlag = true
  static override args = {
    path: Args.string({description: 'a bundle (.app, .framework, .dext, …), a Mach-O executable, a .provisionprofile, a .pkg, or a folder, .zip or .tar.gz holding them', required: true}),
  }
  static override flags = {
    'warnings-as-errors': Flags.boolean({description: 'exit 3 on warnings too (for CI gates)'}),
  }

  async run(): Promise<VerifyReport> {
    const {args, flags} = await this.parse(Verify)
    // Failed only by the flag: the verdict printed and ok in --json follow the exit code, while the
    // closing line still says macOS itself would accept it.
    const {report, exitCode, failedByWarnings} = await verifyOutcome(args.path, flags['warnings-as-errors'])
    if (!this.jsonEnabled()) this.log(renderVerifyText(report, {failedByWarnings}))
    process.exitCode = exitCode
    return report
  }
}
