import {strict as assert} from 'node:assert'
import {DOMParser} from '@xmldom/xmldom'
import fc from 'fast-check'
import * as plist from 'plist'
import {parsePropertyList, parsePropertyListDict} from '../../src/formats/property-list.js'
import {FormatError} from '../../src/formats/format-error.js'

describe('property lists', () => {
  it('parses XML and binary forms to the same value', () => {
    const value = {CFBundleExecutable: 'thed', n: 3, ok: true, list: ['a', 'b']}
    const xml = Buffer.from(plist.build(value))
    const bin = plist.buildBinary(value)
    assert.deepEqual(parsePropertyList(xml, 'x'), value)
    assert.deepEqual(parsePropertyList(Buffer.from(bin), 'x'), value)
  })

  it('prints nothing on the console for text xmldom only warns about (bytes that are not UTF-8, an attribute without a value)', () => {
    const printed: unknown[] = []
    const {warn, error, log} = console
    console.warn = console.error = console.log = (...args: unknown[]) => printed.push(args)
    try {
      const notUtf8 = Buffer.concat([Buffer.from('<plist version="1.0"><dict><key>a</key><string>'), Buffer.from([0xff, 0xfe]), Buffer.from('</string></dict></plist>')])
      assert.deepEqual(parsePropertyList(notUtf8, 'x'), {a: '\uFFFD\uFFFD'})
      const bareAttribute = Buffer.from('<plist v><dict><key>a</key><integer>1</integer></dict></plist>')
      assert.deepEqual(parsePropertyList(bareAttribute, 'x'), {a: 1})
    } finally {
      Object.assign(console, {warn, error, log})
    }
    assert.deepEqual(printed, [])
    assert.equal(console.warn, warn, 'the console is given back')
  })

  it('names the file when the bytes are not a plist', () => {
    assert.throws(() => parsePropertyList(Buffer.from('hello'), 'Info.plist'), (e: unknown) => e instanceof FormatError && /Info\.plist/.test(e.message))
    assert.throws(() => parsePropertyListDict(Buffer.from(plist.build(['a'])), 'Info.plist'), /not a dictionary/)
  })
})

describe('property list data values', () => {
  it('come back as Buffers from both forms', () => {
    const value = {files2: {a: {hash2: Buffer.from('0011', 'hex')}}, list: [Buffer.from('ff', 'hex')]}
    for (const bytes of [Buffer.from(plist.build(value)), Buffer.from(plist.buildBinary(value))]) {
      const back = parsePropertyList(bytes, 'x') as {files2: {a: {hash2: unknown}}; list: unknown[]}
      assert.ok(Buffer.isBuffer(back.files2.a.hash2))
      assert.ok(Buffer.isBuffer(back.list[0]))
    }
  })
})

describe('malformed XML property lists', () => {
  it('are reported in our message, with nothing printed by the XML parser', () => {
    const written: string[] = []
    const original = console.error
    const originalWarn = console.warn
    console.error = (...a: unknown[]) => void written.push(a.join(' '))
    console.warn = console.error
    try {
      assert.throws(() => parsePropertyList(Buffer.from('<plist><dict><key>a</key><string>x</dict></plist>'), 'Info.plist'), /Info\.plist: not a valid property list \(.*tag mismatch/)
    } finally {
      console.error = original
      console.warn = originalWarn
    }
    assert.deepEqual(written, [])
  })
})

describe('XML property lists are parsed once when xmldom reports nothing', () => {
  /** The reading before: a strict well-formedness pass on every text, then plist's parse with the console held. */
  function twoPasses(bytes: Buffer): {value: unknown} | {message: string} {
    const text = bytes.toString('utf8').replace(/^\uFEFF/, '').trimStart()
    try {
      if (!text.startsWith('<')) throw new Error('neither XML nor binary (bplist00)')
      let problem: string | undefined
      try {
        new DOMParser({onError: (level, message) => {
          if (level === 'warning') return
          problem ??= message
          throw new Error(message)
        }}).parseFromString(text, 'text/xml')
      } catch (e) {
        throw new Error(problem ?? (e as Error).message)
      }
      const {warn, error} = console
      console.warn = console.error = () => undefined
      try {
        return {value: plist.parse(text)}
      } finally {
        Object.assign(console, {warn, error})
      }
    } catch (e) {
      return {message: `x: not a valid property list (${(e as Error).message})`}
    }
  }

  /** JSON with data (Buffer or Uint8Array) as hex, so both readings compare. */
  const canonical = (v: unknown) => JSON.stringify(v, function (this: Record<string, unknown>, k: string, x: unknown) {
    const raw = this[k]
    return raw instanceof Uint8Array ? `hex:${Buffer.from(raw).toString('hex')}` : x
  })

  const pieces = ['<', '>', '&', '&amp;', '</', '/>', '"', '=', '<!--', '-->', '<![CDATA[', ']]>', '<!DOCTYPE plist>', '\u0000', '\uFFFF', 'key', 'dict', ' ']
  const edit = fc.tuple(fc.nat(), fc.nat({max: 3}), fc.constantFrom(...pieces))

  it('gives the same value or the same message as a strict pass before every parse, on damaged text too', () => {
    const value = {CFBundleExecutable: 'thed', n: 3, ok: true, list: ['a', 'b'], data: Buffer.from('0011', 'hex'), d: {x: 1.5}}
    const clean = plist.build(value)
    const printed: unknown[] = []
    const {warn, error, log} = console
    try {
      fc.assert(fc.property(fc.array(edit, {maxLength: 3}), edits => {
        let text = clean
        for (const [at, cut, piece] of edits) {
          const i = at % (text.length + 1)
          text = text.slice(0, i) + piece + text.slice(i + cut)
        }
        const bytes = Buffer.from(text)
        const expected = twoPasses(bytes)
        console.warn = console.error = console.log = (...args: unknown[]) => printed.push(args)
        let actual: {value: unknown} | {message: string}
        try {
          actual = {value: parsePropertyList(bytes, 'x')}
        } catch (e) {
          assert.ok(e instanceof FormatError, String(e))
          actual = {message: e.message}
        } finally {
          Object.assign(console, {warn, error, log})
        }
        assert.equal(canonical(actual), canonical(expected), text)
      }), {numRuns: 1500})
    } finally {
      Object.assign(console, {warn, error, log})
    }
    assert.deepEqual(printed, [])
  })
})

/**
 * A hand-built bplist00: `objects` are the encoded objects in order (object i at table index i),
 * references 2 bytes wide, offsets 4, top object 0 (trailer layout per Apple's CFBinaryPList.c).
 */
function bplist(objects: Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from('bplist00', 'latin1')]
  const offsets: number[] = []
  let at = 8
  for (const o of objects) {
    offsets.push(at)
    parts.push(o)
    at += o.length
  }
  const table = Buffer.alloc(offsets.length * 4)
  offsets.forEach((o, i) => table.writeUInt32BE(o, i * 4))
  const trailer = Buffer.alloc(32)
  trailer[6] = 4
  trailer[7] = 2
  trailer.writeBigUInt64BE(BigInt(objects.length), 8)
  trailer.writeBigUInt64BE(0n, 16)
  trailer.writeBigUInt64BE(BigInt(at), 24)
  return Buffer.concat([...parts, table, trailer])
}

/** A bplist array object (marker 0xA, fewer than 15 members) referring to `refs`. */
function bArray(...refs: number[]): Buffer {
  const b = Buffer.alloc(1 + refs.length * 2)
  b[0] = 0xa0 | refs.length
  refs.forEach((r, i) => b.writeUInt16BE(r, 1 + i * 2))
  return b
}

describe('property list nesting', () => {
  function malformedMessage(bytes: Buffer): string {
    try {
      parsePropertyList(bytes, 'Info.plist')
    } catch (e) {
      assert.ok(e instanceof FormatError)
      assert.equal(e.code, 'plist.malformed')
      return e.message
    }
    assert.fail('parsed')
  }

  it('refuses XML arrays nested 10 000 and 100 000 deep with its own message, not a stack overflow', () => {
    for (const depth of [10_000, 100_000]) {
      const xml = Buffer.from(`<?xml version="1.0"?><plist version="1.0">${'<array>'.repeat(depth)}${'</array>'.repeat(depth)}</plist>`)
      assert.equal(malformedMessage(xml), 'Info.plist: not a valid property list (nested more than 512 levels)')
    }
  })

  it('parses 512 levels, and does not count tags inside comments or CDATA nor self-closing ones', () => {
    const deep = `<plist version="1.0">${'<array>'.repeat(511)}<dict/><array/>${'</array>'.repeat(511)}</plist>`
    assert.ok(Array.isArray(parsePropertyList(Buffer.from(deep), 'x')))
    const hidden = `<plist version="1.0"><array><!-- ${'</array>'.repeat(600)} --><string><![CDATA[${'</dict>'.repeat(600)}]]></string>${'<array>'.repeat(600)}${'</array>'.repeat(600)}</array></plist>`
    assert.match(malformedMessage(Buffer.from(hidden)), /nested more than 512 levels/)
  })

  it('refuses a binary plist whose array contains itself, without overflowing the stack', () => {
    assert.match(malformedMessage(bplist([bArray(0)])), /\(object 0 contains itself\)$/)
    assert.match(malformedMessage(bplist([bArray(1), bArray(2), bArray(0)])), /\(object 0 contains itself\)$/)
  })

  it('refuses binary arrays nested 10 000 deep, and one whose shared members expand past the bound', () => {
    const chain = Array.from({length: 10_000}, (_, i) => (i === 9_999 ? bArray() : bArray(i + 1)))
    assert.match(malformedMessage(bplist(chain)), /\(nested more than 512 levels\)$/)
    // 40 levels, each array holding the next twice: 2^40 values once expanded.
    const doubling = Array.from({length: 41}, (_, i) => (i === 40 ? Buffer.from([0x09]) : bArray(i + 1, i + 1)))
    assert.match(malformedMessage(bplist(doubling)), /\(expands to more than 1000000 values\)$/)
  })

  it('parses a hand-built binary plist with shared members and a reference out of range is malformed', () => {
    assert.deepEqual(parsePropertyList(bplist([bArray(1, 1), Buffer.from([0x09])]), 'x'), [true, true])
    assert.match(malformedMessage(bplist([bArray(7)])), /refers to object 7 of 1/)
  })
})
