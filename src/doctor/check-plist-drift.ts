import {isDeepStrictEqual} from 'node:util'
import {parsePropertyListDict} from '../formats/property-list.js'
import {jobKeyOf, manifestOfJob} from '../launchd/manifest-of-job.js'
import {renderLaunchdPlist} from '../launchd/render-plist.js'
import type {PrefixLayout} from '../layout/prefix-layout.js'
import type {Manifest} from '../manifest/manifest.js'
import {validateManifest} from '../manifest/load-manifest.js'
import {plistSha256Of, type InstallRecord} from '../records/install-record.js'
import {esdctlCommand} from '../render/esdctl-command.js'
import type {InstalledPlist} from '../status/daemon-output.js'
import {failed, type DoctorCheck} from './doctor-check.js'

/**
 * Whether the installed launchd plist is one esdctl could have written for the install record:
 * read back into the manifest it would have been rendered from (manifestOfJob), that manifest is
 * judged by the rules install refuses a manifest by (validateManifest: DYLD_* variables, log files
 * outside the prefix, …), each refusal an error; a manifest that passes is rendered again with the
 * code install uses (renderLaunchdPlist) and compared byte for byte, as install does before it
 * calls a same-version install "already installed" (prepare-deploy.ts): any difference is an edit
 * made after install. A plist that some manifest would render but that is not the bytes this install
 * wrote (its SHA-256, kept in the record since receipts carry plistSha256) is drift too: an edited
 * value a manifest could have asked for (RunAtLoad, an argument after argv[0]). `reported`: problems
 * already reported by the launchd plist rules (plistProblems), which validateManifest applies too. Pure.
 */
export function checkPlistAsRendered(layout: PrefixLayout, plist: InstalledPlist, record: InstallRecord | undefined, reported: ReadonlySet<string> = new Set()): DoctorCheck[] {
  if (plist.dict === undefined || plist.bytes === undefined || record === undefined) return []
  const path = plist.path
  const repair = `Reinstall the recorded version with \`${esdctlCommand('install', 'PAYLOAD', layout.root)}\`: it finds the plist is not the one it renders and writes it again (put any setting you need in the payload's esdctl.json).`
  const {manifest, unknownKeys} = manifestOfJob(plist.dict, record)
  const checked = validateManifest(manifest, path)
  const checks: DoctorCheck[] = []
  if ('errors' in checked) {
    for (const e of checked.errors) {
      const problem = e.message.slice(`${e.path}: ${e.field === '' ? '(whole file)' : e.field}: `.length)
      // The launchd plist rules are part of the manifest's: what checkLaunchdPlist already said is not said twice.
      if (reported.has(problem)) continue
      checks.push(failed('plist.refused', 'error', path, `launchd plist ${jobKeyOf(e.field)}: ${problem}; install refuses a manifest that asks for this, so esdctl did not write it`, `${e.fix} ${repair}`))
    }
  }
  const rendered = 'manifest' in checked ? renderLaunchdPlist(checked.manifest as Manifest, layout) : undefined
  const differing = rendered === undefined ? unknownKeys : differingKeys(plist.dict, parsePropertyListDict(Buffer.from(rendered), path))
  const named = `${differing.join(', ')} ${differing.length === 1 ? 'differs' : 'differ'}`
  if (record.plistSha256 !== undefined) {
    // The bytes this install wrote are known: any edit is drift, even one a manifest could have asked for.
    // A refused key already says esdctl did not write it.
    if (checks.length > 0 || plistSha256Of(plist.bytes) === record.plistSha256) return checks
    const what = differing.length === 0 ? 'its SHA-256 differs from the one the install record keeps' : named
    checks.push(failed('plist.drift', 'error', path, `launchd plist is not the one this install wrote (${what}): it was changed after install, and install treats it as damage`, repair))
    return checks
  }
  if (rendered === plist.bytes.toString('utf8') && unknownKeys.length === 0) return checks
  if (rendered === undefined && differing.length === 0) return checks
  const what = differing.length === 0 ? 'the same keys and values, written differently' : named
  checks.push(failed('plist.drift', differing.length === 0 ? 'warning' : 'error', path, `launchd plist is not the one esdctl renders for the install record (${what}): it was changed after install, and install treats it as damage`, repair))
  return checks
}

function differingKeys(installed: Record<string, unknown>, rendered: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(rendered), ...Object.keys(installed)])]
  return keys.filter((k) => !isDeepStrictEqual(installed[k], rendered[k])).sort()
}
