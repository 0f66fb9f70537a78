import {isDeepStrictEqual} from 'node:util'
import {DOMParser} from '@xmldom/xmldom'
import type * as Plist from 'plist'
import {FormatError} from './format-error.js'
import {assertBinaryNesting, assertXmlNesting} from './property-list-nesting.js'

export type PlistValue = Plist.PlistValue

/**
 * The plist package's entry point also loads its writers and, with them, xmlbuilder: 31 more modules
 * on every `esdctl verify`, which only reads. The two readers are loaded by file from beside that
 * entry point (a test holds the layout and checks xmlbuilder stays out of verify).
 */
const plistEntry = import.meta.resolve('plist')
const plist = {
  ...((await import(new URL('parse.js', plistEntry).href)) as Pick<typeof Plist, 'parse'>),
  ...((await import(new URL('parse-binary.js', plistEntry).href)) as Pick<typeof Plist, 'parseBinary'>),
}
export type PlistDict = {[key: string]: PlistValue}

/** Property lists larger than this are refused rather than handed to a parser. */
export const MAX_PLIST_BYTES = 16 * 1024 * 1024

const BINARY_MAGIC = Buffer.from('bplist00', 'latin1')

/**
 * Parses an XML or binary property list. Any failure of the underlying parser, which knows
 * nothing of our error model, becomes a FormatError naming `what`.
 */
export function parsePropertyList(bytes: Buffer, what: string): PlistValue {
  if (bytes.length > MAX_PLIST_BYTES) {
    throw new FormatError('plist.too-large', `${what}: property list of ${bytes.length} bytes exceeds the ${MAX_PLIST_BYTES}-byte limit`)
  }
  try {
    if (bytes.subarray(0, 8).equals(BINARY_MAGIC)) {
      assertBinaryNesting(bytes)
      return withBuffers(plist.parseBinary(bytes) as PlistValue)
    }
    const text = bytes.toString('utf8').replace(/^\uFEFF/, '').trimStart()
    if (!text.startsWith('<')) throw new Error('neither XML nor binary (bplist00)')
    assertXmlNesting(text)
    return withBuffers(parseXml(text))
  } catch (e) {
    throw new FormatError('plist.malformed', `${what}: not a valid property list (${(e as Error).message})`)
  }
}

/** Like parsePropertyList, but the top level must be a dictionary. */
export function parsePropertyListDict(bytes: Buffer, what: string): PlistDict {
  const value = parsePropertyList(bytes, what)
  if (!isDict(value)) throw new FormatError('plist.not-a-dict', `${what}: top level is not a dictionary`)
  return value
}

export function isDict(value: unknown): value is PlistDict {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date) && !Buffer.isBuffer(value) && !ArrayBuffer.isView(value)
}

/** The parser yields `<data>` as plain Uint8Array; callers compare and hash Buffers. */
function withBuffers(v: PlistValue): PlistValue {
  if (v instanceof Uint8Array) return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength)
  if (Array.isArray(v)) return v.map(withBuffers)
  if (isDict(v)) {
    for (const k of Object.keys(v)) v[k] = withBuffers(v[k]!)
  }
  return v
}

/**
 * The plist package parses with xmldom's default handler, which prints every XML problem on the
 * console and throws only for some: a user verifying a damaged Info.plist would see parser noise, and
 * an error-level problem could pass. So the parse runs with the console held, and when xmldom
 * reported anything (or the parse threw), a quiet well-formedness pass judges the same text and turns
 * its first error into our own message. Clean text, the everyday case, is parsed once.
 */
function parseXml(text: string): PlistValue {
  const {warn, error} = console
  let reported = false
  console.warn = console.error = () => {
    reported = true
  }
  let parsed: {value: PlistValue} | {error: unknown}
  try {
    // The call is synchronous: nothing else runs while the console is held.
    parsed = {value: plist.parse(text)}
  } catch (e) {
    parsed = {error: e}
  } finally {
    console.warn = warn
    console.error = error
  }
  if (reported || 'error' in parsed) assertWellFormed(text)
  if ('error' in parsed) throw parsed.error
  return parsed.value
}

/** Throws the first error-level problem xmldom finds in `xml` (warnings pass), in its own words. */
function assertWellFormed(xml: string): void {
  let problem: string | undefined
  try {
    new DOMParser({
      onError: (level, message) => {
        if (level === 'warning') return
        problem ??= message
        throw new Error(message)
      },
    }).parseFromString(xml, 'text/xml')
  } catch (e) {
    throw new Error(problem ?? (e as Error).message)
  }
}

/**
 * Structural equality of property-list values, independent of dictionary key order: the one used
 * for XML against DER entitlements, slice against slice, and a profile's plist against its DER form.
 */
export function samePlistValue(a: unknown, b: unknown): boolean {
  // Plist dates have whole seconds; DER UTCTime too, so compare the instants.
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime()
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.from(a).equals(Buffer.from(b))
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => samePlistValue(x, b[i]))
  if (isDict(a) && isDict(b)) {
    const keys = Object.keys(a)
    return keys.length === Object.keys(b).length && keys.every(k => Object.hasOwn(b, k) && samePlistValue(a[k], b[k]))
  }
  return isDeepStrictEqual(a, b)
}
