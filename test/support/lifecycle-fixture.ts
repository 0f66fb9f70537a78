import {createHash} from 'node:crypto'
import {chmodSync, mkdirSync, mkdtempSync, readdirSync, lstatSync, readFileSync, readlinkSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {systemClock} from '../../src/adapters/clock.js'
import {LaunchctlAdapter} from '../../src/adapters/launchctl.js'
import {realProcessIdentity} from '../../src/adapters/process-identity.js'
import {RootFs} from '../../src/adapters/root-fs.js'
import {PinoAuditLog} from '../../src/audit/audit-log.js'
import type {LifecycleContext} from '../../src/lifecycle/context.js'
import type {Manifest} from '../../src/manifest/manifest.js'
import {TrustStore} from '../../src/trust/trust-store.js'
import {SAMPLE_DAEMON} from '../doubles/fake-launchd/daemon-plist.js'
import {startFakeLaunchd, type FakeLaunchd} from '../doubles/fake-launchd/fake-launchd.js'
import {PrefixLayout} from '../../src/layout/prefix-layout.js'
import {buildBundle} from './bundle-builder.js'
import {createTestPki, type TestIdentity} from './test-pki.js'

export const TEAM = 'ABCDE12345'

/** The Program an installed plist names for `name` (as on the Mac); map it to the sample daemon in the fake launchd. */
export function systemExecutable(name: string): string {
  return `/opt/${name}/${name}.app/Contents/MacOS/${name}`
}

export function sampleDaemonPrograms(names: string[]): Record<string, string[]> {
  return Object.fromEntries(names.map((n) => [systemExecutable(n), [process.execPath, SAMPLE_DAEMON]]))
}

/** A fresh `--root`: root-owned, not writable by others, with /Library/LaunchDaemons as on a Mac. */
export function makeRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'esdctl-root-'))
  chmodSync(root, 0o755)
  mkdirSync(join(root, 'Library', 'LaunchDaemons'), {recursive: true, mode: 0o755})
  return root
}

export interface PayloadSpec {
  dir: string
  name: string
  label: string
  version: string
  identity: TestIdentity
  etc?: Record<string, string>
  manifest?: Partial<Manifest>
  bundleId?: string
  /** Bytes of code in the bundle's executable (default 16 KiB; the downtime benchmark uses 256 MiB). */
  codeSize?: number
}

/** A payload directory: <name>.app signed by the test PKI, esdctl.json, etc/ files. */
export async function buildPayload(spec: PayloadSpec): Promise<string> {
  const dir = spec.dir
  mkdirSync(dir, {recursive: true})
  const bundleId = spec.bundleId ?? `com.example.${spec.name}`
  await buildBundle({dir, name: spec.name, bundleId, teamId: TEAM, version: spec.version, identity: spec.identity, codeSize: spec.codeSize ?? 16 * 1024})
  const manifest: Manifest = {name: spec.name, label: spec.label, bundleId: `com.example.${spec.name}`, teamId: TEAM, RunAtLoad: true, KeepAlive: true, ThrottleInterval: 1, ExitTimeOut: 2, ...spec.manifest}
  writeFileSync(join(dir, 'esdctl.json'), JSON.stringify(manifest, null, 2))
  for (const [file, text] of Object.entries(spec.etc ?? {})) {
    mkdirSync(join(dir, 'etc', file, '..'), {recursive: true})
    writeFileSync(join(dir, 'etc', file), text)
  }
  return dir
}

export async function testIdentity(): Promise<{identity: TestIdentity; trust: TrustStore}> {
  const pki = await createTestPki()
  return {identity: await pki.developerId(TEAM), trust: pki.trust}
}

export function testContext(opts: {root: string; launchctlPath: string; trust: TrustStore; faultHook?: (point: string) => void}): LifecycleContext {
  return {
    root: opts.root,
    launchctl: new LaunchctlAdapter({executable: opts.launchctlPath}),
    codesign: undefined,
    fs: new RootFs(),
    identity: realProcessIdentity,
    clock: systemClock,
    audit: new PinoAuditLog(),
    progress: {stepStarted: () => undefined, stepFinished: () => undefined},
    verifyOptions: {trust: opts.trust},
    ...(opts.faultHook ? {faultHook: opts.faultHook} : {}),
  }
}

/** Every entry under `dir` with its type, mode, owner and content hash (or link target): equal snapshots mean nothing changed. */
export function snapshotTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (rel: string): void => {
    const full = rel === '' ? dir : join(dir, rel)
    const st = lstatSync(full)
    const meta = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`
    if (st.isSymbolicLink()) out[rel] = `link ${readlinkSync(full)} ${meta}`
    else if (st.isDirectory()) {
      out[rel] = `dir ${meta}`
      for (const entry of readdirSync(full).sort()) walk(rel === '' ? entry : `${rel}/${entry}`)
    } else out[rel] = `file ${createHash('sha256').update(readFileSync(full)).digest('hex')} ${meta}`
  }
  walk('')
  return out
}

/** One test's machine: a fresh --root, a label of its own, a context on the shared fake launchd, payloads to install. */
export interface LifecycleWorld {
  root: string
  label: string
  ctx: LifecycleContext
  layout: PrefixLayout
  payload(version: string, extra?: Partial<PayloadSpec>): Promise<string>
}

export interface LifecycleWorlds {
  readonly launchd: FakeLaunchd
  readonly trust: TrustStore
  /** Removed in the after hook. */
  track(path: string): void
  world(): LifecycleWorld
}

/**
 * The set-up every lifecycle test file shares: call inside a describe. It starts one fake launchd
 * (running the sample daemon in place of `name`'s Mach-O) and one test identity for the file, and
 * removes every root and payload the worlds made.
 */
export function lifecycleWorlds(name: string, opts: {labelPrefix: string; defaultEtc: (version: string) => Record<string, string>}): LifecycleWorlds {
  let launchd: FakeLaunchd | undefined
  let identity: TestIdentity | undefined
  let trust: TrustStore | undefined
  const paths: string[] = []
  let n = 0
  before(async () => {
    ;({identity, trust} = await testIdentity())
    launchd = await startFakeLaunchd({programs: sampleDaemonPrograms([name])})
  })
  after(async () => {
    await launchd?.stop()
    for (const path of paths) rmSync(path, {recursive: true, force: true})
  })
  const env: LifecycleWorlds = {
    get launchd() {
      return launchd!
    },
    get trust() {
      return trust!
    },
    track: (path) => void paths.push(path),
    world: () => {
      const root = makeRoot()
      env.track(root)
      const label = `${opts.labelPrefix}${n++}`
      let p = 0
      return {
        root,
        label,
        ctx: testContext({root, launchctlPath: env.launchd.launchctlPath, trust: env.trust}),
        layout: new PrefixLayout({name, label, root}),
        payload: (version, extra = {}) => {
          const dir = `${root}-payload-${p++}`
          env.track(dir)
          return buildPayload({dir, name, label, version, identity: identity!, etc: opts.defaultEtc(version), ...extra})
        },
      }
    },
  }
  return env
}
