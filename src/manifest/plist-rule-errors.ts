import {plistProblems} from '../launchd/plist-rules.js'
import {launchdJob} from '../launchd/render-plist.js'
import {PrefixLayout} from '../layout/prefix-layout.js'
import type {Manifest} from './manifest.js'
import {manifestError, type ManifestError} from './manifest-error.js'

/**
 * The launchd plist rule set (launchd/plist-rules.ts) applied to the plist this manifest would
 * produce: each error becomes a refusal naming the manifest file and its field.
 */
export function plistRuleErrors(file: string, manifest: Manifest): ManifestError[] {
  const layout = new PrefixLayout({name: manifest.name, label: manifest.label})
  const job = launchdJob(manifest, layout)
  return plistProblems(job, {name: layout.name, label: layout.label, executable: layout.executable, binLink: layout.binLink})
    .filter((p) => p.severity === 'error')
    .map((p) => manifestError(file, p.manifestField ?? `/${p.key}`, p.problem, p.fix))
}
