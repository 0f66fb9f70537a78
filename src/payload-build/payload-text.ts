import type {PayloadResult} from './payload-request.js'

/** What `esdctl payload` prints without --json. */
export function renderPayloadText(r: PayloadResult): string {
  const lines = [
    `${r.name} ${r.version} (${r.bundleId}, team ${r.teamId}, label ${r.label})`,
    `  payload:       ${r.payload}`,
    `  on the Mac:    ${r.installedPayload}`,
    `  pkg scripts:   ${r.scripts.preinstall}, ${r.scripts.postinstall}`,
    `  instructions:  ${r.instructions}`,
    ...(r.bundledEsdctl === undefined ? [] : [`  esdctl:        ${r.bundledEsdctl.launcher} (esdctl ${r.bundledEsdctl.version} for darwin-${r.bundledEsdctl.arch}, Node ${r.bundledEsdctl.node.version}, inside the payload)`]),
    r.pkg.built ? `  component pkg: ${r.pkg.path}` : `  component pkg: not built: ${r.pkg.reason}`,
    `Packaging commands (run in ${r.out}):`,
    ...r.commandLines.map(l => `  ${l}`),
  ]
  return lines.join('\n')
}
