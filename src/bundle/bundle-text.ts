import type {BundleResult} from './bundle-request.js'
import {shellQuote} from './shell-quote.js'

/** What `esdctl bundle` prints without --json. */
export function renderBundleText(r: BundleResult): string {
  const lines = [
    `${r.app}`,
    `  ${r.bundleId} ${r.version} (${r.build}), team ${r.teamId}`,
    `  profile "${r.profile.name}" (${r.profile.uuid})${r.profile.expires ? `, expires ${r.profile.expires.slice(0, 10)}` : ''}`,
    `  entitlements (${r.entitlementsFile}):`,
    ...Object.entries(r.entitlements).map(([k, v]) => `    ${k} = ${JSON.stringify(v)}`),
    ...r.warnings.map(w => `warning: ${w.message} [${w.id}]`),
  ]
  if (r.signed) {
    lines.push(`Signed with "${r.identity}" (${r.signing.length} codesign call${r.signing.length === 1 ? '' : 's'}, nested code first) and verified.`)
  } else {
    lines.push(
      'NOT SIGNED: codesign is not available on this machine.',
      `Copy ${r.app}, ${r.entitlementsFile} and ${r.script} to a Mac whose keychain holds "${r.identity}" and run: bash ${shellQuote(r.script!)}`,
      `Then check it with: esdctl verify ${shellQuote(r.app)}`,
    )
  }
  return lines.join('\n')
}
