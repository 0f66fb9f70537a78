import {basename} from 'node:path'
import type {CpioEntry} from '../formats/cpio-odc.js'
import {isFormatError} from '../formats/format-error.js'
import {isMachOMagic} from '../formats/macho-magic.js'
import {hasErrorCode} from '../io/error-code.js'
import {StagedTree} from '../io/staged-tree.js'
import {finding, type Finding} from './finding.js'
import {containedKinds, type ContainedItemReport} from './package-report.js'
import type {VerifyReport} from './report.js'

/** Folders macOS treats as bundles of code; the outermost one on a path is verified as a whole. */
const BUNDLE_EXTENSIONS = /\.(app|appex|xpc|systemextension|dext|framework|bundle|plugin|kext)$/
/** One item (a bundle or an executable) taken out of a payload for checking; daemons are megabytes. */
export const MAX_ITEM_BYTES = 2 * 1024 * 1024 * 1024

export interface PayloadScanContext {
  /** How the package is named in findings. */
  pkgPath: string
  /** `Payload` or `<component>.pkg/Payload`: prefixes the items' paths in the report ('' for none: an archive's members). */
  prefix: string
  /** The finding for an item that could not be taken out for checking. Default: package.item-unchecked. */
  uncheckedId?: 'package.item-unchecked' | 'archive.item-unchecked'
  /** The on-disk verifier (`verifyPath`), passed in so this module does not import its caller. */
  verifyItem: (path: string) => Promise<VerifyReport>
  maxItemBytes?: number
  /**
   * Also verify a flat `.pkg`/`.mpkg` or a `.provisionprofile` outside any bundle, chosen by its name
   * as `verifyFolder` chooses it: an archive is read like a folder. A package's payload is not (its
   * files are what the installer writes, not things handed to esdctl), so it stays off there.
   */
  namedItems?: boolean
}

interface Staging {
  root: string
  stage: StagedTree
  problem?: string
}

/** The outermost bundle folder on `path` (e.g. `Applications/X.app`), if any. */
export function bundleRootOf(path: string): string | undefined {
  const parts = path.split('/')
  const i = parts.findIndex(p => BUNDLE_EXTENSIONS.test(p))
  return i < 0 ? undefined : parts.slice(0, i + 1).join('/')
}

/**
 * Walks a payload's cpio members once, in order, and verifies every bundle and every bare Mach-O file
 * in it with the on-disk verifier. The verifier reads files, so each item — and only that item — is
 * written to a private temporary folder while its members stream by, checked, and removed before the
 * next one starts (pkgbuild writes a bundle's members together). Nothing else is written to disk and
 * no member is held in memory.
 */
export async function scanPayload(entries: AsyncIterable<CpioEntry>, ctx: PayloadScanContext): Promise<{items: ContainedItemReport[]; findings: Finding[]}> {
  const items: ContainedItemReport[] = []
  const findings: Finding[] = []
  const finished = new Set<string>()
  const max = ctx.maxItemBytes ?? MAX_ITEM_BYTES
  let current: Staging | undefined

  const finish = async () => {
    if (!current) return
    const c = current
    current = undefined
    finished.add(c.root)
    try {
      items.push(await judge(ctx, c, basename(c.root), 'bundle'))
    } finally {
      await c.stage.remove()
    }
  }

  try {
    for await (const e of entries) {
      const root = bundleRootOf(e.path)
      if (current && root !== current.root) await finish()
      if (root) {
        if (!current) {
          if (finished.has(root)) {
            const where = ctx.prefix ? `${ctx.prefix}/${root}` : root
            findings.push(finding(ctx.uncheckedId ?? 'package.item-unchecked', `${ctx.pkgPath}:${where}`, `${ctx.pkgPath}: the members of ${where} are not stored together, so esdctl checked the bundle without ${e.path}`))
            continue
          }
          current = {root, stage: await StagedTree.create(max)}
        }
        await stageMember(current, e, basename(root) + e.path.slice(root.length))
      } else if (e.kind === 'file') {
        const item = await bareFile(ctx, e, max)
        if (item) items.push(item)
      }
    }
    // Outside the finally below: a verifier that fails on the last item must fail the scan, not drop the item.
    await finish()
  } finally {
    // A payload that broke off mid-bundle: still judge what arrived (finish removes the copy
    // whatever happens, and does nothing when no bundle is open); the payload's own error is the one to report.
    await finish().catch(() => undefined)
  }
  return {items, findings}
}

/**
 * A problem writing the temporary copy (too large, a member under a link, the disk): the item goes
 * unchecked. A FormatError from the payload itself is not one: it propagates and ends the scan.
 */
function isStagingError(err: unknown): boolean {
  if (isFormatError(err)) return err.code.startsWith('stage.')
  return hasErrorCode(err)
}

/** AppleDouble (`._name`, magic 00 05 16 07): how pkgbuild's cpio carries a file's extended attributes. */
const APPLE_DOUBLE_MAGIC = Buffer.from([0x00, 0x05, 0x16, 0x07])

/** The first `n` bytes of a member's body (fewer when it is shorter), and all of its bytes again. */
async function peek(body: AsyncGenerator<Buffer>, n: number): Promise<{head: Buffer; all: AsyncGenerator<Buffer>}> {
  let head = Buffer.alloc(0)
  // Stryker disable next-line EqualityOperator: one more chunk read into head changes nothing: `all` yields head, then the rest, the same bytes in the same order
  while (head.length < n) {
    const next = await body.next()
    if (next.done) break
    head = Buffer.concat([head, next.value])
  }
  return {head, all: (async function* () {
    // An empty head (an empty file) is an empty write for the consumer.
    yield head
    yield* body
  })()}
}

async function stageMember(c: Staging, e: CpioEntry, rel: string): Promise<void> {
  if (c.problem) return
  try {
    if (e.kind === 'dir') await c.stage.addDir(rel)
    else if (e.kind === 'symlink') await c.stage.addSymlink(rel, e.linkTarget ?? '')
    else if (e.kind === 'file') {
      const {head, all} = await peek(e.body(), 4)
      // The installer turns these into extended attributes of their sibling, never into files, and
      // extended attributes are outside the seal: staging one as a file would read as seal.added.
      if (basename(rel).startsWith('._') && head.subarray(0, 4).equals(APPLE_DOUBLE_MAGIC)) return
      await c.stage.addFile(rel, all)
    }
  } catch (err) {
    if (!isStagingError(err)) throw err
    c.problem = (err as Error).message
  }
}

/**
 * What a file outside any bundle is by its name alone, for a folder or an archive: a flat installer
 * package (`.pkg`, `.mpkg`) or a provisioning profile; undefined for any other name.
 */
export function namedKindOf(path: string): 'package' | 'profile' | undefined {
  if (/\.(pkg|mpkg)$/i.test(path)) return 'package'
  if (/\.provisionprofile$/i.test(path)) return 'profile'
  return undefined
}

/**
 * A file outside any bundle is checked when its first bytes are a Mach-O magic, or (namedItems) when
 * its name makes it a flat package or a profile. xar needs random access, so the member is spooled to
 * the private temporary folder like any item: bounded by `maxItemBytes` and the archive's own limits.
 */
async function bareFile(ctx: PayloadScanContext, e: CpioEntry, max: number): Promise<ContainedItemReport | undefined> {
  const {head, all} = await peek(e.body(), 4)
  const kind = isMachOMagic(head) ? 'macho' : ctx.namedItems ? namedKindOf(e.path) : undefined
  if (!kind) return undefined
  const c: Staging = {root: e.path, stage: await StagedTree.create(max)}
  try {
    await c.stage.addFile(basename(e.path), all).catch(err => {
      if (!isStagingError(err)) throw err
      c.problem = (err as Error).message
    })
    return await judge(ctx, c, basename(e.path), kind)
  } finally {
    await c.stage.remove()
  }
}

async function judge(ctx: PayloadScanContext, c: Staging, name: string, kind: ContainedItemReport['kind']): Promise<ContainedItemReport> {
  const inPackage = ctx.prefix ? `${ctx.prefix}/${c.root}` : c.root
  const shown = `${ctx.pkgPath}:${inPackage}`
  const unchecked = ctx.uncheckedId ?? 'package.item-unchecked'
  if (c.problem) {
    const f = finding(unchecked, shown, `${shown}: could not be taken out of the ${ctx.prefix ? 'payload' : 'archive'} for checking (${c.problem})`)
    return {path: inPackage, kind, slices: [], findings: [f]}
  }
  const staged = c.stage.path(name)
  const r = await ctx.verifyItem(staged)
  const rewrite = (s: string) => s.split(staged).join(shown)
  const findings = r.findings.map(f => {
    const out: Finding = {...f, path: rewrite(f.path), message: rewrite(f.message)}
    if (f.fix) out.fix = rewrite(f.fix)
    return out
  })
  // A .pkg or .provisionprofile (chosen by its name) of 0 bytes is empty, as in a folder: its error stands (an empty file is of no kind).
  const empty = findings.filter(f => f.id === 'input.empty')
  if (empty.length > 0) return {path: inPackage, kind, slices: [], findings: empty}
  if (r.kind === 'unknown') {
    return {path: inPackage, kind, slices: [], findings: [finding(unchecked, shown, `${shown}: esdctl cannot verify this kind of item yet (${findings.map(f => f.message).join('; ')})`, 'Check it on a Mac: codesign --verify --deep --strict <path>.')]}
  }
  // A staged member is a bundle directory, a Mach-O, a package or a profile, and verifyItem reports it as that kind ('unknown' is handled above).
  // Stryker disable next-line ConditionalExpression: see above, so the test only narrows the type; 'folder' and 'archive' never come back here
  const judged = r.kind === 'macho' || r.kind === 'package' || r.kind === 'profile' ? r.kind : 'bundle'
  const item: ContainedItemReport = {path: inPackage, kind: judged, slices: [...r.slices, ...(r.items ?? []).flatMap(i => i.slices)], findings}
  if (r.profile) item.profile = {...r.profile, path: rewrite(r.profile.path)}
  if (r.notarization) item.notarization = r.notarization
  if (r.items?.length) item.contains = containedKinds(r.items)
  return item
}
