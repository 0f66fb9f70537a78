import {DOMParser, type Element} from '@xmldom/xmldom'
import {FormatError} from './format-error.js'

/**
 * A component package's `PackageInfo` (the XML `pkgbuild` writes; element and attribute names are
 * Apple's): the `<pkg-info>` root's identifier, version, install-location and auth, and the scripts
 * its `<scripts>` element names (`<preinstall file="./preinstall"/>`, `<postinstall …/>`).
 */
export interface PackageInfo {
  identifier?: string
  version?: string
  installLocation?: string
  auth?: string
  /** Script kind (`preinstall`, `postinstall`) to the file named in the Scripts archive. */
  scripts: Array<{kind: string; file: string}>
  /** `<payload numberOfFiles installKBytes>`, when present. */
  payload?: {numberOfFiles?: number; installKBytes?: number}
}

/** Also the bound for Distribution: both are a few kilobytes. */
export const MAX_PACKAGE_XML_BYTES = 1024 * 1024

export function parseXmlDocument(xml: string, what: string): Element {
  try {
    const doc = new DOMParser({
      onError: (level, message) => {
        if (level !== 'warning') throw new Error(message)
      },
    }).parseFromString(xml, 'text/xml')
    if (!doc.documentElement) throw new Error('no root element')
    return doc.documentElement
  } catch (e) {
    throw new FormatError('package.xml', `${what}: not well-formed XML (${(e as Error).message})`)
  }
}

export function childElements(el: Element, name?: string): Element[] {
  const out: Element[] = []
  for (let n = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1 && (name === undefined || (n as Element).tagName === name)) out.push(n as Element)
  }
  return out
}

function attr(el: Element, name: string): string | undefined {
  return el.hasAttribute(name) ? el.getAttribute(name)! : undefined
}

function count(el: Element | undefined, name: string): number | undefined {
  const v = el ? attr(el, name) : undefined
  return v !== undefined && /^\d{1,15}$/.test(v) ? Number(v) : undefined
}

/** Parses PackageInfo; FormatError naming `what` when it is not XML or its root is not `<pkg-info>`. */
export function parsePackageInfo(xml: string, what: string): PackageInfo {
  const root = parseXmlDocument(xml, what)
  if (root.tagName !== 'pkg-info') throw new FormatError('package.xml', `${what}: the root element is <${root.tagName}>, not <pkg-info>`)
  const info: PackageInfo = {scripts: []}
  const identifier = attr(root, 'identifier')
  if (identifier !== undefined) info.identifier = identifier
  const version = attr(root, 'version')
  if (version !== undefined) info.version = version
  const location = attr(root, 'install-location')
  if (location !== undefined) info.installLocation = location
  const auth = attr(root, 'auth')
  if (auth !== undefined) info.auth = auth
  for (const scripts of childElements(root, 'scripts')) {
    for (const s of childElements(scripts)) info.scripts.push({kind: s.tagName, file: attr(s, 'file') ?? ''})
  }
  const payload = childElements(root, 'payload')[0]
  if (payload) {
    info.payload = {}
    const files = count(payload, 'numberOfFiles')
    if (files !== undefined) info.payload.numberOfFiles = files
    const kb = count(payload, 'installKBytes')
    if (kb !== undefined) info.payload.installKBytes = kb
  }
  return info
}

/**
 * What a product archive's `Distribution` says about itself: the `<product id version>` when present,
 * and the component packages its `<pkg-ref>` elements name (`#Foo.pkg` references).
 */
export interface DistributionInfo {
  productId?: string
  productVersion?: string
  title?: string
  packageRefs: Array<{id: string; version?: string; ref?: string}>
}

export function parseDistribution(xml: string, what: string): DistributionInfo {
  const root = parseXmlDocument(xml, what)
  if (root.tagName !== 'installer-gui-script' && root.tagName !== 'installer-script') {
    throw new FormatError('package.xml', `${what}: the root element is <${root.tagName}>, not <installer-gui-script>`)
  }
  const out: DistributionInfo = {packageRefs: []}
  const product = childElements(root, 'product')[0]
  if (product) {
    const id = attr(product, 'id')
    if (id !== undefined) out.productId = id
    const v = attr(product, 'version')
    if (v !== undefined) out.productVersion = v
  }
  const title = childElements(root, 'title')[0]?.textContent?.trim()
  if (title) out.title = title
  for (const ref of childElements(root, 'pkg-ref')) {
    const id = attr(ref, 'id')
    if (id === undefined) continue
    const entry: DistributionInfo['packageRefs'][number] = {id}
    const v = attr(ref, 'version')
    if (v !== undefined) entry.version = v
    const text = ref.textContent?.trim()
    if (text) entry.ref = text
    out.packageRefs.push(entry)
  }
  return out
}
