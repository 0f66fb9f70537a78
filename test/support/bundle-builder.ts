import {createHash} from 'node:crypto'
import {existsSync} from 'node:fs'
import {lstat, mkdir, readdir, readFile, readlink, symlink, writeFile} from 'node:fs/promises'
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
  /**
   * Nested bundles under Contents/, each signed for real with its own seal (nested ones first) and
   * sealed in this one by cdhash and requirement, e.g. 'Frameworks/Kit.framework'. The shape follows
   * the extension: .framework versioned (Versions/A), .dext shallow, anything else deep (Contents/).
   */
  nestedBundles?: Array<string | NestedBundleSpec>
  /**
   * Non-Mach-O nested code (scripts) under Contents/, sealed by a cdhash as codesign seals code
   * signed in extended attributes; the attributes themselves are not written (git, zip and tar drop them).
   */
  xattrSignedFiles?: Record<string, Buffer>
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

export interface NestedBundleSpec {
  /** Under the parent's content directory, e.g. 'Frameworks/Kit.framework', 'Library/SystemExtensions/x.dext'. */
  path: string
  /** Executable name; default the bundle's base name. */
  name?: string
  /** Default `<parent bundleId>.<base name>`. */
  bundleId?: string
  /** Default none. */
  entitlements?: PlistDict
  /** Default none. */
  profile?: Buffer
  extraFiles?: Record<string, Buffer>
  nestedBundles?: Array<string | NestedBundleSpec>
  /** The requirement the parent seals for it; default the Developer ID designated requirement of its identifier. */
  requirement?: string
}

export type BundleShapeKind = 'deep' | 'framework' | 'shallow'

/** The shape codesign expects from a bundle's extension. */
export function shapeForPath(path: string): BundleShapeKind {
  if (path.endsWith('.framework')) return 'framework'
  if (path.endsWith('.dext')) return 'shallow'
  return 'deep'
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
  await buildBundleAt(app, 'deep', spec)
  return app
}

/** Where the parts of a bundle of each shape go, relative to the bundle directory. */
function layoutOf(shape: BundleShapeKind): {content: string; info: string; exeDir: string} {
  if (shape === 'deep') return {content: 'Contents', info: 'Info.plist', exeDir: 'MacOS/'}
  if (shape === 'framework') return {content: 'Versions/A', info: 'Resources/Info.plist', exeDir: ''}
  return {content: '', info: 'Info.plist', exeDir: ''}
}

/** Builds and signs a bundle of `shape` at `root`; returns the cdhash its parent's seal records and its identifier. */
export async function buildBundleAt(root: string, shape: BundleShapeKind, spec: BundleSpec): Promise<{cdhash: Buffer; identifier: string}> {
  const layout = layoutOf(shape)
  const contents = join(root, layout.content)
  const signedAt = spec.signedAt ?? new Date()
  const identity = spec.identity ?? (await (await createTestPki()).developerId(spec.teamId))
  const entitlements = spec.entitlements ?? defaultBundleEntitlements(spec.teamId, spec.bundleId)
  const hasEntitlements = Object.keys(entitlements).length > 0
  const cms = (codeDirectories: Buffer[]): Promise<Buffer> =>
    signCodeDirectories({codeDirectories, identity, signingTime: signedAt, ...(spec.timestamp ? {timestamp: {time: signedAt}} : {})})
  const baseSign: SignOptions = {
    identifier: spec.bundleId,
    teamId: spec.teamId,
    flags: spec.hardenedRuntime === false ? 0 : FLAG.runtime,
    ...(hasEntitlements ? {entitlements, derEntitlements: true} : {}),
    cms,
  }

  const infoPlist = infoPlistFor(spec)
  await put(join(contents, layout.info), infoPlist)
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
    const path = `${layout.exeDir}${safeRelative(extra.name)}`
    await put(join(contents, path), bytes, 0o755)
    nested.set(path, {cdhash, requirement: developerIdRequirement(identifier, spec.teamId)})
  }

  for (const given of spec.nestedBundles ?? []) {
    const n: NestedBundleSpec = typeof given === 'string' ? {path: given} : given
    const path = safeRelative(n.path)
    const base = posix.basename(path).replace(/\.[^.]+$/, '')
    const child: BundleSpec = {
      dir: '',
      name: n.name ?? base,
      bundleId: n.bundleId ?? `${spec.bundleId}.${base}`,
      teamId: spec.teamId,
      version: spec.version ?? '1.0.0',
      identity,
      entitlements: n.entitlements ?? {},
      profile: n.profile ?? 'none',
      ...(n.extraFiles ? {extraFiles: n.extraFiles} : {}),
      ...(n.nestedBundles ? {nestedBundles: n.nestedBundles} : {}),
      codeSize: 16 * 1024,
      ...(spec.arch ? {arch: spec.arch} : {}),
      signedAt,
    }
    const built = await buildBundleAt(join(contents, path), shapeForPath(path), child)
    nested.set(path, {cdhash: built.cdhash, requirement: n.requirement ?? developerIdRequirement(built.identifier, spec.teamId)})
  }

  for (const [given, bytes] of Object.entries(spec.xattrSignedFiles ?? {})) {
    const path = safeRelative(given)
    await put(join(contents, path), bytes, 0o755)
    // What codesign records for a script signed in extended attributes: the cdhash of its detached CodeDirectory.
    nested.set(path, {cdhash: createHash('sha256').update(bytes).digest().subarray(0, 20), requirement: developerIdRequirement(posix.basename(path), spec.teamId)})
  }

  const mainPath = `${layout.exeDir}${spec.executableName ?? spec.name}`
  const sealed = await collectSealed(contents, new Set([mainPath, layout.info, '_CodeSignature']), nested)
  const codeResources = buildCodeResources(sealed)
  await put(join(contents, '_CodeSignature', 'CodeResources'), codeResources)

  const main = await signedExecutable(spec, {...baseSign, infoPlist, codeResources, ...spec.signOverrides})
  await put(join(contents, mainPath), main.bytes, 0o755)
  if (shape === 'framework') {
    // The framework's top level: Versions/Current and links to the current version's parts.
    await symlink('A', join(root, 'Versions', 'Current'))
    await symlink(`Versions/Current/${spec.name}`, join(root, spec.name))
    await symlink('Versions/Current/Resources', join(root, 'Resources'))
  }
  return {cdhash: main.cdhash, identifier: spec.signOverrides?.identifier ?? spec.bundleId}
}
