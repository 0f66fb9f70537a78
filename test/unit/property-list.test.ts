import {strict as assert} from 'node:assert'
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
