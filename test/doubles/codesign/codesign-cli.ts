import {appendFileSync, existsSync, lstatSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync} from 'node:fs'
import {basename, dirname, join, relative, resolve} from 'node:path'
import * as plist from 'plist'
import type {PlistDict} from '../../../src/formats/property-list.js'
import type {SignOptions} from '../../support/signature-writer.js'
import {sealBundle, SealError} from './bundle-resources.js'
import {parseCodesignArgs, UsageError, type ParsedCodesignArgs} from './codesign-args.js'
import {askKeychain} from './keychain.js'
import {MachOError, resignMachO, CODESIGN_PAGE_SIZE} from './macho-resign.js'
import type {CodesignCall, CodesignDoubleConfig, KeychainIdentity, SealRecord, SealState} from './protocol.js'
import {cdhashRequirement, designatedRequirement} from './requirement.js'
import {isMachO, sealDifferences, snapshot} from './seal-snapshot.js'

const USAGE = 'Usage: codesign -s identity [-fv*] [-o flags] [-r reqs] [-i ident] path ... # sign\n       codesign -v [-v*] [-R=<req string>|-R <req file path>] path|[+]pid ... # verify\n'

class Failure extends Error {
  constructor(readonly exitCode: number, message: string) {
    super(message)
  }
}

/** The body of the codesign double; the launcher in the double's directory calls it with its config. */
export async function main(configPath: string): Promise<void> {
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as CodesignDoubleConfig
  const argv = process.argv.slice(2)
  let exitCode = 0
  let stderr = ''
  try {
    stderr = await run(config, argv)
  } catch (e) {
    if (e instanceof UsageError) {
      stderr = `codesign: ${e.message}\n${USAGE}`
      exitCode = 2
    } else if (e instanceof Failure) {
      stderr = e.message
      exitCode = e.exitCode
    } else {
      stderr = `codesign (double): ${(e as Error).stack ?? String(e)}\n`
      exitCode = 1
    }
  }
  process.stderr.write(stderr)
  const previous = existsSync(config.logPath) ? readFileSync(config.logPath, 'utf8').split('\n').filter(Boolean).length : 0
  const call: CodesignCall = {seq: previous + 1, argv, cwd: process.cwd(), exitCode, stderr}
  appendFileSync(config.logPath, JSON.stringify(call) + '\n')
  process.exitCode = exitCode
}

async function run(config: CodesignDoubleConfig, argv: string[]): Promise<string> {
  const args = parseCodesignArgs(argv)
  const state: SealState = existsSync(config.statePath) ? (JSON.parse(readFileSync(config.statePath, 'utf8')) as SealState) : {}
  let out = ''
  for (const given of args.paths) {
    const path = resolve(given)
    if (!existsSync(path)) throw new Failure(1, `${given}: No such file or directory\n`)
    if (args.operation === 'sign') out += await sign(config, state, args, given, path)
    else if (args.operation === 'verify') out += verify(state, args, given, path)
    else out += `Executable=${path}\n`
  }
  writeFileSync(config.statePath, JSON.stringify(state))
  return out
}

/** codesign's `-o` flag names and the CodeDirectory flags they set. */
const OPTION_FLAGS: Record<string, number> = {host: 0x1, hard: 0x100, kill: 0x200, expires: 0x400, library: 0x2000, runtime: 0x10000, 'linker-signed': 0x20000}
const CS_ADHOC = 0x2

async function sign(config: CodesignDoubleConfig, state: SealState, args: ParsedCodesignArgs, given: string, path: string): Promise<string> {
  const identity = args.identity!
  const keyed = keychainIdentity(config, identity)
  if (identity !== '-' && !keyed && !config.identities.includes(identity)) throw new Failure(1, `${identity}: no identity found\n`)
  const unknownOption = args.options.find(o => !(o in OPTION_FLAGS))
  if (unknownOption !== undefined) throw new Failure(1, `${given}: unrecognized option flag "${unknownOption}"\n`)
  const bundle = bundleShape(given, path)
  if (bundle) {
    const unsigned = bundle.nested.find(n => !isIntact(state, n))
    if (unsigned) throw new Failure(1, `${given}: code object is not signed at all\nIn subcomponent: ${unsigned}\n`)
  }
  if (state[path] && !args.force) throw new Failure(1, `${given}: is already signed\n`)
  let entitlements: {text: string; bytes: Buffer; dict: PlistDict} | undefined
  if (args.entitlements !== undefined) {
    try {
      const bytes = readFileSync(resolve(args.entitlements))
      const text = bytes.toString('utf8')
      const dict = plist.parse(text)
      if (typeof dict !== 'object' || dict === null || Array.isArray(dict)) throw new Error('not a dictionary')
      entitlements = {text, bytes, dict: dict as PlistDict}
    } catch {
      throw new Failure(1, `${given}: failed to parse entitlements\n`)
    }
  }
  const record: SealRecord = {
    identity,
    runtime: args.options.includes('runtime'),
    timestamp: args.timestamp !== undefined && args.timestamp !== 'none',
    files: {},
  }
  if (args.identifier !== undefined) record.identifier = args.identifier
  if (entitlements) record.entitlements = entitlements.text
  // Names without a key (the plain `identities` list) can only be recorded; ad hoc and keychain identities really sign.
  if (identity === '-' || keyed) {
    const requirement = await signForReal(config, state, args, given, path, bundle, keyed, entitlements)
    if (requirement !== undefined) record.requirement = requirement
  }
  record.files = snapshot(path)
  state[path] = record
  return args.verbosity > 0 ? `${given}: signed ${bundle ? 'app bundle with Mach-O' : 'Mach-O'} [${args.identifier ?? 'default'}]\n` : ''
}

/** `--sign` names a keychain identity by its certificate's SHA-1 (any case) or its exact common name. */
function keychainIdentity(config: CodesignDoubleConfig, name: string): KeychainIdentity | undefined {
  const all = config.keychain?.identities ?? []
  if (/^[0-9a-fA-F]{40}$/.test(name)) return all.find(i => i.sha1 === name.toUpperCase())
  return all.find(i => i.commonName === name)
}

/**
 * Signs `path` as codesign does and returns the designated requirement's text (none for ad hoc).
 * A bundle is sealed first (_CodeSignature/CodeResources), then its main executable is signed
 * binding Info.plist and the seal. Every file is written beside its target and renamed over it.
 */
async function signForReal(
  config: CodesignDoubleConfig,
  state: SealState,
  args: ParsedCodesignArgs,
  given: string,
  path: string,
  bundle: BundleShape | undefined,
  keyed: KeychainIdentity | undefined,
  entitlements: {bytes: Buffer; dict: PlistDict} | undefined,
): Promise<string | undefined> {
  const now = new Date()
  let target = path
  let identifier = args.identifier ?? basename(path)
  const bound: Pick<SignOptions, 'infoPlist' | 'codeResources'> = {}
  if (bundle) {
    target = bundle.main
    const infoPlist = readFileSync(bundle.info)
    const bundleId = (plist.parse(infoPlist.toString('utf8')) as {CFBundleIdentifier?: unknown}).CFBundleIdentifier
    identifier = args.identifier ?? (typeof bundleId === 'string' ? bundleId : basename(path).replace(/\.app$/, ''))
    let codeResources: Buffer
    try {
      codeResources = sealBundle(bundle.contents, relative(bundle.contents, bundle.main), (nested, cdhash) => state[nested]?.requirement ?? cdhashRequirement(cdhash))
    } catch (e) {
      if (e instanceof SealError) throw new Failure(1, `${given}: ${e.message}\n`)
      throw e
    }
    mkdirSync(join(bundle.contents, '_CodeSignature'), {recursive: true})
    writeThenRename(join(bundle.contents, '_CodeSignature', 'CodeResources'), codeResources, 0o644)
    bound.infoPlist = infoPlist
    bound.codeResources = codeResources
  }
  if (!isMachO(target)) throw new Failure(1, `${given}: code object is not signed at all\n`)
  const dr = keyed ? designatedRequirement(identifier, {kind: keyed.developerId ? 'developer-id' : 'other', ...(keyed.teamId ? {teamId: keyed.teamId} : {}), ...(keyed.commonName ? {commonName: keyed.commonName} : {})}) : undefined
  const runtime = args.options.includes('runtime')
  const flags = args.options.reduce((f, o) => f | OPTION_FLAGS[o]!, keyed ? 0 : CS_ADHOC)
  const timestamped = keyed !== undefined && args.timestamp !== undefined && args.timestamp !== 'none'
  const cms = keyed
    ? (codeDirectories: Buffer[]): Promise<Buffer> =>
        askKeychain(config.keychain!.socket, {
          sha1: keyed.sha1,
          codeDirectories: codeDirectories.map(cd => cd.toString('base64')),
          signingTime: now.toISOString(),
          ...(timestamped ? {timestamp: now.toISOString()} : {}),
        })
    : undefined
  let signed: Buffer
  try {
    const result = await resignMachO(readFileSync(target), facts => ({
      identifier,
      ...(keyed?.teamId ? {teamId: keyed.teamId} : {}),
      flags,
      hashTypes: [2],
      pageSize: CODESIGN_PAGE_SIZE,
      version: runtime ? 0x20500 : 0x20400,
      ...(runtime && facts.sdk > 0 ? {runtimeVersion: facts.sdk} : {}),
      execSeg: facts.execSeg,
      ...(entitlements ? {entitlements: entitlements.dict, entitlementsXml: entitlements.bytes, derEntitlements: true} : {}),
      ...(dr ? {requirementsBlob: dr.blob} : {}),
      ...bound,
      ...(cms ? {cms} : {}),
    }))
    signed = result.bytes
  } catch (e) {
    if (e instanceof MachOError) throw new Failure(1, `${given}: main executable failed strict validation (${e.message})\n`)
    throw e
  }
  writeThenRename(target, signed, statSync(target).mode & 0o7777)
  return dr?.text
}

/** Never modifies a file in place: the new bytes go to a sibling, which then replaces it. */
function writeThenRename(path: string, bytes: Buffer, mode: number): void {
  const temp = join(dirname(path), `.${basename(path)}.cstemp.${process.pid}`)
  writeFileSync(temp, bytes, {mode})
  renameSync(temp, path)
}

function verify(state: SealState, args: ParsedCodesignArgs, given: string, path: string): string {
  const record = state[path]
  if (!record) throw new Failure(1, `${given}: code object is not signed at all\n`)
  const differences = sealDifferences(record.files, snapshot(path))
  if (differences.length > 0) throw new Failure(1, `${given}: a sealed resource is missing or invalid\n${differences.join('\n')}\n`)
  let out = ''
  const bundle = bundleShape(given, path)
  if (bundle && args.deep) {
    for (const nested of bundle.nested) {
      if (!isIntact(state, nested)) throw new Failure(1, `${given}: code object is not signed at all\nIn subcomponent: ${nested}\n`)
      if (args.verbosity >= 3) out += `--validated:${nested}\n`
    }
  }
  if (args.verbosity > 0) out += `${given}: valid on disk\n${given}: satisfies its Designated Requirement\n`
  return out
}

interface BundleShape {
  contents: string
  info: string
  main: string
  nested: string[]
}

/** For an .app: the main executable (signed with the bundle) and every other Mach-O, the nested code. */
function bundleShape(given: string, path: string): BundleShape | undefined {
  if (!lstatSync(path).isDirectory()) return undefined
  const info = join(path, 'Contents', 'Info.plist')
  if (!existsSync(info)) throw new Failure(1, `${given}: bundle format unrecognized, invalid, or unsuitable\n`)
  const executable = (plist.parse(readFileSync(info, 'utf8')) as {CFBundleExecutable?: string}).CFBundleExecutable
  const main = executable ? join(path, 'Contents', 'MacOS', executable) : undefined
  if (!main || !existsSync(main)) throw new Failure(1, `${given}: main executable failed strict validation\n`)
  const nested = Object.keys(snapshot(path))
    .map(rel => join(path, rel))
    .filter(full => full !== main && lstatSync(full).isFile() && isMachO(full))
  return {contents: join(path, 'Contents'), info, main, nested}
}

function isIntact(state: SealState, path: string): boolean {
  const record = state[path]
  return record !== undefined && sealDifferences(record.files, snapshot(path)).length === 0
}
