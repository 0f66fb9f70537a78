import {createHash} from 'node:crypto'

/**
 * Writes `_CodeSignature/CodeResources` the way codesign lays it out for a macOS bundle: `files`
 * (version 1: SHA-1, only what the v1 rules cover), `files2` (SHA-1 `hash` + SHA-256 `hash2`,
 * symlinks, nested code by cdhash and requirement), and codesign's default `rules`/`rules2`.
 * The XML is emitted here rather than by the plist package because the rule weights are <real>.
 */

export interface SealedFile {
  /** Relative to Contents/, with forward slashes. */
  path: string
  bytes?: Buffer
  symlinkTarget?: string
  optional?: boolean
  /** Nested code (e.g. another executable in Contents/MacOS): sealed by identity, not content. */
  nested?: {cdhash: Buffer; requirement: string}
}

type XmlValue = string | boolean | Buffer | {real: number} | XmlValue[] | {[key: string]: XmlValue}

const rule = (weight: number, extra: {[key: string]: XmlValue} = {}): {[key: string]: XmlValue} => ({...extra, weight: {real: weight}})

const RULES: {[key: string]: XmlValue} = {
  '^Resources/': true,
  '^Resources/.*\\.lproj/': rule(1000, {optional: true}),
  '^Resources/.*\\.lproj/locversion.plist$': rule(1100, {omit: true}),
  '^Resources/Base\\.lproj/': rule(1010),
  '^version.plist$': true,
}

const RULES2: {[key: string]: XmlValue} = {
  '.*\\.dSYM($|/)': rule(11),
  '^(.*/)?\\.DS_Store$': rule(2000, {omit: true}),
  '^(Frameworks|SharedFrameworks|PlugIns|Plug-ins|XPCServices|Helpers|MacOS|Library/(Automator|Spotlight|LoginItems))/': rule(10, {nested: true}),
  '^.*': true,
  '^Info\\.plist$': rule(20, {omit: true}),
  '^PkgInfo$': rule(20, {omit: true}),
  '^Resources/': rule(20),
  '^Resources/.*\\.lproj/': rule(1000, {optional: true}),
  '^Resources/.*\\.lproj/locversion.plist$': rule(1100, {omit: true}),
  '^Resources/Base\\.lproj/': rule(1010),
  '^[^/]+$': rule(10, {nested: true}),
  '^embedded\\.provisionprofile$': rule(20),
  '^version\\.plist$': rule(20),
}

/** Version 1 seals only resources; everything else exists for the v2 rules alone. */
const IN_V1 = /^(Resources\/|version\.plist$)/

const sha1 = (b: Buffer): Buffer => createHash('sha1').update(b).digest()
const sha256 = (b: Buffer): Buffer => createHash('sha256').update(b).digest()

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

function emit(value: XmlValue, depth: number): string {
  const pad = '\t'.repeat(depth)
  if (typeof value === 'string') return `${pad}<string>${escape(value)}</string>\n`
  if (typeof value === 'boolean') return `${pad}<${value}/>\n`
  if (Buffer.isBuffer(value)) return `${pad}<data>\n${pad}${value.toString('base64')}\n${pad}</data>\n`
  if (Array.isArray(value)) return `${pad}<array>\n${value.map((v) => emit(v, depth + 1)).join('')}${pad}</array>\n`
  if ('real' in value && typeof value.real === 'number') return `${pad}<real>${value.real}</real>\n`
  const dict = value as {[key: string]: XmlValue}
  const keys = Object.keys(dict).sort()
  const body = keys.map((k) => `${pad}\t<key>${escape(k)}</key>\n${emit(dict[k]!, depth + 1)}`).join('')
  return `${pad}<dict>\n${body}${pad}</dict>\n`
}

function sealV2(f: SealedFile): XmlValue {
  if (f.nested) return {cdhash: f.nested.cdhash, requirement: f.nested.requirement}
  if (f.symlinkTarget !== undefined) return {symlink: f.symlinkTarget}
  if (!f.bytes) throw new Error(`${f.path}: a sealed file needs bytes, a symlink target or a nested identity`)
  return {hash: sha1(f.bytes), hash2: sha256(f.bytes), ...(f.optional ? {optional: true} : {})}
}

export function buildCodeResources(files: SealedFile[]): Buffer {
  const files1: {[key: string]: XmlValue} = {}
  const files2: {[key: string]: XmlValue} = {}
  for (const f of files) {
    if (f.path in files2) throw new Error(`${f.path} is sealed twice`)
    files2[f.path] = sealV2(f)
    if (IN_V1.test(f.path) && f.bytes && !f.nested && f.symlinkTarget === undefined) {
      files1[f.path] = f.optional ? {hash: sha1(f.bytes), optional: true} : sha1(f.bytes)
    }
  }
  const root = {files: files1, files2, rules: RULES, rules2: RULES2}
  const xml =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n' +
    '<plist version="1.0">\n' +
    emit(root, 0) +
    '</plist>\n'
  return Buffer.from(xml, 'utf8')
}
