import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {isFormatError} from '../formats/format-error.js'
import {parseCodeResources} from '../formats/code-resources.js'
import {parsePropertyListDict, type PlistDict} from '../formats/property-list.js'
import {readProvisioningProfile} from '../formats/provisioning-profile.js'
import {walkTree, type TreeEntry} from '../io/bundle-tree.js'
import {looksLikeMachO} from '../io/macho-sniff.js'
import {checkProfileAuthorises, checkProfileItself, profileReport} from './check-profile.js'
import {checkSeal} from './check-seal.js'
import {checkBundleTicket} from './bundle-ticket.js'
import type {NotarizationReport} from './check-notarization.js'
import {finding, type Finding} from './finding.js'
import type {ProfileReport, SliceReport} from './report.js'
import {claimedCapabilities, claimedRestricted} from './restricted-entitlements.js'
import {verifyBinary, type BinaryVerification} from './verify-binary.js'
import type {ResolvedVerifyOptions} from './verify-options.js'

export interface BundleVerification {
  findings: Finding[]
  slices: SliceReport[]
  profile?: ProfileReport
  notarization?: NotarizationReport
}

/**
 * Verifies an app-like bundle as AMFI would judge it at launch: Info.plist, the main executable's
 * signature (binding Info.plist and the seal), the seal itself, nested code — above all any
 * second executable that claims a restricted entitlement — and the embedded provisioning profile.
 */
export async function verifyBundle(bundle: string, opts: ResolvedVerifyOptions): Promise<BundleVerification> {
  const contents = join(bundle, 'Contents')
  const shown = (rel: string) => join(bundle, 'Contents', rel)
  const findings: Finding[] = []

  const info = await readInfoPlist(shown('Info.plist'))
  findings.push(...info.findings)
  const exeName = typeof info.dict?.CFBundleExecutable === 'string' ? info.dict.CFBundleExecutable : undefined
  if (!info.dict || !exeName) return {findings, slices: []}
  if (exeName.includes('/') || exeName === '..' || exeName === '.') {
    findings.push(finding('bundle.bad-executable-name', shown('Info.plist'), `${shown('Info.plist')}: CFBundleExecutable "${exeName}" is not a plain file name`, 'Set CFBundleExecutable to the name of the executable in Contents/MacOS.'))
    return {findings, slices: []}
  }
  const mainRel = `MacOS/${exeName}`

  let tree: TreeEntry[]
  try {
    tree = await walkTree(contents)
  } catch (e) {
    if (!isFormatError(e)) throw e
    findings.push(finding('bundle.unreadable', bundle, e.message, 'Remove the runaway nesting or files from the bundle.'))
    return {findings, slices: []}
  }
  const main = tree.find(e => e.rel === mainRel)
  if (!main || main.kind !== 'file') {
    findings.push(finding('bundle.executable-missing', shown(mainRel), `${shown(mainRel)}: the main executable named by CFBundleExecutable is ${main ? `a ${main.kind}, not a file` : 'missing'}`, `Put the daemon at Contents/${mainRel}, or fix CFBundleExecutable in Info.plist.`))
    return {findings, slices: []}
  }

  const sealPath = shown('_CodeSignature/CodeResources')
  const sealBytes = await readFile(sealPath).catch(() => undefined)
  const exe = await verifyBinary(shown(mainRel), shown(mainRel), {
    infoPlist: {bytes: info.bytes!, path: shown('Info.plist')},
    ...(sealBytes ? {codeResources: {bytes: sealBytes, path: sealPath}} : {}),
  }, opts)
  findings.push(...exe.findings)
  findings.push(...checkIdentifier(shown('Info.plist'), info.dict, exe))

  const nested = new Map<string, BinaryVerification>()
  const verifyNested = async (rel: string) => {
    let v = nested.get(rel)
    if (!v) {
      v = await verifyBinary(shown(rel), shown(rel), {}, opts)
      nested.set(rel, v)
    }
    return v
  }
  if (!sealBytes) {
    findings.push(finding('seal.absent', sealPath, `${sealPath} is missing: the bundle's resources are not sealed`, 'Sign the whole bundle with codesign (not only the executable inside it).'))
  } else {
    try {
      const seal = parseCodeResources(sealBytes, sealPath)
      findings.push(...await checkSeal({contentsDir: contents, display: shown, mainExecutable: mainRel, tree, seal, nestedCdHashes: async rel => (await verifyNested(rel)).slices.flatMap(s => s.cdhashes)}))
    } catch (e) {
      if (!isFormatError(e)) throw e
      findings.push(finding('seal.malformed', sealPath, e.message, 'Sign the bundle again with codesign.'))
    }
  }
  findings.push(...await checkNestedExecutables(tree, mainRel, shown, verifyNested))

  let profile: ProfileReport | undefined
  const profilePath = shown('embedded.provisionprofile')
  const profileBytes = await readFile(profilePath).catch(() => undefined)
  const claimed = mostTelling(exe.slices.map(s => s.report.entitlements))
  if (!profileBytes) {
    if (claimed.length > 0) {
      findings.push(finding('profile.missing', profilePath,
        `${shown(mainRel)} claims ${claimed.join(', ')} but the bundle has no embedded.provisionprofile; nothing authorises those entitlements, so macOS kills the daemon at launch (Killed: 9)`,
        'Download the Developer ID provisioning profile for this App ID, copy it to Contents/embedded.provisionprofile, then sign the bundle again.'))
    }
  } else {
    try {
      const reading = await readProvisioningProfile(profileBytes, {trust: opts.trust, now: opts.now})
      profile = profileReport(profilePath, reading.profile)
      findings.push(...checkProfileItself(profilePath, reading, opts.now))
      findings.push(...checkProfileAuthorises(reading.profile, shown(mainRel), exe.slices))
    } catch (e) {
      if (!isFormatError(e)) throw e
      findings.push(finding('profile.malformed', profilePath, `${profilePath}: not a provisioning profile (${e.message})`, 'Download the profile again from the Apple Developer portal.'))
    }
  }
  const ticket = await checkBundleTicket(contents, shown, mainRel, exe.slices, opts.trust)
  findings.push(...ticket.findings)
  return {findings, slices: exe.slices.map(s => s.report), ...(profile ? {profile} : {}), notarization: ticket.report}
}

async function readInfoPlist(path: string): Promise<{dict?: PlistDict; bytes?: Buffer; findings: Finding[]}> {
  const fix = 'Give the bundle a Contents/Info.plist with CFBundleExecutable, CFBundleIdentifier, CFBundleShortVersionString and CFBundleVersion (esdctl bundle writes one).'
  let bytes: Buffer
  try {
    bytes = await readFile(path)
  } catch {
    return {findings: [finding('bundle.info-plist-missing', path, `${path} is missing; without it macOS cannot tell which executable the bundle runs`, fix)]}
  }
  let dict: PlistDict
  try {
    dict = parsePropertyListDict(bytes, path)
  } catch (e) {
    if (!isFormatError(e)) throw e
    return {bytes, findings: [finding('bundle.info-plist-malformed', path, e.message, fix)]}
  }
  const findings: Finding[] = []
  for (const key of ['CFBundleExecutable', 'CFBundleIdentifier'] as const) {
    if (typeof dict[key] !== 'string' || dict[key] === '') {
      findings.push(finding(`bundle.${key === 'CFBundleExecutable' ? 'executable-key' : 'identifier'}-missing`, path, `${path}: ${key} is missing or not a string`, fix))
    }
  }
  for (const key of ['CFBundleShortVersionString', 'CFBundleVersion'] as const) {
    if (typeof dict[key] !== 'string' || dict[key] === '') {
      findings.push(finding('bundle.version-missing', path, `${path}: ${key} is missing; installers and status reports cannot tell versions apart`, fix))
    }
  }
  return {dict, bytes, findings}
}

function checkIdentifier(infoPath: string, info: PlistDict, exe: BinaryVerification): Finding[] {
  const bundleId = info.CFBundleIdentifier
  const ids = [...new Set(exe.slices.map(s => s.report.identifier).filter(i => i !== undefined))]
  if (typeof bundleId !== 'string' || ids.length === 0 || ids.every(i => i === bundleId)) return []
  return [finding('bundle.identifier-mismatch', infoPath,
    `${infoPath}: CFBundleIdentifier is ${bundleId} but the executable is signed as ${ids.join(', ')}`,
    'Sign the bundle (not the bare executable) so the signing identifier is the bundle identifier.')]
}

/**
 * Anything in Contents/MacOS besides the main executable is nested code. AMFI applies the profile
 * only to the main executable, so a second one claiming a restricted entitlement — even a
 * byte-for-byte copy of the daemon — is killed although codesign calls it validly signed.
 */
async function checkNestedExecutables(tree: TreeEntry[], mainRel: string, shown: (rel: string) => string, verifyNested: (rel: string) => Promise<BinaryVerification>): Promise<Finding[]> {
  const out: Finding[] = []
  for (const e of tree) {
    if (e.kind !== 'file' || !e.rel.startsWith('MacOS/') || e.rel === mainRel) continue
    if (!(await looksLikeMachO(shown(e.rel)))) continue
    const v = await verifyNested(e.rel)
    out.push(...v.findings)
    const claimed = mostTelling(v.slices.map(s => s.report.entitlements))
    if (claimed.length > 0) {
      out.push(finding('bundle.nested-restricted', shown(e.rel),
        `Contents/${e.rel} claims ${claimed.join(', ')} but is not the bundle's main executable; macOS will kill it (Killed: 9) even though it is validly signed, because a provisioning profile covers only the main executable.`,
        `Give ${e.rel.slice(6)} its own bundle, App ID and provisioning profile, or, if it is a copy of the daemon, remove it and point launchd and the bin/ symlink at Contents/${mainRel}.`))
    }
  }
  return out
}

/** The restricted entitlements worth naming: the capabilities (ES above all) when any, else the identity keys. */
function mostTelling(sets: Array<Record<string, unknown>>): string[] {
  const capabilities = [...new Set(sets.flatMap(e => claimedCapabilities(e)))]
  return capabilities.length > 0 ? capabilities : [...new Set(sets.flatMap(e => claimedRestricted(e)))]
}
