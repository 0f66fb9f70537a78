import {Command, Flags} from '@oclif/core'
import {endOnRefusal} from '../cli/build-refusal.js'
import {buildPayload, DEFAULT_ESDCTL_PATH, type PayloadResult} from '../payload-build/build-payload.js'
import {renderPayloadText} from '../payload-build/payload-text.js'

export default class Payload extends Command {
  static override summary = 'Assemble the install payload and the pkgbuild inputs for a bundled daemon.'
  static override description = `Checks the manifest (esdctl.json) and that it agrees with the bundle (name, bundle id, team of the embedded profile), then judges the assembled payload as install will (the verifier over every slice, the signature's team and identifier against the manifest, Info.plist, the config files in etc/; codesign on macOS): a bundle not signed yet (esdctl bundle off a Mac, before sign.sh) or signed for someone else is refused, as every install would refuse it. Then it writes into --out: root/ (the payload placed where the pkg drops it, /Library/Application Support/esdctl/payloads/<name>/<version>/), scripts/preinstall and scripts/postinstall (they run esdctl install the first time and esdctl upgrade after, by absolute path, with PATH reset and Node's variables removed), component.plist (keeps Installer from relocating the bundle) and PACKAGING.txt with the pkgbuild, productbuild, notarytool and stapler command lines. With --pkg on macOS it also runs pkgbuild.

With --with-esdctl (a tarball from npm run dist:darwin) the self-contained esdctl, with its own Node, goes inside the payload (<payload>/esdctl/) and the scripts run that copy, so the package needs nothing else on the Mac. The tarball is checked first: its layout, and its Node must pass esdctl verify as signed by the Node.js Foundation.

Exit codes: 0 written; 3 every install would refuse the bundle (the findings say why; nothing written); 4 bad input (nothing written).`
  static override examples = [
    '<%= config.bin %> payload --app dist/thed.app --manifest esdctl.json --etc etc --out pkg',
    '<%= config.bin %> payload --app dist/thed.app --manifest esdctl.json --out pkg --with-esdctl esdctl-0.1.0-darwin-arm64.tar.gz',
    '<%= config.bin %> payload --app dist/thed.app --manifest esdctl.json --out pkg --pkg --installer-identity "Developer ID Installer: Example Inc (ABCDE12345)"',
  ]
  static override enableJsonFlag = true
  static override flags = {
    app: Flags.string({description: 'the signed <name>.app', required: true}),
    manifest: Flags.string({description: 'the esdctl.json manifest', required: true}),
    etc: Flags.string({description: 'directory installed as <prefix>/etc (configuration)'}),
    lib: Flags.string({description: 'directory installed as <prefix>/lib'}),
    modules: Flags.string({description: 'directory installed as <prefix>/modules'}),
    share: Flags.string({description: 'directory installed as <prefix>/share'}),
    out: Flags.string({description: 'directory to create', required: true}),
    pkg: Flags.boolean({description: 'also run pkgbuild (macOS only)'}),
    esdctl: Flags.string({description: 'absolute path of esdctl on the target Macs, run by the pkg scripts', default: DEFAULT_ESDCTL_PATH}),
    'with-esdctl': Flags.string({description: 'an esdctl-<version>-darwin-<arch>.tar.gz (npm run dist:darwin) to ship inside the payload; the pkg scripts run that copy'}),
    'installer-identity': Flags.string({description: 'Developer ID Installer identity for pkgbuild/productbuild --sign'}),
    'notary-profile': Flags.string({description: 'notarytool keychain profile for the printed submit command'}),
    force: Flags.boolean({description: 'replace an earlier payload in --out (never a folder holding anything else)'}),
  }

  async run(): Promise<PayloadResult> {
    const {flags} = await this.parse(Payload)
    try {
      const result = await buildPayload({
        app: flags.app,
        manifest: flags.manifest,
        etc: flags.etc,
        lib: flags.lib,
        modules: flags.modules,
        share: flags.share,
        out: flags.out,
        pkg: flags.pkg,
        esdctl: flags.esdctl,
        withEsdctl: flags['with-esdctl'],
        installerIdentity: flags['installer-identity'],
        notaryProfile: flags['notary-profile'],
        force: flags.force,
      })
      if (!this.jsonEnabled()) this.log(renderPayloadText(result))
      return result
    } catch (e) {
      endOnRefusal(this, e)
    }
  }
}
