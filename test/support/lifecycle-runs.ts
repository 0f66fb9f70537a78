import {existsSync, readFileSync, readlinkSync, writeFileSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {execa} from 'execa'
import * as plist from 'plist'
import type {PrefixLayout} from '../../src/layout/prefix-layout.js'
import type {LifecycleContext} from '../../src/lifecycle/context.js'
import {readInstallRecord, readRegistry} from '../../src/lifecycle/index.js'
import type {TrustStore} from '../../src/trust/trust-store.js'
import type {RunnerConfig} from './lifecycle-runner.js'

export const RUNNER = fileURLToPath(new URL('./lifecycle-runner.js', import.meta.url))

export interface RunnerOutcome {
  exitCode: number | undefined
  signal: string | undefined
  output: Record<string, unknown> | undefined
  stderr: string
}

/** Runs the test-only runner process; `uid` runs it as another user (execa's uid option). */
export async function runRunner(config: Omit<RunnerConfig, 'anchors'> & {trust: TrustStore}, opts: {uid?: number; env?: Record<string, string>} = {}): Promise<RunnerOutcome> {
  const {trust, ...rest} = config
  const file = join(dirname(config.root), `${config.root.split('/').at(-1)}-runner-${Math.random().toString(16).slice(2)}.json`)
  const full: RunnerConfig = {...rest, anchors: trust.anchors.map((a) => ({name: a.name, der: a.der.toString('base64')}))}
  writeFileSync(file, JSON.stringify(full), {mode: 0o644})
  const result = await execa(process.execPath, [RUNNER, file], {reject: false, ...(opts.uid !== undefined ? {uid: opts.uid, gid: opts.uid} : {}), env: opts.env ?? {}, extendEnv: opts.env === undefined, cwd: '/'})
  const line = String(result.stdout ?? '').trim().split('\n').at(-1) ?? ''
  let output: Record<string, unknown> | undefined
  try {
    output = line ? (JSON.parse(line) as Record<string, unknown>) : undefined
  } catch {
    output = undefined
  }
  return {exitCode: result.exitCode, signal: result.signal ?? undefined, output, stderr: String(result.stderr ?? '')}
}

export interface InstalledState {
  installed: boolean
  version?: string
  running: boolean
  problems: string[]
}

/**
 * What is on disk and in launchd for one daemon, and every way it is not exactly "installed and
 * running one version" or "fully gone": a half state is a list of problems.
 */
export async function inspectInstalled(ctx: LifecycleContext, layout: PrefixLayout): Promise<InstalledState> {
  const problems: string[] = []
  const record = await readInstallRecord(layout)
  const parts = {
    record: record !== undefined,
    app: existsSync(layout.app),
    plist: existsSync(layout.launchdPlist),
    link: (() => {
      try {
        return readlinkSync(layout.binLink) === layout.binLinkTarget && existsSync(resolve(dirname(layout.binLink), layout.binLinkTarget))
      } catch {
        return false
      }
    })(),
    registry: (await readRegistry(layout.root)).some((e) => e.name === layout.name && e.label === layout.label),
  }
  const info = await ctx.launchctl.print(layout.label)
  const running = info?.state === 'running' && info.pid !== undefined
  const installed = Object.values(parts).every(Boolean)
  const gone = Object.values(parts).every((v) => !v) && info === undefined
  if (!installed && !gone) problems.push(`half installed: ${JSON.stringify({...parts, loaded: info !== undefined})}`)
  if (existsSync(layout.journal)) problems.push('the journal was not cleared')
  let version: string | undefined
  if (installed) {
    const bundleVersion = (plist.parse(readFileSync(layout.infoPlist, 'utf8')) as Record<string, string>)['CFBundleShortVersionString']
    version = record!.version
    if (bundleVersion !== version) problems.push(`the record says ${version} but the bundle in place is ${bundleVersion}`)
    if (!running) problems.push(`installed but not running (launchd: ${JSON.stringify(info)})`)
  }
  return {installed, ...(version ? {version} : {}), running, problems}
}
