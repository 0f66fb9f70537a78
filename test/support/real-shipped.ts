import {existsSync} from 'node:fs'
import {join, resolve} from 'node:path'
import {REPO_ROOT} from './real-artifacts.js'
import {skipBecause} from './skip.js'

/** The shared, read-only real packages and bundles (their READMEs give provenance and SHA-256). */
export const REAL_PACKAGES_DIR = resolve(REPO_ROOT, '..', 'shared', 'fixtures', 'real-packages')
export const REAL_BUNDLES_DIR = resolve(REPO_ROOT, '..', 'shared', 'fixtures', 'real-bundles')

export type RealPackageName = 'Karabiner-DriverKit-VirtualHIDDevice-6.0.0.pkg' | 'Karabiner-DriverKit-VirtualHIDDevice-6.10.0.pkg'

/** The path of a real fixture, or a skip (with the reason) when the shared folder is absent. */
export function realShipped(ctx: Mocha.Context, dir: string, name: string): string {
  const p = join(dir, name)
  if (!existsSync(p)) {
    skipBecause(ctx, 'fixtures-absent')
  }
  return p
}

export const realPackage = (ctx: Mocha.Context, name: RealPackageName) => realShipped(ctx, REAL_PACKAGES_DIR, name)
export const operaBundle = (ctx: Mocha.Context) => realShipped(ctx, REAL_BUNDLES_DIR, 'Opera Beta Installer.app')
