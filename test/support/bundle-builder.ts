import {existsSync} from 'node:fs'
import {lstat, mkdir, readdir, readFile, readlink, writeFile} from 'node:fs/promises'
import {dirname, join, posix} from 'node:path'
import * as plist from 'plist'
import type {PlistDict} from '../../src/formats/property-list.js'
import {buildCodeResources, type SealedFile} from './code-resources-writer.js'
import {buildSignedMachOSlice, buildUniversal, type MachOArch} from './macho-writer.js'
import {buildProfilePlist} from './profile-builder.js'
import {cdhashOf, FLAG, type SignOptions} from './signature-writer.js'
import {createTestPki, signCodeDirectories, signProfile, type TestIdentity} from './test-pki.js'

/**
 * Builds the app-like bundle an Endpoint Security daemon must live in, signed the way codesign
 * signs one: nested code and resources first, then CodeResources over them, then the main
 * executable binding Info.plist (slot −1) and CodeResources (slot −3).
 */

export interface BundleSpec {
  dir: string
  /** The bundle's name: `<name>.app`. */
  name: string
  /** CFBundleExecutable when it differs from the bundle's name (osquery.app runs osqueryd). */
  executableName?: string
  bundleId: string
  teamId: string
  version?: string
  /** Default: a Developer ID leaf for teamId from createTestPki(). */
  identity?: TestIdentity
  /** Default: application-identifier TEAM.bundleId, team-identifier, endpoint-security.client true. */
  entitlements?: PlistDict
  /** Default: a Developer ID profile authorising exactly those entitlements, signed by signProfile. */
  profile?: Buffer | 'none'
  /** Under Contents/ (sealed), e.g. 'Resources/x.conf'. */
  extraFiles?: Record<string, Buffer>
  /** Directories under Contents/ sealed as nested bundles (one cdhash entry, like a framework), e.g. 'Frameworks/Kit.framework'. */
  nestedBundles?: string[]
  /**
   * More signed executables in Contents/MacOS, sealed as nested code. `identical` gives one the main
   * executable's code, identifier and entitlements (what copying the daemon into MacOS/ amounts to
   * once signed); it cannot also share the bundle bindings, which would make the seal circular.
   */
  extraExecutables?: {name: string; entitlements?: PlistDict; identical?: boolean}[]
  /** 'arm64' | 'x86_64' | 'arm64e' | 'i386'; default ['arm64']; more than one → a universal file, every slice signed. */
  arch?: string[]
  /** Default 64 KiB. */
  codeSize?: number
  /** Default true. */
  hardenedRuntime?: boolean
  /** Add an RFC 3161 timestamp from the test TSA at `signedAt`. */
  timestamp?: boolean
  /** Signing time, timestamp time and the default profile's creation date. Default: now. */
  signedAt?: Date
  /** Applied last to the main executable's signing options, to build mismatches (team, identifier, flags…). */
  signOverrides?: Partial<SignOptions>
}

const DAY_MS = 86_400_000
/** Developer ID profiles live 6570 days, as real ones do. */
const DEVELOPER_ID_PROFILE_DAYS = 6570
const DEFAULT_CODE_SIZE = 64 * 1024

export function defaultBundleEntitlements(teamId: string, bundleId: string): PlistDict {
  return {
    'com.apple.application-identifier': `${teamId}.${bundleId}`,
    'com.apple.developer.team-identifier': teamId,
    'com.apple.developer.endpoint-security.client': true,
  }
}

/** The designated requirement codesign derives for Developer ID signed code, as the seal records it. */
export function developerIdRequirement(identifier: string, teamId: string): string {
  return (
    `identifier "${identifier}" and anchor apple generic and certificate 1[field.1.2.840.113635.100.6.2.6] /* exists */ ` +
    `and certificate leaf[field.1.2.840.113635.100.6.1.13] /* exists */ and certificate leaf[subject.OU] = ${teamId}`
  )
}

function infoPlistFor(spec: BundleSpec): Buffer {
  const version = spec.version ?? '1.0.0'
  return Buffer.from(
    plist.build({
      CFBundleDevelopmentRegion: 'en',
      CFBundleExecutable: spec.executableName ?? spec.name,
      CFBundleIdentifier: spec.bundleId,
      CFBundleInfoDictionaryVersion: '6.0',
      CFBundleName: spec.name,
      CFBundlePackageType: 'APPL',
      CFBundleShortVersionString: version,
      CFBundleVersion: version,
      LSMinimumSystemVersion: '11.0',
    }),
    'utf8',
  )
}

/** Signs one executable for every architecture; returns the file and the cdhash the seal records. */
async function signedExecutable(spec: BundleSpec, sign: SignOptions): Promise<{bytes: Buffer; cdhash: Buffer}> {
  const arches = spec.arch ?? ['arm64']
  if (arches.length === 0) throw new Error('a bundle executable needs at least one architecture')
  const slices = []
  // An unknown name is refused by the Mach-O writer's architecture table.
  for (const arch of arches) slices.push({arch, ...(await buildSignedMachOSlice({arch: arch as MachOArch, codeSize: spec.codeSize ?? DEFAULT_CODE_SIZE}, sign))})
  // The seal names the code by its strongest CodeDirectory (the last hash type) of the first slice.
  const first = slices[0]!
  const cdhash = cdhashOf(first.codeDirectories[first.codeDirectories.length - 1]!)
  const bytes = slices.length === 1 ? first.bytes : buildUniversal(slices)
  return {bytes, cdhash}
}

function safeRelative(path: string): string {
  const normal = posix.normalize(path)
  if (posix.isAbsolute(normal) || normal.startsWith('..') || normal === '.') throw new Error(`${path} is not a path inside Contents/`)
  return normal
}

/** Everything under Contents/ except what codesign leaves out of the seal. */
async function collectSealed(contents: string, skip: Set<string>, nested: Map<string, SealedFile['nested']>): Promise<SealedFile[]> {
  const sealed: SealedFile[] = []
  const walk = async (rel: string): Promise<void> => {
    for (const entry of (await readdir(join(contents, rel))).sort()) {
      const path = rel ? `${rel}/${entry}` : entry
      if (skip.has(path)) continue
      const full = join(contents, path)
      const info = await lstat(full)
      if (info.isDirectory() && nested.has(path)) sealed.push({path, nested: nested.get(path)!})
      else if (info.isDirectory()) await walk(path)
      else if (info.isSymbolicLink()) sealed.push({path, symlinkTarget: await readlink(full)})
      else if (nested.has(path)) sealed.push({path, nested: nested.get(path)!})
      else sealed.push({path, bytes: await readFile(full)})
    }
  }
  await walk('')
  return sealed
}

async function put(path: string, bytes: Buffer, mode = 0o644): Promise<void> {
  await mkdir(dirname(path), {recursive: true})
  await writeFile(path, bytes, {mode})
}

/** Writes <dir>/<name>.app/Contents/{Info.plist, MacOS/<name>, embedded.provisionprofile, _CodeSignature/CodeResources}
 *  with the signature binding Info.plist (slot 1) and CodeResources (slot 3) the way codesign does; returns the .app path. */
export async function buildBundle(spec: BundleSpec): Promise<string> {
  const app = join(spec.dir, `${spec.name}.app`)
  if (existsSync(app)) throw new Error(`${app} already exists; build each bundle into a fresh place`)
  const contents = join(app, 'Contents')
  const signedAt = spec.signedAt ?? new Date()
  const identity = spec.identity ?? (await (await createTestPki()).developerId(spec.teamId))
  const entitlements = spec.entitlements ?? defaultBundleEntitlements(spec.teamId, spec.bundleId)
  const cms = (codeDirectories: Buffer[]): Promise<Buffer> =>
    signCodeDirectories({codeDirectories, identity, signingTime: signedAt, ...(spec.timestamp ? {timestamp: {time: signedAt}} : {})})
  const baseSign: SignOptions = {
    identifier: spec.bundleId,
    teamId: spec.teamId,
    flags: spec.hardenedRuntime === false ? 0 : FLAG.runtime,
    entitlements,
    derEntitlements: true,
    cms,
  }

  const infoPlist = infoPlistFor(spec)
  await put(join(contents, 'Info.plist'), infoPlist)
  for (const [path, bytes] of Object.entries(spec.extraFiles ?? {})) await put(join(contents, safeRelative(path)), bytes)

  if (spec.profile !== 'none') {
    let profile = spec.profile
    if (!profile) {
      const created = new Date(signedAt.getTime() - DAY_MS)
      const xml = buildProfilePlist({
        teamId: spec.teamId,
        appId: `${spec.teamId}.${spec.bundleId}`,
        entitlements,
        kind: 'developer-id',
        created,
        expires: new Date(created.getTime() + DEVELOPER_ID_PROFILE_DAYS * DAY_MS),
        developerCertificates: [identity.certDer],
      })
      profile = await signProfile(xml, undefined, {signingTime: created})
    }
    await put(join(contents, 'embedded.provisionprofile'), profile)
  }

  const nested = new Map<string, SealedFile['nested']>()
  for (const extra of spec.extraExecutables ?? []) {
    if (extra.name === (spec.executableName ?? spec.name)) throw new Error(`${extra.name} is the main executable`)
    const identifier = extra.identical ? spec.bundleId : extra.name
    const sign: SignOptions = extra.identical
      ? baseSign
      : {...baseSign, identifier, entitlements: extra.entitlements, derEntitlements: extra.entitlements !== undefined}
    const {bytes, cdhash} = await signedExecutable(spec, sign)
    const path = `MacOS/${safeRelative(extra.name)}`
    await put(join(contents, path), bytes, 0o755)
    nested.set(path, {cdhash, requirement: developerIdRequirement(identifier, spec.teamId)})
  }

  for (const dir of spec.nestedBundles ?? []) {
    const path = safeRelative(dir)
    await put(join(contents, path, 'Resources', 'Info.plist'), Buffer.from('<plist version="1.0"><dict/></plist>\n'))
    nested.set(path, {cdhash: Buffer.alloc(20, 0xab), requirement: developerIdRequirement(path, spec.teamId)})
  }

  const mainPath = `MacOS/${spec.executableName ?? spec.name}`
  const sealed = await collectSealed(contents, new Set([mainPath, 'Info.plist', '_CodeSignature']), nested)
  const codeResources = buildCodeResources(sealed)
  await put(join(contents, '_CodeSignature', 'CodeResources'), codeResources)

  const main = await signedExecutable(spec, {...baseSign, infoPlist, codeResources, ...spec.signOverrides})
  await put(join(contents, mainPath), main.bytes, 0o755)
  return app
}
