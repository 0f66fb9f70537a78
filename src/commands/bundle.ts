import {Command, Flags} from '@oclif/core'
import {buildAppBundle, type BundleResult} from '../bundle/build-bundle.js'
import {endOnRefusal} from '../cli/build-refusal.js'
import {renderBundleText} from '../bundle/bundle-text.js'

export default class Bundle extends Command {
  static override summary = 'Turn a compiled daemon into a signed app-like bundle macOS lets claim Endpoint Security.'
  static override description = `Lays out <name>.app (Contents/MacOS/<name>, Info.plist, PkgInfo, embedded.provisionprofile, Resources/), derives the entitlements from the profile (application and team identifier plus the restricted entitlements asked for, Endpoint Security by default) and refuses, before writing anything, an entitlement the profile does not allow, a bundle id its App ID does not cover, an expired or non-macOS profile, an executable that is not MH_EXECUTE in every slice (a library or object file), and a development profile unless --allow-development-profile (the daemon then runs only on the Macs the profile lists; the warning is printed and in --json). On macOS it signs with codesign (hardened runtime, secure timestamp; nested code first, then the bundle) and verifies the result; elsewhere it writes sign.sh, the exact codesign calls to run on a Mac.

Exit codes: 0 built; 3 the signed bundle does not verify (nothing written); 4 bad input (nothing written).`
  static override examples = [
    '<%= config.bin %> bundle --executable build/thed --profile Thed.provisionprofile --bundle-id com.example.thed --version 1.2.0 --out dist',
    '<%= config.bin %> bundle --executable build/thed --profile Thed.provisionprofile --bundle-id com.example.thed --version 1.2.0 --build 42 --resources res --identity "Developer ID Application: Example Inc (ABCDE12345)" --out dist --force',
  ]
  static override enableJsonFlag = true
  static override flags = {
    executable: Flags.string({description: 'the compiled daemon (Mach-O); its file name is CFBundleExecutable and, without --name, names the bundle', required: true}),
    name: Flags.string({description: 'the bundle\'s name (<name>.app) when it differs from the executable\'s, e.g. osquery for osqueryd'}),
    profile: Flags.string({description: 'Developer ID provisioning profile to embed', required: true}),
    'bundle-id': Flags.string({description: 'CFBundleIdentifier; the profile\'s App ID must cover it', required: true}),
    version: Flags.string({description: 'CFBundleShortVersionString, e.g. 1.2.0', required: true}),
    build: Flags.string({description: 'CFBundleVersion (default: --version)'}),
    identity: Flags.string({description: 'codesign identity: certificate name or SHA-1 (default: the profile\'s only certificate)'}),
    resources: Flags.string({description: 'directory copied into Contents/Resources'}),
    entitlement: Flags.string({description: 'restricted entitlement to claim: KEY, or KEY=a,b for a list (repeatable; default Endpoint Security)', multiple: true}),
    'min-macos': Flags.string({description: 'LSMinimumSystemVersion', default: '12.0'}),
    out: Flags.string({description: 'directory that receives <name>.app, <name>.entitlements and, unsigned, sign.sh', required: true}),
    force: Flags.boolean({description: 'replace an existing bundle in --out'}),
    'allow-development-profile': Flags.boolean({description: 'accept a development profile, for a build that runs only on the Macs it lists (a lab); refused otherwise'}),
  }

  async run(): Promise<BundleResult> {
    const {flags} = await this.parse(Bundle)
    try {
      const result = await buildAppBundle({
        executable: flags.executable,
        name: flags.name,
        profile: flags.profile,
        bundleId: flags['bundle-id'],
        version: flags.version,
        build: flags.build,
        identity: flags.identity,
        resources: flags.resources,
        entitlements: flags.entitlement,
        minMacos: flags['min-macos'],
        out: flags.out,
        force: flags.force,
        allowDevelopmentProfile: flags['allow-development-profile'],
      })
      if (!this.jsonEnabled()) this.log(renderBundleText(result))
      return result
    } catch (e) {
      endOnRefusal(this, e)
    }
  }
}
