import * as plist from 'plist'
import {shellQuote} from '../bundle/shell-quote.js'
import type {PackagingCommands} from './payload-request.js'

export const OUT_NAMES = {root: 'root', scripts: 'scripts', componentPlist: 'component.plist', instructions: 'PACKAGING.txt'} as const

export function componentPackageName(name: string, version: string): string {
  return `${name}-${version}-component.pkg`
}

export function productPackageName(name: string, version: string): string {
  return `${name}-${version}.pkg`
}

/**
 * pkgbuild marks bundles relocatable by default: Installer then updates whatever copy of the bundle
 * id it finds on the disk instead of writing to the payload path. The component plist pins it.
 */
export function renderComponentPlist(rootRelativeApp: string): string {
  return plist.build([
    {
      BundleHasStrictIdentifier: true,
      BundleIsRelocatable: false,
      BundleIsVersionChecked: false,
      BundleOverwriteAction: 'upgrade',
      RootRelativeBundlePath: rootRelativeApp,
    },
  ]) + '\n'
}

/** The packaging steps, with paths relative to the output directory they are run in. */
export function packagingCommands(o: {name: string; version: string; identifier: string; installerIdentity?: string; notaryProfile?: string}): PackagingCommands {
  const component = componentPackageName(o.name, o.version)
  const product = productPackageName(o.name, o.version)
  const sign = o.installerIdentity === undefined ? ['--sign', '$INSTALLER_IDENTITY'] : ['--sign', o.installerIdentity]
  return {
    pkgbuild: ['pkgbuild', '--root', OUT_NAMES.root, '--component-plist', OUT_NAMES.componentPlist, '--scripts', OUT_NAMES.scripts, '--identifier', o.identifier, '--version', o.version, '--install-location', '/', component],
    productbuild: ['productbuild', '--package', component, ...sign, '--timestamp', product],
    notarytool: ['xcrun', 'notarytool', 'submit', product, '--keychain-profile', o.notaryProfile ?? '$NOTARY_PROFILE', '--wait'],
    stapler: ['xcrun', 'stapler', 'staple', product],
  }
}

/** A `$NAME` argument stays a variable reference for the shell; everything else is quoted. */
export function commandLine(argv: string[]): string {
  return argv.map(a => (/^\$[A-Z_]+$/.test(a) ? `"${a}"` : shellQuote(a))).join(' ')
}

export function renderInstructions(o: {name: string; version: string; installedPayload: string; esdctl: string; commands: PackagingCommands; variables: string[]}): string {
  const lines = [
    `Packaging ${o.name} ${o.version} (written by esdctl payload)`,
    '',
    `root/ holds the install payload at ${o.installedPayload}.`,
    `The pkg's postinstall runs ${o.esdctl} install (first time) or upgrade on it, as root.`,
    'scripts/ holds preinstall and postinstall; component.plist keeps Installer from relocating the bundle.',
    '',
    'On a Mac, in this directory:',
  ]
  if (o.variables.length > 0) lines.push(`  (first set ${o.variables.join(' and ')})`)
  for (const key of ['pkgbuild', 'productbuild', 'notarytool', 'stapler'] as const) lines.push(`  ${commandLine(o.commands[key])}`)
  lines.push('')
  return lines.join('\n')
}
