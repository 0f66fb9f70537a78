/**
 * The designated requirement codesign derives when none is given, compiled to the binary form it
 * embeds (a requirement set with one designated requirement) and written as text for the seal of
 * nested code. Written from the requirement format's facts; shares nothing with src/formats.
 */

const REQUIREMENT_SET_MAGIC = 0xfade0c01
const REQUIREMENT_MAGIC = 0xfade0c00
const DESIGNATED_REQUIREMENT_TYPE = 3
const EXPR_FORM = 1
const OP = {ident: 2, and: 6, certField: 11, certGeneric: 14, appleGenericAnchor: 15} as const
const MATCH = {exists: 0, equal: 1} as const
const LEAF = 0

/** Apple's markers: the Developer ID intermediate (100.6.2.6) and Developer ID Application leaf (100.6.1.13). */
const DEVELOPER_ID_CA_OID = '1.2.840.113635.100.6.2.6'
const DEVELOPER_ID_LEAF_OID = '1.2.840.113635.100.6.1.13'
/** The WWDR intermediate that issues Apple Development leaves. */
const WWDR_CA_OID = '1.2.840.113635.100.6.2.1'

function u32(n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeInt32BE(n | 0, 0)
  return b
}

function data(bytes: Buffer): Buffer {
  return Buffer.concat([u32(bytes.length), bytes, Buffer.alloc((4 - (bytes.length % 4)) % 4)])
}

function oidContent(oid: string): Buffer {
  const parts = oid.split('.').map(Number)
  const out = [40 * parts[0]! + parts[1]!]
  for (const arc of parts.slice(2)) {
    const bytes = [arc & 0x7f]
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) bytes.unshift(0x80 | (v & 0x7f))
    out.push(...bytes)
  }
  return Buffer.from(out)
}

/** How the designated requirement of code signed by an identity reads and compiles. */
export interface DesignatedRequirement {
  text: string
  /** The requirement set blob for special slot 2. */
  blob: Buffer
}

type Expr = Buffer

const ident = (id: string): Expr => Buffer.concat([u32(OP.ident), data(Buffer.from(id, 'utf8'))])
const anchorAppleGeneric = (): Expr => u32(OP.appleGenericAnchor)
const certExists = (slot: number, oid: string): Expr => Buffer.concat([u32(OP.certGeneric), u32(slot), data(oidContent(oid)), u32(MATCH.exists)])
const certFieldEquals = (slot: number, field: string, value: string): Expr =>
  Buffer.concat([u32(OP.certField), u32(slot), data(Buffer.from(field, 'utf8')), u32(MATCH.equal), data(Buffer.from(value, 'utf8'))])

/** `a and b and c` as Apple's compiler nests it: and(and(a, b), c). */
function and(...terms: Expr[]): Expr {
  return terms.slice(1).reduce((acc, t) => Buffer.concat([u32(OP.and), acc, t]), terms[0]!)
}

function requirementSet(expr: Expr): Buffer {
  const requirement = Buffer.concat([u32(REQUIREMENT_MAGIC), u32(12 + expr.length), u32(EXPR_FORM), expr])
  return Buffer.concat([u32(REQUIREMENT_SET_MAGIC), u32(20 + requirement.length), u32(1), u32(DESIGNATED_REQUIREMENT_TYPE), u32(20), requirement])
}

/** As Apple's requirement dumper writes a string: bare when a plain word (letters and digits, not first a digit), else quoted. */
const quoted = (s: string): string => (/^[A-Za-z][A-Za-z0-9]*$/.test(s) ? s : `"${s.replace(/[\\"]/g, m => `\\${m}`)}"`)

/** The implicit designated requirement for code signed with a Developer ID or Apple Development certificate. */
export function designatedRequirement(identifier: string, signer: {kind: 'developer-id' | 'other'; teamId?: string; commonName?: string}): DesignatedRequirement {
  if (signer.kind === 'developer-id' && signer.teamId) {
    return {
      text:
        `identifier ${quoted(identifier)} and anchor apple generic and certificate 1[field.${DEVELOPER_ID_CA_OID}] /* exists */ ` +
        `and certificate leaf[field.${DEVELOPER_ID_LEAF_OID}] /* exists */ and certificate leaf[subject.OU] = ${signer.teamId}`,
      blob: requirementSet(and(ident(identifier), anchorAppleGeneric(), certExists(1, DEVELOPER_ID_CA_OID), certExists(LEAF, DEVELOPER_ID_LEAF_OID), certFieldEquals(LEAF, 'subject.OU', signer.teamId))),
    }
  }
  const cn = signer.commonName ?? ''
  return {
    text: `identifier ${quoted(identifier)} and anchor apple generic and certificate leaf[subject.CN] = ${quoted(cn)} and certificate 1[field.${WWDR_CA_OID}] /* exists */`,
    blob: requirementSet(and(ident(identifier), anchorAppleGeneric(), certFieldEquals(LEAF, 'subject.CN', cn), certExists(1, WWDR_CA_OID))),
  }
}

/** Ad-hoc code has no designated requirement of its own; a seal names it by cdhash. */
export function cdhashRequirement(cdhash: Buffer): string {
  return `cdhash H"${cdhash.toString('hex')}"`
}
