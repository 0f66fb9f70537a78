/**
 * Nesting bounds for property lists, checked before the plist package parses them: its XML and
 * binary readers both recurse once per level, so a deep or cyclic list would overflow the stack
 * (a JavaScript RangeError) or, for a binary list whose containers share children, expand
 * without end. Real Info.plists and profiles nest fewer than ten levels.
 */

/** Levels of <array>/<dict> (or binary array/dict objects) allowed; far above any real plist. */
export const MAX_PLIST_DEPTH = 512

/** Values a binary plist may expand to once shared references are followed (each counted once per use). */
export const MAX_BINARY_PLIST_VALUES = 1_000_000

// Comments and CDATA are matched whole so that tags inside them are not counted.
const XML_CONTAINER = /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<(\/?)(?:array|dict)\b[^>]*?(\/?)>/g

/**
 * Throws an Error "nested more than MAX_PLIST_DEPTH levels" when the <array>/<dict> elements of
 * XML `text` nest deeper than the limit. One regular-expression pass; close tags without an open
 * one are left to the parser.
 */
export function assertXmlNesting(text: string): void {
  let depth = 0
  for (const m of text.matchAll(XML_CONTAINER)) {
    if (m[1] === undefined) continue // a comment or CDATA section
    if (m[2] === '/') continue // <array/>: opens and closes
    if (m[1] === '/') {
      if (depth > 0) depth--
    } else if (++depth > MAX_PLIST_DEPTH) {
      throw new Error(`nested more than ${MAX_PLIST_DEPTH} levels`)
    }
  }
}

/**
 * Walks the object graph of a binary plist (`bplist00`; layout per Apple's CFBinaryPList.c: a
 * 32-byte trailer giving the offset-table entry size, the object-reference size, the object count,
 * the top object and the table's offset) without recursion. Throws an Error when an offset or
 * reference leaves the data, when an array/dict refers back to one of its ancestors (a cycle),
 * when containers nest deeper than MAX_PLIST_DEPTH, or when the list expands to more than
 * MAX_BINARY_PLIST_VALUES values.
 */
export function assertBinaryNesting(data: Buffer): void {
  if (data.length < 8 + 32) throw new Error('shorter than a bplist00 header and trailer')
  const t = data.length - 32
  const offsetSize = data[t + 6]!
  const refSize = data[t + 7]!
  const count = readUInt(data, t + 8, 8)
  const top = readUInt(data, t + 16, 8)
  const tableAt = readUInt(data, t + 24, 8)
  if (offsetSize < 1 || offsetSize > 8 || refSize < 1 || refSize > 8) throw new Error('the trailer gives an offset or reference size outside 1 to 8 bytes')
  if (count > t || tableAt + count * offsetSize > t || top >= count) throw new Error('the trailer gives an object count, top object or offset table outside the data')
  const offsetOf = (i: number) => {
    const at = readUInt(data, tableAt + i * offsetSize, offsetSize)
    if (at < 8 || at >= t) throw new Error(`object ${i} lies outside the data`)
    return at
  }
  const children = (i: number): number[] => {
    let at = offsetOf(i)
    const marker = data[at]!
    const type = marker >> 4
    if (type !== 0xa && type !== 0xd) return []
    let n = marker & 0x0f
    at++
    if (n === 0x0f) {
      const width = 1 << (data[at]! & 0x0f)
      if (width > 8 || at + 1 + width > t) throw new Error(`object ${i} has a bad length`)
      n = readUInt(data, at + 1, width)
      at += 1 + width
    }
    const refs = type === 0xd ? 2 * n : n
    if (at + refs * refSize > t) throw new Error(`object ${i} refers past the end of the data`)
    const out: number[] = []
    for (let k = 0; k < refs; k++) {
      const ref = readUInt(data, at + k * refSize, refSize)
      if (ref >= count) throw new Error(`object ${i} refers to object ${ref} of ${count}`)
      out.push(ref)
    }
    return out
  }
  // Iterative depth-first walk of the expanded tree: `onPath` catches cycles, `values` sharing blow-ups.
  const onPath = new Uint8Array(count)
  const stack: {refs: number[]; next: number; self: number}[] = [{refs: children(top), next: 0, self: top}]
  onPath[top] = 1
  let values = 1
  while (stack.length > 0) {
    const frame = stack.at(-1)!
    if (frame.next === frame.refs.length) {
      onPath[frame.self] = 0
      stack.pop()
      continue
    }
    const child = frame.refs[frame.next++]!
    if (++values > MAX_BINARY_PLIST_VALUES) throw new Error(`expands to more than ${MAX_BINARY_PLIST_VALUES} values`)
    if (onPath[child]) throw new Error(`object ${child} contains itself`)
    const refs = children(child)
    if (refs.length === 0) continue
    if (stack.length >= MAX_PLIST_DEPTH) throw new Error(`nested more than ${MAX_PLIST_DEPTH} levels`)
    onPath[child] = 1
    stack.push({refs, next: 0, self: child})
  }
}

function readUInt(data: Buffer, at: number, size: number): number {
  if (at + size > data.length) throw new Error('a number lies past the end of the data')
  let v = 0
  for (let k = 0; k < size; k++) v = v * 256 + data[at + k]!
  return v
}
