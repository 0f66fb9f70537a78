import {readFile, mkdir, rename, writeFile, chmod} from 'node:fs/promises'
import {join} from 'node:path'
import {shellQuote} from '../../src/bundle/shell-quote.js'
import {commandLine} from '../../src/payload-build/pkg-commands.js'
import type {DarwinArch} from '../../src/payload-build/esdctl-dist-layout.js'
import {normaliseModes} from './tree-modes.js'

/** Where esdctl's own package installs it: one root-owned directory per version. */
export const INSTALL_BASE = '/usr/local/esdctl'
/** The stable name fleet scripts and `esdctl payload`'s default --esdctl use. */
export const INSTALL_LINK = '/usr/local/bin/esdctl'
export const DEFAULT_PKG_IDENTIFIER = 'org.esdctl.esdctl'

export interface PkgInputs {
  /** The directory holding root/, scripts/ and PACKAGING.txt; pkgbuild runs here. */
  dir: string
  root: string
  scripts: string
  /** Where the tree lands on the Mac. */
  installDir: string
  /** argv of pkgbuild, productbuild, notarytool and stapler, run in `dir`. */
  commands: {pkgbuild: string[]; productbuild: string[]; notarytool: string[]; stapler: string[]}
  instructions: string
}

const WORD = /^[A-Za-z0-9._-]+$/

/**
 * Moves the finished tree `tree` into a new pkgbuild root under `dir` (at
 * `root/usr/local/esdctl/<version>/`), with root's modes, and writes the postinstall script that
 * links /usr/local/bin/esdctl to it and PACKAGING.txt with the exact command lines.
 */
export async function writePkgInputs(o: {tree: string; dir: string; version: string; arch: DarwinArch; identifier: string; templates: string}): Promise<PkgInputs> {
  if (!WORD.test(o.version) || !WORD.test(o.identifier)) throw new Error(`version ${JSON.stringify(o.version)} and identifier ${JSON.stringify(o.identifier)} must be plain words`)
  const installDir = `${INSTALL_BASE}/${o.version}`
  const root = join(o.dir, 'root')
  const scripts = join(o.dir, 'scripts')
  const parent = join(root, ...INSTALL_BASE.split('/').filter(Boolean))
  await mkdir(parent, {recursive: true})
  await rename(o.tree, join(parent, o.version))
  await normaliseModes(root)

  await mkdir(scripts, {mode: 0o755})
  await chmod(scripts, 0o755)
  const template = await readFile(join(o.templates, 'pkg', 'esdctl-postinstall'), 'utf8')
  const script = template.replace(/\{\{(\w+)\}\}/g, (whole, slot: string) => {
    if (slot === 'version') return o.version
    if (slot === 'home') return shellQuote(installDir)
    if (slot === 'link') return shellQuote(INSTALL_LINK)
    throw new Error(`esdctl-postinstall: unknown template slot ${whole}`)
  })
  await writeFile(join(scripts, 'postinstall'), script, {mode: 0o755})
  await chmod(join(scripts, 'postinstall'), 0o755)

  const component = `esdctl-${o.version}-darwin-${o.arch}-component.pkg`
  const product = `esdctl-${o.version}-darwin-${o.arch}.pkg`
  const commands = {
    // --ownership recommended: the Bom records root:wheel for every file, whoever owns them here.
    pkgbuild: ['pkgbuild', '--root', 'root', '--scripts', 'scripts', '--identifier', o.identifier, '--version', o.version, '--install-location', '/', '--ownership', 'recommended', component],
    productbuild: ['productbuild', '--package', component, '--sign', '$INSTALLER_IDENTITY', '--timestamp', product],
    notarytool: ['xcrun', 'notarytool', 'submit', product, '--keychain-profile', '$NOTARY_PROFILE', '--wait'],
    stapler: ['xcrun', 'stapler', 'staple', product],
  }
  const instructions = join(o.dir, 'PACKAGING.txt')
  await writeFile(instructions, renderPackaging({version: o.version, arch: o.arch, installDir, commands}), {mode: 0o644})
  return {dir: o.dir, root, scripts, installDir, commands, instructions}
}

function renderPackaging(o: {version: string; arch: DarwinArch; installDir: string; commands: PkgInputs['commands']}): string {
  return [
    `Packaging esdctl ${o.version} for ${o.arch} Macs (written by npm run dist:darwin)`,
    '',
    `root/ installs esdctl, with its own Node, in ${o.installDir}; scripts/postinstall checks that it`,
    `runs and links ${INSTALL_LINK} to ${o.installDir}/bin/esdctl.`,
    '',
    'On a Mac, in this directory (first set INSTALLER_IDENTITY to your "Developer ID Installer: …"',
    'certificate and NOTARY_PROFILE to a notarytool store-credentials profile):',
    ...(['pkgbuild', 'productbuild', 'notarytool', 'stapler'] as const).map(k => `  ${commandLine(o.commands[k])}`),
    '',
  ].join('\n')
}
