import {isDict, type PlistDict, type PlistValue} from '../formats/property-list.js'

/** The job keys launchdJob (render-plist.ts) writes, with the manifest field each comes from; the rest are written from the layout and the record. */
const FROM_MANIFEST: Record<string, string> = {
  EnvironmentVariables: 'environment',
  WorkingDirectory: 'WorkingDirectory',
  UserName: 'UserName',
  GroupName: 'GroupName',
  Umask: 'Umask',
  RunAtLoad: 'RunAtLoad',
  KeepAlive: 'KeepAlive',
  ThrottleInterval: 'ThrottleInterval',
  ExitTimeOut: 'ExitTimeOut',
  ProcessType: 'ProcessType',
  Nice: 'Nice',
  LowPriorityIO: 'LowPriorityIO',
  SoftResourceLimits: 'SoftResourceLimits',
  HardResourceLimits: 'HardResourceLimits',
  StandardOutPath: 'StandardOutPath',
  StandardErrorPath: 'StandardErrorPath',
}
/** Written from the layout and the record, never from a manifest field of the same name. */
const FROM_LAYOUT = ['Label', 'Program', 'ProgramArguments', 'AssociatedBundleIdentifiers']
/** Values the renderer expands placeholders in: a literal brace there was written doubled. */
const TEMPLATED = new Set(['WorkingDirectory', 'StandardOutPath', 'StandardErrorPath'])

/** The manifest field a job key comes from (`/environment/DYLD_…` for `EnvironmentVariables`), for naming one in messages. */
export function jobKeyOf(manifestField: string): string {
  const [, first = '', ...rest] = manifestField.split('/')
  const key = first === 'programArguments' ? 'ProgramArguments' : (Object.entries(FROM_MANIFEST).find(([, f]) => f === first)?.[0] ?? first)
  return ['', key, ...rest].join('/')
}

/**
 * The manifest an installed launchd job would have been rendered from: the inverse of launchdJob,
 * the record supplying what the plist does not say (name, label, bundleId, teamId, bundle,
 * links). `unknownKeys` are the job's keys launchdJob never writes. Pure: the result is unchecked,
 * for validateManifest to judge by the rules a manifest is refused by, and renderLaunchdPlist to
 * render again so the bytes can be compared with what is installed.
 */
export function manifestOfJob(job: PlistDict, record: {name: string; label: string; bundleId: string; teamId: string; bundle?: string; links?: readonly {path: string; target: string}[]}): {manifest: Record<string, unknown>; unknownKeys: string[]} {
  const manifest: Record<string, unknown> = {name: record.name, label: record.label, bundleId: record.bundleId, teamId: record.teamId}
  if (record.bundle !== undefined) manifest['bundle'] = record.bundle
  if (record.links !== undefined) manifest['links'] = record.links.map((l) => ({...l}))
  const args = job['ProgramArguments']
  if (Array.isArray(args) && args.length > 1) manifest['programArguments'] = args.slice(1).map(literal)
  for (const [key, field] of Object.entries(FROM_MANIFEST)) {
    const value = job[key]
    if (value === undefined) continue
    if (key === 'EnvironmentVariables' && isDict(value)) manifest[field] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, literal(v)]))
    else manifest[field] = TEMPLATED.has(key) ? literal(value) : value
  }
  const unknownKeys = Object.keys(job).filter((k) => !(k in FROM_MANIFEST) && !FROM_LAYOUT.includes(k))
  return {manifest, unknownKeys}
}

/** A string the renderer wrote after expanding placeholders, as a manifest must spell it (braces doubled); anything else unchanged for the schema to judge. */
function literal(value: PlistValue): unknown {
  return typeof value === 'string' ? value.replaceAll('{', '{{').replaceAll('}', '}}') : value
}
