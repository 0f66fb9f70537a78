import {DOMParser, type Element} from '@xmldom/xmldom'
import {FormatError} from './format-error.js'

/** A region of the heap: `offset` from the heap's start, `size` bytes. */
export interface HeapRegion {
  offset: number
  size: number
}

export interface XarChecksumRef extends HeapRegion {
  /** The TOC's `style` attribute, e.g. `sha1`. */
  style: string
}

export interface XarSignatureRef extends HeapRegion {
  /** `RSA` for `<signature>`, `CMS` for `<x-signature>`. */
  style: string
  /** The DER certificates of `KeyInfo/X509Data`, in TOC order (leaf first). */
  certificates: Buffer[]
}

export interface XarDigest {
  style: string
  /** Lower-case hex. */
  hex: string
}

export interface XarData {
  /** Offset of the archived bytes from the heap's start. */
  offset: number
  /** Archived (encoded) length in the heap. */
  length: number
  /** Extracted (decoded) size. */
  size: number
  /** `application/octet-stream`, `application/x-gzip` (zlib), `application/x-bzip2`, … */
  encoding: string
  archivedChecksum?: XarDigest
  extractedChecksum?: XarDigest
}

export interface XarEntry {
  id: string
  /** Slash-separated path from the archive root; every component a plain name. */
  path: string
  type: string
  data?: XarData
  /** A symlink's target. */
  link?: string
}

export interface XarToc {
  checksum?: XarChecksumRef
  signature?: XarSignatureRef
  xSignature?: XarSignatureRef
  entries: XarEntry[]
}

export const MAX_XAR_ENTRIES = 200_000
const MAX_DEPTH = 64
const MAX_CERTIFICATES = 16

/**
 * Parses the XML table of contents of a xar archive (see `xar.ts` for the header). Element and
 * attribute names are xar's own. Directories' `<file>` children are flattened into `entries` with
 * their full path. Throws FormatError naming `what` and the element for anything not well formed:
 * bad XML, numbers that are not plain non-negative integers, names with `/` or `..`, too many entries.
 */
export function parseXarToc(xml: string, what: string): XarToc {
  let doc: ReturnType<DOMParser['parseFromString']>
  try {
    doc = new DOMParser({
      onError: (level, message) => {
        if (level !== 'warning') throw new Error(message)
      },
    }).parseFromString(xml, 'text/xml')
  } catch (e) {
    throw new FormatError('xar.toc-xml', `${what}: the TOC is not well-formed XML (${(e as Error).message})`)
  }
  const root = doc.documentElement
  if (!root || root.tagName !== 'xar') throw new FormatError('xar.toc-xml', `${what}: the TOC's root element is not <xar>`)
  const toc = child(root, 'toc')
  if (!toc) throw new FormatError('xar.toc-xml', `${what}: the TOC has no <toc> element`)
  const out: XarToc = {entries: []}
  const checksum = child(toc, 'checksum')
  if (checksum) out.checksum = {style: checksum.getAttribute('style') ?? '', ...region(checksum, `${what}: <checksum>`)}
  const signature = child(toc, 'signature')
  if (signature) out.signature = signatureRef(signature, `${what}: <signature>`)
  const xSignature = child(toc, 'x-signature')
  if (xSignature) out.xSignature = signatureRef(xSignature, `${what}: <x-signature>`)
  collectFiles(toc, '', 0, out.entries, what)
  return out
}

function children(el: Element, name: string): Element[] {
  const out: Element[] = []
  for (let n = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1 && (n as Element).tagName === name) out.push(n as Element)
  }
  return out
}

function child(el: Element, name: string): Element | undefined {
  return children(el, name)[0]
}

function text(el: Element | undefined): string | undefined {
  return el ? (el.textContent ?? '').trim() : undefined
}

function integer(el: Element, name: string, where: string): number {
  const s = text(child(el, name))
  if (s === undefined) throw new FormatError('xar.toc-field', `${where} has no <${name}>`)
  if (!/^\d{1,16}$/.test(s) || !Number.isSafeInteger(Number(s))) throw new FormatError('xar.toc-field', `${where}: <${name}> "${s.slice(0, 40)}" is not a non-negative integer`)
  return Number(s)
}

function region(el: Element, where: string): HeapRegion {
  return {offset: integer(el, 'offset', where), size: integer(el, 'size', where)}
}

function signatureRef(el: Element, where: string): XarSignatureRef {
  const x509 = child(child(el, 'KeyInfo') ?? el, 'X509Data')
  const certs = x509 ? children(x509, 'X509Certificate') : []
  if (certs.length > MAX_CERTIFICATES) throw new FormatError('xar.toc-field', `${where}: more than ${MAX_CERTIFICATES} certificates`)
  return {
    style: el.getAttribute('style') ?? '',
    ...region(el, where),
    certificates: certs.map(c => {
      const b64 = (text(c) ?? '').replace(/\s+/g, '')
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length === 0) throw new FormatError('xar.toc-field', `${where}: an X509Certificate is not base64`)
      return Buffer.from(b64, 'base64')
    }),
  }
}

function digest(el: Element | undefined): XarDigest | undefined {
  if (!el) return undefined
  return {style: el.getAttribute('style') ?? '', hex: (text(el) ?? '').toLowerCase()}
}

function collectFiles(parent: Element, prefix: string, depth: number, out: XarEntry[], what: string): void {
  if (depth > MAX_DEPTH) throw new FormatError('xar.toc-depth', `${what}: files nested more than ${MAX_DEPTH} levels deep`)
  for (const f of children(parent, 'file')) {
    if (out.length >= MAX_XAR_ENTRIES) throw new FormatError('xar.toc-entries', `${what}: more than ${MAX_XAR_ENTRIES} files`)
    const name = text(child(f, 'name')) ?? ''
    if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
      throw new FormatError('xar.toc-name', `${what}: a <file> under "${prefix || '/'}" has the unsafe name "${name.slice(0, 80)}"`)
    }
    const path = prefix ? `${prefix}/${name}` : name
    const where = `${what}: <file> ${path}`
    const entry: XarEntry = {id: f.getAttribute('id') ?? '', path, type: text(child(f, 'type')) ?? 'file'}
    const data = child(f, 'data')
    if (data) {
      const encoding = child(data, 'encoding')?.getAttribute('style') ?? 'application/octet-stream'
      entry.data = {offset: integer(data, 'offset', where), length: integer(data, 'length', where), size: integer(data, 'size', where), encoding}
      const archived = digest(child(data, 'archived-checksum'))
      if (archived) entry.data.archivedChecksum = archived
      const extracted = digest(child(data, 'extracted-checksum'))
      if (extracted) entry.data.extractedChecksum = extracted
    }
    const link = text(child(f, 'link'))
    if (link !== undefined) entry.link = link
    out.push(entry)
    collectFiles(f, path, depth + 1, out, what)
  }
}
