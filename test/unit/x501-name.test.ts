import {strict as assert} from 'node:assert'
import fc from 'fast-check'
import {textsMatch} from '../../src/formats/x501-name.js'

describe('name attribute texts', () => {
  it('match exactly when localeCompare calls them equal, with or without the collator', () => {
    const printable = fc.string({unit: fc.integer({min: 0x20, max: 0x7e}).map((c) => String.fromCharCode(c)), maxLength: 8})
    const anyText = fc.string({unit: 'binary', maxLength: 6})
    const pair = fc.oneof(
      fc.tuple(printable, printable),
      printable.map((s) => [s, s] as [string, string]),
      printable.chain((s) => fc.tuple(fc.constant(s), fc.nat(s.length).map((i) => s.slice(0, i) + '\u0001' + s.slice(i)))),
      fc.tuple(anyText, anyText),
    )
    fc.assert(fc.property(pair, ([a, b]) => assert.equal(textsMatch(a, b), a.localeCompare(b) === 0, JSON.stringify([a, b]))), {numRuns: 2000})
    assert.equal(textsMatch('e\u0301', '\u00e9'), true, 'canonically equivalent text still matches')
    assert.equal(textsMatch('apple', 'appl\u0001e'), true, 'an ignorable control character still matches')
    assert.equal(textsMatch('apple inc.', 'apple inc'), false)
  })
})
