import {cpSync, existsSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import * as plist from 'plist'
import {isFormatError} from '../src/formats/format-error.js'
import {parsePropertyList} from '../src/formats/property-list.js'
import {loadManifest} from '../src/manifest/load-manifest.js'
import {verifyPath} from '../src/verify/verify-path.js'
import {buildSignedMachO, buildUniversal} from '../test/support/macho-writer.js'
import {hostileXmlPlist, mutateBinaryPlist, mutateBytes, mutateJson} from './mutate.js'
import type {Rng} from './rng.js'

/** dist/fuzz/ → the repository root; the shared fixtures sit beside it. */
const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..')
const FIXTURES = resolve(REPO_ROOT, '..', 'shared', 'fixtures')

/** What esdctl would turn into exit 1 ("internal error"): the target's code threw where it must not. */
export class UnexpectedOutcome extends Error {}

export interface Target {
  name: string
  /** Relative share of the cases. */
  weight: number
  run(rng: Rng): Promise<void>
}

/** Offsets worth hitting: the Mach-O header and load commands, and every blob of the embedded signature. */
function machoHotOffsets(bytes: Buffer): number[] {
  const hot = [0, 4, 8, 16, 20, 32, 48, 64, 72]
  for (let i = 0; i + 4 <= bytes.length; i += 4) {
    const word = bytes.readUInt32BE(i)
    if (word >>> 16 === 0xfade || word === 0xcafebabe || word === 0xfeedfacf || word === 0xcffaedfe) hot.push(i, i + 4, i + 8, i + 12, i + 16, i + 20, i + 24, i + 36, i + 40)
  }
  return hot
}

function mustNotThrow(what: string, e: unknown): never {
  throw new UnexpectedOutcome(`${what} threw ${(e as Error)?.stack ?? String(e)}`)
}

const ES_ENTITLEMENTS = {'com.apple.developer.endpoint-security.client': true, 'com.apple.application-identifier': 'ABCDE12345.com.example.fuzz', 'com.apple.developer.team-identifier': 'ABCDE12345'}

/**
 * The fuzz targets: esdctl verify on Mach-O files (thin, universal, linker-signed), real
 * provisioning profiles and a real signed bundle; manifests (JSON); property lists (XML and
 * binary). `dir` is the worker's private scratch directory.
 */
export async function makeTargets(dir: string): Promise<{targets: Target[]; notes: string[]}> {
  const notes: string[] = []
  const thin = await buildSignedMachO({arch: 'arm64', codeSize: 8192, fill: (i, p) => p.fill(i + 1)}, {identifier: 'com.example.fuzz', entitlements: ES_ENTITLEMENTS, derEntitlements: true, pageSize: 4096})
  const x86 = await buildSignedMachO({arch: 'x86_64', codeSize: 6000}, {identifier: 'com.example.fuzz', hashTypes: [1, 2], pageSize: 4096})
  const linker = await buildSignedMachO({arch: 'arm64', codeSize: 5000}, {identifier: 'fuzz-linker', linkerStyle: true, pageSize: 4096})
  const machos = [thin, buildUniversal([{arch: 'x86_64', bytes: x86}, {arch: 'arm64', bytes: thin}]), buildUniversal([{arch: 'arm64', bytes: linker}], 'cafebabf'), linker].map((bytes) => ({bytes, hot: machoHotOffsets(bytes)}))
  const machoPath = join(dir, 'case-binary')

  const profileDir = join(FIXTURES, 'real-profiles')
  const profiles = existsSync(profileDir) ? readdirSync(profileDir).filter((f) => f.endsWith('.provisionprofile')).sort().map((f) => readFileSync(join(profileDir, f))) : []
  if (profiles.length === 0) notes.push(`no real profiles at ${profileDir}: the profile target is skipped`)
  const profilePath = join(dir, 'case.provisionprofile')

  const realBundle = join(FIXTURES, 'real-bundles', 'Opera Beta Installer.app')
  const bundle = join(dir, 'Real.app')
  const bundleFiles: {path: string; bytes: Buffer; hot: number[]}[] = []
  if (existsSync(realBundle)) {
    cpSync(realBundle, bundle, {recursive: true, verbatimSymlinks: true})
    for (const rel of ['Contents/Info.plist', 'Contents/_CodeSignature/CodeResources', 'Contents/CodeResources', 'Contents/MacOS/Opera Beta Installer']) {
      const path = join(bundle, rel)
      if (!existsSync(path)) continue
      const bytes = readFileSync(path)
      bundleFiles.push({path, bytes, hot: rel.includes('MacOS') ? machoHotOffsets(bytes) : []})
    }
  } else notes.push(`no real bundle at ${realBundle}: the bundle target is skipped`)

  const manifestSeed = {
    name: 'thed', label: 'com.example.thed', bundleId: 'com.example.thed', teamId: 'ABCDE12345',
    programArguments: ['{executable}', '--config', '{etc}/thed.conf'], environment: {LOG: '{var}/log'}, RunAtLoad: true, KeepAlive: {SuccessfulExit: false},
    ThrottleInterval: 10, ExitTimeOut: 20, StandardErrorPath: '{var}/thed.err', healthCheck: {runningSeconds: 5, command: ['{bin}', 'ping']},
  }
  const manifestText = Buffer.from(JSON.stringify(manifestSeed, null, 2))
  const manifestPath = join(dir, 'esdctl.json')

  const xmlSeeds = [plist.build({...ES_ENTITLEMENTS, 'com.apple.security.get-task-allow': false, list: ['a', 1, 2.5, new Date(0)]}) as string]
  if (bundleFiles[0]) xmlSeeds.push(bundleFiles[0].bytes.toString('utf8'))
  const binarySeed = Buffer.from(plist.buildBinary({a: [1, 2, {b: 'c', d: Buffer.from('xyz'), e: new Date(0), f: 1.5, g: true}], h: 'x'.repeat(40), i: -7, j: 2 ** 40}))

  const targets: Target[] = [
    {
      name: 'verify:macho',
      weight: 30,
      run: async (rng) => {
        const seed = rng.pick(machos)
        writeFileSync(machoPath, mutateBytes(rng, seed.bytes, seed.hot))
        await verifyPath(machoPath).catch((e) => mustNotThrow('verifyPath(Mach-O)', e))
      },
    },
    {
      name: 'verify:profile',
      weight: profiles.length ? 10 : 0,
      run: async (rng) => {
        writeFileSync(profilePath, mutateBytes(rng, rng.pick(profiles), [0, 2, 4, 8, 12, 16, 20, 30, 40, 50]))
        await verifyPath(profilePath).catch((e) => mustNotThrow('verifyPath(profile)', e))
      },
    },
    {
      name: 'verify:bundle',
      // A whole real bundle (1.1 MB executable, ~100 sealed files) costs up to 1 s a case: a small share.
      weight: bundleFiles.length ? 0.25 : 0,
      run: async (rng) => {
        const file = rng.pick(bundleFiles)
        try {
          writeFileSync(file.path, mutateBytes(rng, file.bytes, file.hot))
          await verifyPath(bundle).catch((e) => mustNotThrow('verifyPath(bundle)', e))
        } finally {
          writeFileSync(file.path, file.bytes)
        }
      },
    },
    {
      name: 'manifest',
      weight: 24,
      run: async (rng) => {
        writeFileSync(manifestPath, mutateJson(rng, manifestSeed, manifestText))
        await loadManifest(manifestPath).catch((e) => mustNotThrow('loadManifest', e))
      },
    },
    {
      name: 'plist:xml',
      weight: 16,
      run: async (rng) => {
        const bytes = rng.chance(0.4) ? hostileXmlPlist(rng) : mutateBytes(rng, Buffer.from(rng.pick(xmlSeeds)))
        expectFormatError(() => parsePropertyList(bytes, 'fuzz.plist'))
      },
    },
    {
      name: 'plist:binary',
      weight: 16,
      run: async (rng) => {
        const bytes = mutateBinaryPlist(rng, binarySeed)
        expectFormatError(() => parsePropertyList(bytes, 'fuzz.plist'))
      },
    },
  ]
  return {targets: targets.filter((t) => t.weight > 0), notes}
}

/** A parser may refuse with a FormatError (a finding or exit 4 upstream); anything else is a crash. */
function expectFormatError(parse: () => unknown): void {
  try {
    parse()
  } catch (e) {
    if (!isFormatError(e)) mustNotThrow('parsePropertyList', e)
  }
}

/** Deterministic choice of a target by weight. */
export function chooseTarget(rng: Rng, targets: readonly Target[]): Target {
  const total = targets.reduce((n, t) => n + t.weight, 0)
  let x = rng.next() * total
  for (const t of targets) if ((x -= t.weight) < 0) return t
  return targets[targets.length - 1]!
}
