import {FormatError, isFormatError} from '../formats/format-error.js'
import {readCpioOdc} from '../formats/cpio-odc.js'
import {MAX_PACKAGE_XML_BYTES, parseDistribution, parsePackageInfo, type PackageInfo} from '../formats/package-info.js'
import {MAX_HEADER_BYTES, parseXarHeader, readXarToc, type XarHeader} from '../formats/xar.js'
import {parseTicketTrailer, TRAILER_BYTES, type StapledRegion} from '../formats/xar-ticket-trailer.js'
import type {XarEntry, XarToc} from '../formats/xar-toc.js'
import {cpioBytes} from '../io/payload-stream.js'
import {RandomAccessFile} from '../io/random-access-file.js'
import {digestFor, xarDataChunks, type XarDataDigests} from '../io/xar-data.js'
import {checkStapledTicket, type NotarizationReport} from './check-notarization.js'
import {finding, namingPath, type Finding} from './finding.js'
import {scanPayload} from './package-payload.js'
import type {ComponentReport, ContainedItemReport, PackageReport} from './package-report.js'
import {checkPackageSignature} from './package-signature.js'
import type {VerifyReport} from './report.js'
import type {ResolvedVerifyOptions} from './verify-options.js'

/** Bounds on what a package may make esdctl read; a package past them is a finding, not a cost. */
export interface PackageLimits {
  /** Decoded bytes of one xar member. */
  memberBytes: number
  /** Decompressed cpio bytes of one Payload or Scripts archive. */
  payloadBytes: number
  /** One bundle or executable taken out of the payload for checking. */
  itemBytes: number
}

export const DEFAULT_PACKAGE_LIMITS: PackageLimits = {
  memberBytes: 16 * 1024 * 1024 * 1024,
  payloadBytes: 16 * 1024 * 1024 * 1024,
  itemBytes: 2 * 1024 * 1024 * 1024,
}

export interface PackageVerification {
  findings: Finding[]
  package?: PackageReport
  items: ContainedItemReport[]
  notarization?: NotarizationReport
}

interface Ctx {
  path: string
  file: RandomAccessFile
  header: XarHeader
  archiveEnd: number
  opts: ResolvedVerifyOptions
  limits: PackageLimits
  verifyItem: (path: string) => Promise<VerifyReport>
  findings: Finding[]
}

/**
 * Verifies a flat installer package (xar): its TOC checksum and signatures (see package-signature.ts),
 * every member's archived and extracted checksums, the product archive's Distribution and each
 * component's PackageInfo, the Scripts it runs, every bundle and Mach-O file in each Payload (with
 * the on-disk verifier, `verifyItem`), and the notarization ticket stapled after the archive.
 * Streams every member; never throws for a bad package.
 */
export async function verifyPackage(path: string, opts: ResolvedVerifyOptions, verifyItem: (path: string) => Promise<VerifyReport>, limits: PackageLimits = DEFAULT_PACKAGE_LIMITS): Promise<PackageVerification> {
  let file: RandomAccessFile
  try {
    file = await RandomAccessFile.open(path)
  } catch (e) {
    return {findings: [finding('input.unreadable', path, `${path}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`)], items: []}
  }
  try {
    return await verifyOpenPackage(path, file, opts, verifyItem, limits)
  } catch (e) {
    if (!isFormatError(e)) throw e
    return {findings: [finding('package.malformed', path, namingPath(path, e.message))], items: []}
  } finally {
    await file.close()
  }
}

// IN_SIZE_READS: the header, trailer and TOC reads lie inside the size taken when the file was opened,
// so their descriptions show only in a short read, which needs the file to shrink before verify has
// read a member; nothing of esdctl runs in that window.
async function verifyOpenPackage(path: string, file: RandomAccessFile, opts: ResolvedVerifyOptions, verifyItem: Ctx['verifyItem'], limits: PackageLimits): Promise<PackageVerification> {
  // Stryker disable next-line StringLiteral: an in-size read, see IN_SIZE_READS
  const header = parseXarHeader(await file.read(0, Math.min(file.size, MAX_HEADER_BYTES), 'the xar header'), file.size, path)
  let stapled: StapledRegion | undefined
  if (file.size >= header.heapStart + TRAILER_BYTES) {
    // Stryker disable next-line StringLiteral: an in-size read, see IN_SIZE_READS
    stapled = parseTicketTrailer(await file.read(file.size - TRAILER_BYTES, TRAILER_BYTES, 'the last 16 bytes'), file.size, path)
  }
  const archiveEnd = stapled && stapled.archiveEnd >= header.heapStart ? stapled.archiveEnd : file.size
  // Stryker disable next-line StringLiteral: an in-size read, see IN_SIZE_READS (parseXarHeader has checked that the TOC ends inside the file)
  const compressedToc = await file.read(header.headerSize, header.tocCompressedLength, 'the compressed TOC')
  const toc = readXarToc(header, compressedToc, path)
  const ctx: Ctx = {path, file, header, archiveEnd, opts, limits, verifyItem, findings: []}

  const signature = await checkPackageSignature({
    path, toc, compressedToc, checksumAlgorithm: header.checksumAlgorithm,
    readHeap: (offset, size, what) => readHeap(ctx, offset, size, what),
  }, opts)
  ctx.findings.push(...signature.findings)

  const members = await readMembers(ctx, toc)
  const pkg: PackageReport = {
    format: members.distribution ? 'product-archive' : 'component-package',
    signer: signature.signer,
    notarization: {stapled: false, verified: false, cdhashes: []},
    scripts: members.components.flatMap(c => c.scripts),
    components: members.components,
  }
  const first = members.components[0]
  const identifier = members.distribution?.productId ?? first?.identifier
  if (identifier) pkg.identifier = identifier
  const version = members.distribution?.productVersion ?? first?.version
  if (version) pkg.version = version
  if (first?.installLocation) pkg.installLocation = first.installLocation
  if (signature.leaf?.commonName) pkg.signerName = signature.leaf.commonName
  if (signature.leaf?.teamId) pkg.teamId = signature.leaf.teamId
  if (signature.timestamp) pkg.timestamp = signature.timestamp.toISOString()

  if (stapled) {
    const bytes = await file.read(stapled.offset, stapled.length, 'the stapled ticket')
    const subjects = signature.checksum ? [{label: `${path} (its table-of-contents checksum)`, hashes: [signature.checksum.subarray(0, 20).toString('hex')]}] : []
    const judged = checkStapledTicket(bytes, `${path} (stapled ticket)`, subjects, opts.trust)
    pkg.notarization = judged.report
    ctx.findings.push(...judged.findings)
  } else if (await damagedTicketRegion(ctx, toc)) {
    pkg.notarization = {stapled: true, verified: false, cdhashes: []}
    ctx.findings.push(finding('notarization.malformed', path, `${path}: a stapled-ticket region follows the archive but its closing trailer is missing (the file was cut short, or bytes were appended after the ticket); macOS ignores it and asks Apple online`, 'Download the package again, or staple it again (xcrun stapler staple <pkg>).'))
  }
  for (const item of members.items) ctx.findings.push(...item.findings)
  return {findings: ctx.findings, package: pkg, items: members.items, notarization: pkg.notarization}
}

/** True when what follows the heap's last byte is a `t8lr` terminator trailer but the file does not end with a ticket trailer. */
async function damagedTicketRegion(ctx: Ctx, toc: XarToc): Promise<boolean> {
  const regions = [toc.checksum, toc.signature, toc.xSignature].filter(r => r !== undefined).map(r => r.offset + r.size)
  const heapEnd = Math.max(0, ...regions, ...toc.entries.map(e => (e.data ? e.data.offset + e.data.length : 0)))
  const at = ctx.header.heapStart + heapEnd
  if (at + TRAILER_BYTES > ctx.file.size) return false
  return (await ctx.file.read(at, 4, 'the bytes after the heap')).toString('latin1') === 't8lr'
}

async function readHeap(ctx: Ctx, offset: number, size: number, what: string): Promise<Buffer> {
  const start = ctx.header.heapStart + offset
  if (start + size > ctx.archiveEnd) {
    // Stryker disable next-line StringLiteral: the only caller, checkPackageSignature, reports a region it cannot read by its message; the code is never looked at
    throw new FormatError('xar.truncated',
      `${ctx.path}: ${what} (heap offset ${offset}, ${size} bytes) lies past the end of the archive`)
  }
  return ctx.file.read(start, size, what)
}

interface Members {
  distribution?: ReturnType<typeof parseDistribution>
  components: ComponentReport[]
  items: ContainedItemReport[]
}

/** Reads every member with data once, in heap order, checking its checksums on the way. */
async function readMembers(ctx: Ctx, toc: XarToc): Promise<Members> {
  const out: Members = {components: [], items: []}
  const byPath = new Map(toc.entries.map(e => [e.path, e]))
  const componentPrefixes = byPath.has('PackageInfo') ? [''] : toc.entries.filter(e => e.type === 'directory' && !e.path.includes('/') && byPath.has(`${e.path}/PackageInfo`)).map(e => `${e.path}/`)
  const components = new Map(componentPrefixes.map(p => [p, {path: p.replace(/\/$/, ''), scripts: []} as ComponentReport]))
  for (const c of components.values()) out.components.push(c)

  const withData = toc.entries.filter(e => e.data).sort((a, b) => a.data!.offset - b.data!.offset)
  for (const entry of withData) {
    // -1 without a folder: slice(0, 0) is then ''. xar-toc.ts refuses empty names, so no path starts with '/'.
    const slash = entry.path.lastIndexOf('/')
    const prefix = entry.path.slice(0, slash + 1)
    const name = entry.path.slice(slash + 1)
    const component = components.get(prefix)
    await readMember(ctx, entry, async chunks => {
      if (entry.path === 'Distribution') {
        out.distribution = parseDistribution(await collect(chunks, MAX_PACKAGE_XML_BYTES, entry.path, ctx.path), `${ctx.path}:Distribution`)
      } else if (component && name === 'PackageInfo') {
        applyPackageInfo(component, parsePackageInfo(await collect(chunks, MAX_PACKAGE_XML_BYTES, entry.path, ctx.path), `${ctx.path}:${entry.path}`))
      } else if (component && name === 'Payload') {
        const scanned = await scanPayload(readCpioOdc(cpioBytes(chunks, `${ctx.path}:${entry.path}`, ctx.limits.payloadBytes), `${ctx.path}:${entry.path}`), {
          pkgPath: ctx.path, prefix: entry.path, verifyItem: ctx.verifyItem, maxItemBytes: ctx.limits.itemBytes,
        })
        out.items.push(...scanned.items)
        ctx.findings.push(...scanned.findings)
      } else if (component && name === 'Scripts') {
        for await (const m of readCpioOdc(cpioBytes(chunks, `${ctx.path}:${entry.path}`, ctx.limits.payloadBytes), `${ctx.path}:${entry.path}`)) {
          if (m.kind === 'file') component.scripts.push(`${prefix}Scripts/${m.path}`)
        }
      }
    })
  }
  return out
}

function applyPackageInfo(c: ComponentReport, info: PackageInfo): void {
  if (info.identifier !== undefined) c.identifier = info.identifier
  if (info.version !== undefined) c.version = info.version
  if (info.installLocation !== undefined) c.installLocation = info.installLocation
}

/**
 * Streams one member to `consume`, then reads whatever it left so both checksums cover every byte.
 * A member that cannot be decoded, or whose consumer finds it malformed, is a finding; so is a
 * checksum or size that differs from the TOC's.
 */
async function readMember(ctx: Ctx, entry: XarEntry, consume: (chunks: AsyncIterable<Buffer>) => Promise<void>): Promise<void> {
  const data = entry.data!
  const shown = `${ctx.path}:${entry.path}`
  const digests: XarDataDigests = {extractedBytes: 0}
  for (const [which, sum] of [['archived', data.archivedChecksum], ['extracted', data.extractedChecksum]] as const) {
    if (!sum) continue
    const hash = digestFor(sum.style)
    if (hash) digests[which] = {expected: sum.hex, hash}
    else ctx.findings.push(finding('package.checksum-mismatch', shown, `${shown}: the ${which} checksum uses the unknown style "${sum.style}", so it cannot be checked`))
  }
  const gen = xarDataChunks(ctx.file, ctx.header.heapStart, ctx.archiveEnd, data, digests, ctx.limits.memberBytes)
  // The consumer may stop early (a cpio trailer); an iterator without return() keeps `gen` open for the drain below.
  const keepOpen: AsyncIterable<Buffer> = {[Symbol.asyncIterator]: () => ({next: () => gen.next()})}
  const report = (e: FormatError) => {
    const id = e.code.endsWith('too-large') ? 'package.too-large' : e.code.startsWith('xar.') ? 'package.malformed' : 'package.payload-unreadable'
    ctx.findings.push(finding(id, shown, e.message.startsWith(ctx.path) ? e.message : namingPath(shown, e.message)))
  }
  let consumerError: FormatError | undefined
  try {
    await consume(keepOpen)
  } catch (e) {
    if (!isFormatError(e)) {
      // `gen` holds a decoder and pending reads until it is closed (its finally): a failing verifier must not leak them.
      await gen.return(undefined)
      throw e
    }
    consumerError = e
  }
  if (consumerError?.code.startsWith('xar.')) {
    // The member's own bytes could not be read: its checksums cannot be completed.
    report(consumerError)
    await gen.return(undefined)
    return
  }
  try {
    for await (const _ of gen) {
      // drained for the checksums
    }
  } catch (e) {
    // Stryker disable next-line ConditionalExpression: xarDataChunks turns every failure of its reads and of its decoder into a FormatError (its catch), so the drain sees nothing else; the rethrow is for a fault of esdctl itself
    if (!isFormatError(e)) throw e
    report(e)
    return
  }
  for (const which of ['archived', 'extracted'] as const) {
    const d = digests[which]
    if (!d) continue
    const actual = d.hash.digest('hex')
    if (actual !== d.expected) {
      ctx.findings.push(finding('package.checksum-mismatch', shown, `${shown}: the ${which} checksum is ${actual} but the table of contents says ${d.expected}; the member was altered after the package was built`, 'Rebuild and sign the package again; ship it unmodified.'))
    }
  }
  if (digests.extractedBytes !== data.size) {
    ctx.findings.push(finding('package.checksum-mismatch', shown, `${shown}: decodes to ${digests.extractedBytes} bytes but the table of contents says ${data.size}`, 'Rebuild and sign the package again; ship it unmodified.'))
  }
  if (consumerError) report(consumerError)
}

async function collect(chunks: AsyncIterable<Buffer>, max: number, member: string, pkg: string): Promise<string> {
  const parts: Buffer[] = []
  let n = 0
  for await (const c of chunks) {
    n += c.length
    if (n > max) throw new FormatError('package.xml-too-large', `${pkg}:${member}: larger than ${max} bytes`)
    parts.push(c)
  }
  return Buffer.concat(parts).toString('utf8')
}
