import {BoundedBytes} from './bounded-bytes.js'
import {FormatError} from './format-error.js'
import {BlobMagic, readBlob} from './superblob.js'

/** One requirement of a requirement set, decompiled to the text `codesign -d -r-` prints. */
export interface RequirementEntry {
  type: number
  typeName: string
  text: string
}

const REQUIREMENT_TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [1, 'host'], [2, 'guest'], [3, 'designated'], [4, 'library'], [5, 'plugin'],
])

/** Nesting deeper than any signer writes; a crafted blob could otherwise recurse until the stack runs out. */
export const MAX_REQUIREMENT_DEPTH = 64
/** Operations per requirement; bounds the work and the text a crafted blob can cause. */
export const MAX_REQUIREMENT_OPS = 10_000

const EXPRESSION_FORM = 1

/** Parses a requirement set (0xfade0c01 blob, header included) and decompiles each requirement. */
export function parseRequirementSet(input: Buffer): RequirementEntry[] {
  const blob = readBlob(input, BlobMagic.requirementSet, 'requirement set', 'req')
  const bytes = new BoundedBytes(blob, 'requirement set')
  if (blob.length < 12) throw new FormatError('req.truncated', `requirement set of ${blob.length} bytes has no count`)
  const count = bytes.u32be(8, 'count')
  const indexEnd = 12 + count * 8
  if (indexEnd > blob.length) throw new FormatError('req.bad-count', `requirement set claims ${count} entries; its ${blob.length} bytes cannot hold that index`)
  const entries: RequirementEntry[] = []
  const seen = new Set<number>()
  for (let i = 0; i < count; i++) {
    const type = bytes.u32be(12 + i * 8, `entry ${i} type`)
    const offset = bytes.u32be(16 + i * 8, `entry ${i} offset`)
    if (seen.has(type)) throw new FormatError('req.duplicate-type', `requirement set lists type ${type} twice`)
    seen.add(type)
    if (offset < indexEnd || offset >= blob.length) {
      throw new FormatError('req.out-of-range', `requirement ${i} at ${offset} lies outside [${indexEnd}, ${blob.length})`)
    }
    const text = decompileRequirement(blob.subarray(offset))
    entries.push({type, typeName: REQUIREMENT_TYPE_NAMES.get(type) ?? `type${type}`, text})
  }
  return entries
}

/** Decompiles one requirement blob (0xfade0c00, header included; trailing bytes past its length are ignored). */
export function decompileRequirement(input: Buffer): string {
  const blob = readBlob(input, BlobMagic.requirement, 'requirement', 'req')
  const reader = new OpReader(new BoundedBytes(blob, 'requirement'), 8)
  const kind = reader.u32('kind')
  if (kind !== EXPRESSION_FORM) throw new FormatError('req.unsupported-kind', `requirement kind ${kind} is not the expression form (1)`)
  const text = expression(reader, Level.Top, 0)
  if (reader.offset !== blob.length) {
    throw new FormatError('req.trailing-bytes', `requirement expression ends at ${reader.offset} but the blob is ${blob.length} bytes`)
  }
  return text
}

/** Binding strength, loosest last: `and` binds tighter than `or`, so an `or` inside an `and` needs parentheses. */
enum Level {
  Primary = 0,
  And = 1,
  Or = 2,
  Top = 3,
}

const enum Op {
  False = 0, True, Ident, AppleAnchor, AnchorHash, InfoKeyValue, And, Or, CDHash, Not, InfoKeyField, CertField,
  TrustedCert, TrustedCerts, CertGeneric, AppleGenericAnchor, EntitlementField, CertPolicy, NamedAnchor, NamedCode,
  Platform, Notarized, CertFieldDate, LegacyDevID,
}

// The top byte of an opcode carries flags (e.g. "unknown op: skip it"); the operation is the rest.
const OP_FLAG_MASK = 0xff000000

class OpReader {
  offset: number
  ops = 0
  constructor(
    readonly bytes: BoundedBytes,
    start: number,
  ) {
    this.offset = start
  }

  u32(field: string): number {
    const v = this.bytes.u32be(this.offset, field)
    this.offset += 4
    return v
  }

  i32(field: string): number {
    return this.u32(field) | 0
  }

  i64(field: string): bigint {
    this.bytes.check(this.offset, 8, field)
    const v = this.bytes.buf.readBigInt64BE(this.offset)
    this.offset += 8
    return v
  }

  /** Length-prefixed bytes, padded with zeros to a 4-byte boundary. */
  data(field: string): Buffer {
    const length = this.u32(`${field} length`)
    const value = this.bytes.slice(this.offset, length, field)
    const padded = length + ((4 - (length % 4)) % 4)
    this.bytes.check(this.offset, padded, `${field} padding`)
    this.offset += padded
    return value
  }
}

function expression(r: OpReader, level: Level, depth: number): string {
  if (depth > MAX_REQUIREMENT_DEPTH) throw new FormatError('req.too-deep', `requirement nests deeper than ${MAX_REQUIREMENT_DEPTH} levels`)
  if (++r.ops > MAX_REQUIREMENT_OPS) throw new FormatError('req.too-many-ops', `requirement has more than ${MAX_REQUIREMENT_OPS} operations`)
  const at = r.offset
  const raw = r.u32('opcode')
  const op = (raw & ~OP_FLAG_MASK) >>> 0
  switch (op) {
    case Op.False:
      return 'never'
    case Op.True:
      return 'always'
    case Op.Ident:
      return `identifier ${value(r.data('identifier'))}`
    case Op.AppleAnchor:
      return 'anchor apple'
    case Op.AppleGenericAnchor:
      return 'anchor apple generic'
    case Op.TrustedCerts:
      return 'anchor trusted'
    case Op.NamedAnchor:
      return `anchor apple ${value(r.data('anchor name'))}`
    case Op.AnchorHash: {
      const slot = certSlot(r.i32('certificate slot'))
      return `certificate ${slot} = ${hashLiteral(r.data('certificate hash'))}`
    }
    case Op.TrustedCert:
      return `certificate ${certSlot(r.i32('certificate slot'))} trusted`
    case Op.InfoKeyValue: {
      const key = dotted(r.data('info key'))
      return `info[${key}] = ${value(r.data('info value'))}`
    }
    case Op.InfoKeyField: {
      const key = dotted(r.data('info key'))
      return `info[${key}]${match(r)}`
    }
    case Op.EntitlementField: {
      const key = dotted(r.data('entitlement key'))
      return `entitlement[${key}]${match(r)}`
    }
    case Op.CertField: {
      const slot = certSlot(r.i32('certificate slot'))
      const field = dotted(r.data('certificate field'))
      return `certificate ${slot}[${field}]${match(r)}`
    }
    case Op.CertGeneric:
    case Op.CertPolicy:
    case Op.CertFieldDate: {
      const slot = certSlot(r.i32('certificate slot'))
      const oid = oidText(r.data('certificate OID'))
      const prefix = op === Op.CertGeneric ? 'field' : op === Op.CertPolicy ? 'policy' : 'timestamp'
      return `certificate ${slot}[${prefix}.${oid}]${match(r)}`
    }
    case Op.CDHash:
      return `cdhash ${hashLiteral(r.data('cdhash'))}`
    case Op.Platform:
      return `platform = ${r.u32('platform')}`
    case Op.Notarized:
      return 'notarized'
    case Op.LegacyDevID:
      return 'legacy'
    case Op.NamedCode:
      return `(${value(r.data('code name'))})`
    case Op.Not:
      return `! ${expression(r, Level.Primary, depth + 1)}`
    case Op.And:
    case Op.Or: {
      const own = op === Op.And ? Level.And : Level.Or
      const left = expression(r, own, depth + 1)
      const right = expression(r, own, depth + 1)
      const text = `${left} ${op === Op.And ? 'and' : 'or'} ${right}`
      return level < own ? `(${text})` : text
    }
    default:
      throw new FormatError('req.unknown-op', `requirement opcode 0x${raw.toString(16)} at offset ${at} is unknown`)
  }
}

const enum MatchOp {
  Exists = 0, Equal, Contains, BeginsWith, EndsWith, LessThan, GreaterThan, LessEqual, GreaterEqual,
  On, Before, After, OnOrBefore, OnOrAfter, Absent,
}

function match(r: OpReader): string {
  const op = r.u32('match operation')
  switch (op) {
    case MatchOp.Exists:
      return ' /* exists */'
    case MatchOp.Absent:
      return ' absent'
    case MatchOp.Equal:
      return ` = ${value(r.data('match value'))}`
    case MatchOp.Contains:
      return ` ~ ${value(r.data('match value'))}`
    case MatchOp.BeginsWith:
      return ` = ${wildcard(r.data('match value'), '', '*')}`
    case MatchOp.EndsWith:
      return ` = ${wildcard(r.data('match value'), '*', '')}`
    case MatchOp.LessThan:
      return ` < ${value(r.data('match value'))}`
    case MatchOp.GreaterThan:
      return ` > ${value(r.data('match value'))}`
    case MatchOp.LessEqual:
      return ` <= ${value(r.data('match value'))}`
    case MatchOp.GreaterEqual:
      return ` >= ${value(r.data('match value'))}`
    case MatchOp.On:
      return ` = ${timestamp(r.i64('timestamp'))}`
    case MatchOp.Before:
      return ` < ${timestamp(r.i64('timestamp'))}`
    case MatchOp.After:
      return ` > ${timestamp(r.i64('timestamp'))}`
    case MatchOp.OnOrBefore:
      return ` <= ${timestamp(r.i64('timestamp'))}`
    case MatchOp.OnOrAfter:
      return ` >= ${timestamp(r.i64('timestamp'))}`
    default:
      throw new FormatError('req.unknown-match', `requirement match operation ${op} is unknown`)
  }
}

function certSlot(slot: number): string {
  if (slot === 0) return 'leaf'
  if (slot === -1) return 'root'
  return String(slot)
}

function hashLiteral(bytes: Buffer): string {
  return `H"${bytes.toString('hex')}"`
}

// Dates are seconds since 1970 in the blob; printed in ISO form so they read unambiguously.
function timestamp(seconds: bigint): string {
  const ms = Number(seconds) * 1000
  const date = new Date(ms)
  return Number.isNaN(date.getTime()) ? `timestamp ${seconds}` : `timestamp "${date.toISOString().replace('.000Z', 'Z')}"`
}

const isAlnum = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39
const strictUtf8 = new TextDecoder('utf-8', {fatal: true})

/** Valid UTF-8 without control characters other than tab and newlines. */
function isText(bytes: Buffer): boolean {
  let text: string
  try {
    text = strictUtf8.decode(bytes)
  } catch {
    return false
  }
  return !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)
}

/**
 * A value as the requirement language writes it: bare when it is a plain word (letters and digits, not
 * starting with a digit; dots too where `dotOkay`), quoted when it is text, hex `0x…` when binary.
 */
function value(bytes: Buffer, dotOkay = false): string {
  const simple = bytes.length > 0 && !isDigit(bytes[0]!) && bytes.every(c => isAlnum(c) || (dotOkay && c === 0x2e))
  if (simple) return bytes.toString('latin1')
  if (isText(bytes)) return quoted(bytes.toString('utf8'))
  return `0x${bytes.toString('hex')}`
}

function quoted(text: string): string {
  return `"${text.replace(/[\\"]/g, m => `\\${m}`)}"`
}

function wildcard(bytes: Buffer, before: string, after: string): string {
  const v = value(bytes)
  if (v.startsWith('0x')) return `${before}${v}${after}`
  const inner = v.startsWith('"') ? v.slice(1, -1) : v
  return `"${before}${inner}${after}"`
}

function dotted(bytes: Buffer): string {
  return value(bytes, true)
}

/** DER object identifier contents (no tag or length) as dotted text. */
export function oidText(bytes: Buffer): string {
  if (bytes.length === 0) throw new FormatError('req.bad-oid', 'certificate OID is empty')
  if ((bytes[bytes.length - 1]! & 0x80) !== 0) throw new FormatError('req.bad-oid', `certificate OID 0x${bytes.toString('hex')} ends inside an arc`)
  const arcs: bigint[] = []
  let arc = 0n
  for (const b of bytes) {
    arc = (arc << 7n) | BigInt(b & 0x7f)
    if ((b & 0x80) === 0) {
      arcs.push(arc)
      arc = 0n
    }
  }
  const first = arcs[0]!
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n]
  return [...head, ...arcs.slice(1)].join('.')
}
