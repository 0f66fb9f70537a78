/**
 * The one catalogue of finding ids: every judgement esdctl can make about an artifact or a payload,
 * with its severity, a one-line title (what the man page lists) and the fix to show when the check
 * has nothing more specific to say. `finding()` takes its severity and default fix from here, so an
 * id means the same thing wherever it is raised; the man page's FINDINGS section lists exactly these
 * ids (test/unit/finding-catalogue.test.ts keeps the two equal).
 */
/** How much a finding matters: an error fails verify (exit 3), a warning fails only --warnings-as-errors. */
export type Severity = 'error' | 'warning' | 'info'

export interface FindingDefinition {
  severity: Severity
  /** One line, for the man page and `--json` consumers: what the id means. */
  title: string
  /** The default fix; a check may pass a more specific one. */
  fix?: string
}

const RESIGN = 'Sign the file again with codesign; the signature is damaged.'
const RESEAL = 'Sign the bundle again after the last change to its contents (codesign --force … <name>.app), and ship it unmodified.'
const NEW_PROFILE = 'Download the profile again from the Apple Developer portal; never edit a profile by hand.'
const RESIGN_DEVID = 'Sign again with your Developer ID Application certificate (codesign --force --options runtime --timestamp --sign "Developer ID Application: …").'
const INPUT = 'Point esdctl at <name>.app, a Mach-O executable, a .provisionprofile, a .pkg, a folder, a .zip or a .tar.gz/.tgz.'

type SlotVariant = 'modified' | 'missing' | 'unbound'
type SlotFindingId<S extends string, V extends SlotVariant> = `signature.${S}-${V}`

const SLOT_TITLES: Record<SlotVariant, (name: string) => string> = {
  modified: name => `${name} differs from the hash the CodeDirectory binds`,
  missing: name => `the CodeDirectory binds ${name}, but it is absent`,
  unbound: name => `${name} is present but its special slot is empty`,
}

function slotFamily<S extends string, V extends SlotVariant>(slot: S, name: string, variants: readonly V[]): Record<SlotFindingId<S, V>, FindingDefinition> {
  const fixes: Record<SlotVariant, string> = {modified: RESEAL, missing: RESIGN, unbound: RESIGN}
  return Object.fromEntries(variants.map(v => [`signature.${slot}-${v}`, {severity: 'error', title: SLOT_TITLES[v](name), fix: fixes[v]}])) as Record<SlotFindingId<S, V>, FindingDefinition>
}

export const FINDING_CATALOGUE = {
  'input.unreadable': {severity: 'error', title: 'the path cannot be read', fix: 'Check the path and that you may read it.'},
  'input.empty': {severity: 'error', title: 'the file is empty (0 bytes): a build or download was cut short', fix: 'The build or download that wrote it was cut short: build it again (or download it again), then verify the new file.'},
  'input.unknown-kind': {severity: 'error', title: 'not a kind esdctl verifies (a Mach-O file, bundle, provisioning profile, .pkg, folder, .zip or .tar.gz/.tgz)', fix: INPUT},

  'input.item-unchecked': {severity: 'warning', title: 'a code item in a folder cannot be verified by esdctl yet'},

  'macho.not-macho': {severity: 'error', title: 'the file is not a Mach-O image', fix: 'Point esdctl at the daemon executable, its .app bundle or a .provisionprofile.'},
  'macho.malformed': {severity: 'error', title: 'a slice is not a well-formed Mach-O image', fix: 'The file is damaged or not a macOS executable; rebuild it.'},

  'signature.missing': {severity: 'error', title: 'a slice is not signed', fix: RESIGN_DEVID},
  'signature.malformed': {severity: 'error', title: 'the code signature cannot be read', fix: RESIGN},
  'signature.code-limit': {severity: 'error', title: 'the CodeDirectory does not cover exactly the bytes before the signature', fix: RESIGN},
  'signature.code-modified': {severity: 'error', title: 'code pages differ from their signed hashes', fix: RESIGN},
  // Info.plist and CodeResources are files beside the executable, not blobs in its signature: a
  // bundle without them is bundle.info-plist-missing or seal.absent, so they have no "-missing".
  ...slotFamily('info-plist', 'Info.plist', ['modified', 'unbound']),
  ...slotFamily('requirements', 'the requirements blob', ['modified', 'missing', 'unbound']),
  ...slotFamily('code-resources', 'the resource seal (CodeResources)', ['modified', 'unbound']),
  ...slotFamily('entitlements', 'the entitlements blob', ['modified', 'missing', 'unbound']),
  ...slotFamily('der-entitlements', 'the DER entitlements blob', ['modified', 'missing', 'unbound']),
  'signature.hardened-runtime-missing': {severity: 'warning', title: 'a Developer ID build without the hardened runtime, which notarization has required since February 2020', fix: 'Sign with --options runtime.'},

  'cms.malformed': {severity: 'error', title: 'the CMS signature cannot be decoded', fix: RESIGN_DEVID},
  'cms.missing': {severity: 'error', title: 'a signature that is not ad-hoc carries no CMS signature', fix: 'Sign the file again with codesign.'},
  'cms.signature-invalid': {severity: 'error', title: 'the CMS signature does not verify over the CodeDirectory', fix: RESIGN_DEVID},
  'cms.untrusted': {severity: 'error', title: 'the signing chain does not reach a pinned Apple root', fix: RESIGN_DEVID},
  'cms.certificate-expired': {severity: 'error', title: 'the certificate expired and no valid secure timestamp vouches for the signing time', fix: RESIGN_DEVID},
  'cms.timestamp-invalid': {severity: 'warning', title: 'the secure timestamp does not verify', fix: RESIGN_DEVID},
  'cms.cdhashes-missing': {severity: 'error', title: "Apple's signed cdhash lists are absent", fix: RESIGN_DEVID},
  'cms.cdhashes-mismatch': {severity: 'error', title: "Apple's signed cdhash lists do not cover every CodeDirectory", fix: RESIGN_DEVID},
  'cms.team-mismatch': {severity: 'error', title: "the signing certificate's team differs from the CodeDirectory's", fix: RESIGN_DEVID},

  'binary.trailing-data': {severity: 'error', title: 'bytes after the signature of a slice, or after the last slice, that no signature covers', fix: 'Re-sign the original build output and keep extra data in a separate file.'},
  'binary.slices-disagree': {severity: 'warning', title: 'the slices of a universal file are signed differently in a way macOS acts on'},

  'entitlements.restricted-in-bare-binary': {severity: 'error', title: 'a bare executable claims a restricted entitlement; only a bundle can carry the profile that authorises it'},
  'entitlements.verify-the-bundle': {severity: 'info', title: 'an executable inside a bundle was given: verify the bundle'},
  'entitlements.restricted-adhoc': {severity: 'error', title: 'an ad-hoc signature claims a restricted entitlement', fix: RESIGN_DEVID},
  'entitlements.der-mismatch': {severity: 'error', title: 'the XML and DER entitlements differ', fix: RESIGN},
  'entitlements.get-task-allow': {severity: 'warning', title: 'get-task-allow in a Developer ID build', fix: 'Remove com.apple.security.get-task-allow from the shipping entitlements.'},

  'bundle.info-plist-missing': {severity: 'error', title: 'Contents/Info.plist is missing'},
  'bundle.info-plist-malformed': {severity: 'error', title: 'Contents/Info.plist is not a property list'},
  'bundle.executable-key-missing': {severity: 'error', title: 'Info.plist has no CFBundleExecutable'},
  'bundle.identifier-missing': {severity: 'error', title: 'Info.plist has no CFBundleIdentifier'},
  'bundle.version-missing': {severity: 'warning', title: 'Info.plist has no version'},
  'bundle.bad-executable-name': {severity: 'error', title: 'CFBundleExecutable is not a plain file name', fix: 'Set CFBundleExecutable to the name of the executable in Contents/MacOS.'},
  'bundle.executable-missing': {severity: 'error', title: 'the main executable named by CFBundleExecutable is missing'},
  'bundle.unreadable': {severity: 'error', title: 'the bundle cannot be walked (runaway nesting, too many files)', fix: 'Remove the runaway nesting or files from the bundle.'},
  'bundle.identifier-mismatch': {severity: 'warning', title: "CFBundleIdentifier differs from the signature's identifier"},
  'bundle.nested-restricted': {severity: 'error', title: 'another executable beside the main one (in Contents/MacOS, or at the top of a shallow bundle) claims a restricted entitlement; macOS kills it although it is signed'},

  'seal.absent': {severity: 'error', title: 'the bundle has no resource seal', fix: 'Sign the whole bundle with codesign (not only the executable inside it).'},
  'seal.malformed': {severity: 'error', title: 'the resource seal cannot be read', fix: 'Sign the bundle again with codesign.'},
  'seal.modified': {severity: 'error', title: 'a sealed file changed after signing', fix: RESEAL},
  'seal.added': {severity: 'error', title: 'a file was added to the bundle after signing', fix: RESEAL},
  'seal.missing': {severity: 'error', title: 'a sealed file is missing', fix: RESEAL},
  'seal.nested-modified': {severity: 'error', title: "nested code's cdhash differs from the one sealed", fix: RESEAL},
  'seal.nested-bundle-unchecked': {severity: 'warning', title: 'nested code sealed as a directory that is not a recognisable bundle, or nested too deep, is not verified in depth'},
  'seal.nested-requirement-unmet': {severity: 'error', title: 'nested code does not satisfy the requirement its parent sealed for it', fix: RESEAL},
  'seal.plain-file-in-nested-location': {severity: 'error', title: 'a plain file is sealed by hash where the seal expects nested code; strict validation refuses the bundle', fix: 'Move the file to Contents/Resources (data, scripts and configuration belong there), then sign the bundle again.'},
  'seal.nested-code-in-xattrs': {severity: 'warning', title: 'non-Mach-O nested code is signed in extended attributes, which git, zip and tar drop'},

  'profile.missing': {severity: 'error', title: 'restricted entitlements are claimed but the bundle has no embedded.provisionprofile'},
  'profile.malformed': {severity: 'error', title: 'the provisioning profile cannot be read', fix: NEW_PROFILE},
  'profile.signature-invalid': {severity: 'error', title: "Apple's signature over the profile does not verify", fix: NEW_PROFILE},
  'profile.untrusted': {severity: 'error', title: 'the profile is not signed by Apple', fix: 'Use a profile downloaded from the Apple Developer portal.'},
  'profile.der-signature-invalid': {severity: 'error', title: 'the DER-Encoded-Profile does not verify against Apple Root CA - G3', fix: NEW_PROFILE},
  'profile.der-mismatch': {severity: 'error', title: 'the DER-Encoded-Profile disagrees with the plist', fix: NEW_PROFILE},
  'profile.expired': {severity: 'error', title: 'the profile expired; macOS kills the daemon at launch', fix: NEW_PROFILE},
  'profile.expires-soon': {severity: 'warning', title: 'the profile expires within 30 days', fix: NEW_PROFILE},
  'profile.platform': {severity: 'error', title: 'the profile is not for macOS', fix: 'Create a macOS profile (Developer ID, platform macOS) for this App ID.'},
  'profile.kind': {severity: 'error', title: 'a kind of profile that cannot authorise software installed outside the Mac App Store', fix: 'Use a Developer ID provisioning profile.'},
  'profile.development': {severity: 'warning', title: 'a development profile: the daemon runs only on the Macs it lists', fix: 'For shipping, use a Developer ID provisioning profile (it provisions all devices).'},
  'profile.app-id-missing': {severity: 'error', title: 'the entitlements lack com.apple.application-identifier'},
  'profile.app-id-mismatch': {severity: 'error', title: "the application identifier is not covered by the profile's"},
  'profile.team-mismatch': {severity: 'error', title: 'the team ids of profile, CodeDirectory, certificate and entitlements disagree'},
  'profile.entitlement-not-allowed': {severity: 'error', title: 'a claimed entitlement is not allowed by the profile'},
  'profile.certificate-not-listed': {severity: 'error', title: "the signing certificate is not among the profile's DeveloperCertificates"},

  'notarization.malformed': {severity: 'warning', title: 'the stapled notarization ticket cannot be read; macOS ignores it and asks Apple online'},
  'notarization.signature-invalid': {severity: 'error', title: "the notarization ticket's signature does not verify: it was altered after Apple issued it"},
  'notarization.untrusted': {severity: 'error', title: "the notarization ticket is not signed by Apple's ticket-signing certificate under Apple Root CA - G3"},
  'notarization.not-covered': {severity: 'warning', title: 'the stapled ticket does not list the signed code: it belongs to another build'},

  'package.malformed': {severity: 'error', title: 'the installer package (xar) cannot be read: header, table of contents or a member is damaged', fix: 'The package is damaged (a truncated download or a changed byte): download or build it again (productbuild/pkgbuild) and check it with pkgutil --check-signature.'},
  'package.toc-checksum-mismatch': {severity: 'error', title: 'the table of contents does not match its checksum: the package was altered'},
  'package.checksum-mismatch': {severity: 'error', title: "a member's archived or extracted checksum differs from the table of contents"},
  'package.unsigned': {severity: 'error', title: 'the package is not signed; Gatekeeper refuses it'},
  'package.signature-invalid': {severity: 'error', title: "the package's RSA or CMS signature does not verify over the TOC checksum"},
  'package.untrusted': {severity: 'error', title: "the package's signing chain does not reach a pinned Apple root"},
  'package.certificate-expired': {severity: 'error', title: "the package's certificate expired and no valid secure timestamp vouches for the signing time"},
  'package.signatures-disagree': {severity: 'error', title: 'the RSA and CMS signatures name different signers'},
  'package.timestamp-invalid': {severity: 'warning', title: "the package CMS signature's secure timestamp does not verify; its signatures are judged at the current time"},
  'package.signer-kind': {severity: 'error', title: 'the package is not signed with a Developer ID Installer certificate'},
  'package.payload-unreadable': {severity: 'error', title: 'a Payload or Scripts archive cannot be decoded (not gzip/pbzx cpio, truncated, unsafe path)', fix: 'Build the package again with pkgbuild from a plain folder (no paths leaving it), and ship it unmodified.'},
  'package.too-large': {severity: 'error', title: "a member or payload inflates past esdctl's bound: treat it as hostile"},
  'package.item-unchecked': {severity: 'warning', title: 'code inside the payload could not be checked'},

  'archive.malformed': {severity: 'error', title: 'the .zip or tarball cannot be read: a header, the directory or a member is damaged, or a member name leaves the archive', fix: 'The archive is damaged (a truncated download or a changed byte): download or build it again (ditto -c -k --keepParent <name>.app <name>.zip).'},
  'archive.too-large': {severity: 'error', title: "the archive claims or inflates past esdctl's bound (members, sizes, total): treat it as hostile"},
  'archive.item-unchecked': {severity: 'warning', title: 'code inside the archive could not be checked'},
  'archive.apple-double': {severity: 'info', title: 'AppleDouble files under __MACOSX/ carry extended attributes; they are not code and are not checked'},

  'install.info-plist': {severity: 'error', title: "the payload bundle's Info.plist cannot be read"},
  'install.etc-not-a-file': {severity: 'error', title: "the payload's etc/ holds something other than files and directories"},
  'install.no-bundle': {severity: 'error', title: 'the payload has no bundle where the manifest says'},
  'install.no-code': {severity: 'error', title: 'the verifier found no signed code to install'},
  'install.team-mismatch': {severity: 'error', title: "the bundle is signed for a team other than the manifest's teamId"},
  'install.team-unvouched': {severity: 'error', title: "the bundle is ad-hoc signed: no certificate vouches for the team, so the manifest's teamId cannot be checked"},
  'install.identifier-mismatch': {severity: 'error', title: "the bundle is signed with an identifier other than the manifest's bundleId"},
  'install.info-bundle-id': {severity: 'error', title: "Info.plist's CFBundleIdentifier differs from the manifest's bundleId"},
  'install.info-executable': {severity: 'error', title: "Info.plist's CFBundleExecutable differs from what the manifest expects"},
  'install.no-version': {severity: 'error', title: 'Info.plist has no usable CFBundleShortVersionString'},
  'install.link-target': {severity: 'error', title: 'a link the manifest asks for does not point at a regular file inside the bundle'},
  'install.codesign-rejected': {severity: 'error', title: 'codesign --verify --strict rejected the bundle', fix: 'Re-sign the bundle; macOS would refuse to run it.'},
  'rollback.legacy-changed': {severity: 'error', title: 'a legacy file in the rollback slot is not what the adoption recorded', fix: 'Do not roll back to it: find out who changed it. To run the legacy daemon again, reinstall it with its vendor\'s installer after esdctl uninstall.'},
  'rollback.legacy-not-recorded': {severity: 'error', title: 'the receipt records no files of the adopted legacy install', fix: 'Nothing shows the kept legacy files are the adopted ones, so esdctl will not start them. To run the legacy daemon again, reinstall it with its vendor\'s installer after esdctl uninstall.'},
  'rollback.slot-not-recorded': {severity: 'error', title: "the rollback slot's bundle is not the code its receipt recorded", fix: 'Do not roll back to it: reinstall the version you want with esdctl install --allow-downgrade <payload>, which verifies the payload.'},
} as const satisfies Record<string, FindingDefinition>

export type FindingId = keyof typeof FINDING_CATALOGUE

export function isFindingId(id: string): id is FindingId {
  return Object.hasOwn(FINDING_CATALOGUE, id)
}
