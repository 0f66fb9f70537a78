import {codeLoadingVariables} from '../adapters/process-identity.js'
import {TEMP_SUFFIX, RootFs} from '../adapters/root-fs.js'
import {ExitCode} from '../exit-codes.js'
import {dirname, resolve} from 'node:path'
import type {PlacedLink} from '../layout/daemon-links.js'
import type {PrefixLayout, ToolPaths} from '../layout/prefix-layout.js'
import {checkAncestors} from '../safety/check-ancestors.js'
import type {LifecycleContext} from './context.js'
import {LifecycleError} from './lifecycle-error.js'

/** Mutating commands need effective uid 0 and a node that was not told to preload foreign code. */
export function requireRootProcess(ctx: LifecycleContext, action: string): void {
  const euid = ctx.identity.euid()
  if (euid !== 0) {
    throw new LifecycleError(ExitCode.notRoot, `esdctl ${action} changes system files and must run as root (effective uid is ${euid}); run it again with sudo`)
  }
  const variables = codeLoadingVariables(ctx.identity)
  if (variables.length > 0) {
    throw new LifecycleError(ExitCode.unsafeEnvironment,
      `refusing to run as root with ${variables.join(' and ')} set: they make node load code chosen by whoever set them; unset them (sudo normally strips them) and run again`,
      variables.map((v) => `${v} is set`))
  }
}

/**
 * An image root (`--root` other than `/`) must already be a directory: esdctl lays files into an
 * image, it does not make one up (a mistyped --root would otherwise become a fresh tree, as
 * status and doctor refuse it too). badInput naming the flag; checked before anything is created.
 */
export async function requireExistingRoot(ctx: LifecycleContext): Promise<void> {
  if (resolve(ctx.root) === '/') return
  const stat = await ctx.fs.lstat(ctx.root)
  if (stat?.isDirectory() === true) return
  throw new LifecycleError(ExitCode.badInput, `--root ${ctx.root} ${stat === undefined ? 'does not exist' : 'is not a directory'}; give the directory that stands for / of the image (esdctl does not create it)`)
}

/**
 * What esdctl may change for this daemon: its prefix, its one plist, the links it maintains outside
 * the prefix (each with its temporary sibling), esdctl's own directory, and `paths` (the plists of
 * legacy jobs an adoption replaces).
 */
export function daemonFs(ctx: LifecycleContext, layout: PrefixLayout, tool: ToolPaths, links: readonly PlacedLink[] = layout.links, paths: readonly string[] = []): RootFs {
  const outside = links.filter((l) => !layout.isInsidePrefix(l.path)).flatMap((l) => [l.path, l.path + TEMP_SUFFIX])
  return ctx.fs.restrictedTo([layout.prefix, layout.launchdPlist, layout.launchdPlist + TEMP_SUFFIX, tool.dir, ...outside, ...paths])
}

function expectKind(path: string, stat: Awaited<ReturnType<RootFs['lstat']>>, kind: 'directory' | 'file'): string | undefined {
  if (stat === undefined) return undefined
  if (stat.isSymbolicLink()) return `${path} has been replaced by a symbolic link; esdctl owns this path and never acts through a link — remove the link (and check how it got there)`
  if (kind === 'directory' && !stat.isDirectory()) return `${path} should be a directory but is not; move it away and run again`
  if (kind === 'file' && !stat.isFile()) return `${path} should be a regular file but is not; move it away and run again`
  return undefined
}

/**
 * Before anything is written: every directory from each target up to `/` must be root-owned and
 * not writable by others, and every path esdctl owns must still be what esdctl left there (a
 * directory, a file, or the bin link pointing into the bundle), never a planted link.
 */
export async function checkTargets(ctx: LifecycleContext, layout: PrefixLayout, tool: ToolPaths, links: readonly PlacedLink[] = layout.links): Promise<void> {
  const targets = [...new Set([layout.prefix, layout.stateDir, layout.staging, layout.rollbackSlot, layout.etc, layout.var, layout.bin, layout.launchDaemonsDir, tool.dir, ...links.map((l) => dirname(l.path))])]
  const problems = new Map<string, string>()
  for (const target of targets) {
    for (const offender of await checkAncestors(target)) problems.set(offender.directory, offender.message)
  }
  if (problems.size > 0) {
    const details = [...problems.values()]
    throw new LifecycleError(ExitCode.unsafeEnvironment, `unsafe directory: ${details[0]}`, details)
  }
  const fs = ctx.fs
  const owned: [string, 'directory' | 'file'][] = [
    [layout.app, 'directory'], [layout.lib, 'directory'], [layout.modules, 'directory'], [layout.share, 'directory'],
    // The receipt and the registry are not here: a link or directory there is a damaged record,
    // which the session moves aside (without following it) and rebuilds (records/repair-records.ts).
    [layout.journal, 'file'], [layout.auditLog, 'file'], [layout.launchdPlist, 'file'], [tool.lock, 'file'],
  ]
  const found: string[] = []
  for (const [path, kind] of owned) {
    const problem = expectKind(path, await fs.lstat(path), kind)
    if (problem) found.push(problem)
  }
  for (const link of links) {
    const stat = await fs.lstat(link.path)
    if (stat !== undefined && !stat.isSymbolicLink()) {
      found.push(`${link.path} should be esdctl's link to ${link.text} but is a ${stat.isDirectory() ? 'directory' : 'file'}; move it away and run again`)
    }
  }
  if (found.length > 0) throw new LifecycleError(ExitCode.unsafeEnvironment, `unsafe path: ${found[0]}`, found)
}
