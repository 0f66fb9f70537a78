import {readFileSync} from 'node:fs'
import * as plist from 'plist'
import {FormatError} from '../formats/format-error.js'
import type {PrefixLayout} from '../layout/prefix-layout.js'
import {umaskValue, type Manifest, type ResourceLimits} from '../manifest/manifest.js'
import {expandPlaceholders} from '../manifest/placeholders.js'

/** The template ships beside the compiled code: dist/src/launchd/ → ../../../templates/. */
const TEMPLATE_URL = new URL('../../../templates/launchd.plist.xml', import.meta.url)
const DICT_SLOT = '{{dict}}'

let template: string | undefined

function plistTemplate(): string {
  if (template === undefined) {
    const text = readFileSync(TEMPLATE_URL, 'utf8')
    if (text.split(DICT_SLOT).length !== 2) throw new Error(`${TEMPLATE_URL.pathname}: the template must contain ${DICT_SLOT} exactly once`)
    template = text
  }
  return template
}

type PlistDict = {[key: string]: plist.PlistValue}

function expand(value: string, layout: PrefixLayout, field: string): string {
  const result = expandPlaceholders(value, layout)
  if ('error' in result) throw new FormatError('manifest.placeholder', `manifest ${field}: ${result.error} (validate the manifest with loadManifest before rendering)`)
  return result.value
}

/** Nested dictionaries are emitted in sorted key order so the output does not depend on how the manifest was written. */
function sorted<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.keys(record).sort().map(k => [k, record[k] as T]))
}

function keepAlive(value: NonNullable<Manifest['KeepAlive']>): plist.PlistValue {
  if (typeof value === 'boolean') return value
  const out: PlistDict = {}
  if (value.SuccessfulExit !== undefined) out['SuccessfulExit'] = value.SuccessfulExit
  if (value.Crashed !== undefined) out['Crashed'] = value.Crashed
  if (value.PathState !== undefined) out['PathState'] = sorted(value.PathState)
  if (value.OtherJobEnabled !== undefined) out['OtherJobEnabled'] = sorted(value.OtherJobEnabled)
  return out
}

function limits(value: ResourceLimits): PlistDict {
  return sorted(value as Record<string, number>)
}

/**
 * The launchd job dictionary in a fixed key order. Paths are those of the booted target system
 * (`layout.system`), not the `--root` staging paths esdctl writes through.
 */
export function launchdJob(manifest: Manifest, layout: PrefixLayout): PlistDict {
  if (manifest.name !== layout.name || manifest.label !== layout.label) {
    throw new Error(`layout for ${layout.name} (${layout.label}) does not belong to manifest ${manifest.name} (${manifest.label})`)
  }
  const target = layout.system
  const job: PlistDict = {}
  job['Label'] = manifest.label
  // The real executable inside the bundle: launchd must exec the bundle's main executable for the
  // provisioning profile to apply; the bin/ symlink would not.
  job['Program'] = target.executable
  job['ProgramArguments'] = [target.executable, ...(manifest.programArguments ?? []).map((a, i) => expand(a, target, `/programArguments/${i}`))]
  job['AssociatedBundleIdentifiers'] = [manifest.bundleId]
  if (manifest.environment !== undefined) {
    const env = sorted(manifest.environment)
    job['EnvironmentVariables'] = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, expand(v, target, `/environment/${k}`)]))
  }
  if (manifest.WorkingDirectory !== undefined) job['WorkingDirectory'] = expand(manifest.WorkingDirectory, target, '/WorkingDirectory')
  if (manifest.UserName !== undefined) job['UserName'] = manifest.UserName
  if (manifest.GroupName !== undefined) job['GroupName'] = manifest.GroupName
  if (manifest.Umask !== undefined) job['Umask'] = umaskValue(manifest.Umask)
  if (manifest.RunAtLoad !== undefined) job['RunAtLoad'] = manifest.RunAtLoad
  if (manifest.KeepAlive !== undefined) job['KeepAlive'] = keepAlive(manifest.KeepAlive)
  if (manifest.ThrottleInterval !== undefined) job['ThrottleInterval'] = manifest.ThrottleInterval
  if (manifest.ExitTimeOut !== undefined) job['ExitTimeOut'] = manifest.ExitTimeOut
  if (manifest.ProcessType !== undefined) job['ProcessType'] = manifest.ProcessType
  if (manifest.Nice !== undefined) job['Nice'] = manifest.Nice
  if (manifest.LowPriorityIO !== undefined) job['LowPriorityIO'] = manifest.LowPriorityIO
  if (manifest.SoftResourceLimits !== undefined) job['SoftResourceLimits'] = limits(manifest.SoftResourceLimits)
  if (manifest.HardResourceLimits !== undefined) job['HardResourceLimits'] = limits(manifest.HardResourceLimits)
  if (manifest.StandardOutPath !== undefined) job['StandardOutPath'] = expand(manifest.StandardOutPath, target, '/StandardOutPath')
  if (manifest.StandardErrorPath !== undefined) job['StandardErrorPath'] = expand(manifest.StandardErrorPath, target, '/StandardErrorPath')
  return job
}

/** The dictionary as the plist library writes it, cut out of its document so the template supplies the frame. */
function dictXml(job: PlistDict): string {
  const xml = plist.build(job, {pretty: true, indent: '\t', newline: '\n'})
  const start = xml.indexOf('<dict>')
  const end = xml.lastIndexOf('</dict>')
  if (start < 0 || end < start) throw new Error('plist library produced no <dict> element')
  // From the start of the <dict> line, indentation included, so the result reads as the library wrote it.
  return xml.slice(xml.lastIndexOf('\n', start) + 1, end + '</dict>'.length)
}

/** The XML of `/Library/LaunchDaemons/<label>.plist` for a validated manifest. */
export function renderLaunchdPlist(manifest: Manifest, layout: PrefixLayout): string {
  return plistTemplate().replace(DICT_SLOT, () => dictXml(launchdJob(manifest, layout)))
}
