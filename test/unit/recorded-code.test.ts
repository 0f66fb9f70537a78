import {strict as assert} from 'node:assert'
import {isRecordedCode, shownCdhashes} from '../../src/records/recorded-code.js'
import type {HashAlgorithm} from '../../src/formats/hash-type.js'
import type {SliceReport} from '../../src/verify/report.js'

const SHA1 = 'aa'.repeat(20)
const SHA256 = 'bb'.repeat(20)
const OTHER = 'cc'.repeat(20)

function slice(arch: string, cdhash: string, candidates: Array<[HashAlgorithm, string]>): SliceReport {
  return {arch, cdhash, candidateCdhashes: candidates.map(([hashType, c]) => ({hashType, cdhash: c})), flags: [], signer: 'developer-id', entitlements: {}}
}

describe('isRecordedCode: a receipt\'s cdhashes against freshly verified slices', () => {
  const dual = [slice('arm64', SHA256, [['sha1', SHA1], ['sha256', SHA256]])]

  it('takes the strongest cdhash (what receipts hold from now on)', () => {
    assert.equal(isRecordedCode(dual, [{arch: 'arm64', cdhash: SHA256}]), true)
  })

  it('takes the slot-0 SHA-1 cdhash that receipts written before held', () => {
    assert.equal(isRecordedCode(dual, [{arch: 'arm64', cdhash: SHA1}]), true)
  })

  it('refuses another build, another architecture, a missing or an extra slice', () => {
    assert.equal(isRecordedCode(dual, [{arch: 'arm64', cdhash: OTHER}]), false)
    assert.equal(isRecordedCode(dual, [{arch: 'x86_64', cdhash: SHA256}]), false)
    assert.equal(isRecordedCode(dual, []), false)
    assert.equal(isRecordedCode([], [{arch: 'arm64', cdhash: SHA256}]), false)
    assert.equal(isRecordedCode(dual, [{arch: 'arm64', cdhash: SHA256}, {arch: 'x86_64', cdhash: OTHER}]), false)
  })

  it('matches each architecture with its own slice in a universal binary, in any order', () => {
    const universal = [slice('x86_64', OTHER, [['sha256', OTHER]]), ...dual]
    assert.equal(isRecordedCode(universal, [{arch: 'arm64', cdhash: SHA1}, {arch: 'x86_64', cdhash: OTHER}]), true)
    // Swapped between the architectures: not the recorded code.
    assert.equal(isRecordedCode(universal, [{arch: 'arm64', cdhash: OTHER}, {arch: 'x86_64', cdhash: SHA256}]), false)
    // Two slices of one architecture can never stand for a recorded pair.
    assert.equal(isRecordedCode([dual[0]!, dual[0]!], [{arch: 'arm64', cdhash: SHA1}, {arch: 'x86_64', cdhash: OTHER}]), false)
  })

  it('never takes an unsigned slice (no candidates), whatever the receipt says', () => {
    assert.equal(isRecordedCode([{arch: 'arm64', flags: [], signer: 'unsigned', entitlements: {}}], [{arch: 'arm64', cdhash: SHA256}]), false)
  })

  it('refuses when one architecture of a universal binary is another build, even if the other matches', () => {
    const universal = [slice('x86_64', OTHER, [['sha256', OTHER]]), ...dual]
    assert.equal(isRecordedCode(universal, [{arch: 'arm64', cdhash: SHA1}, {arch: 'x86_64', cdhash: SHA256}]), false)
  })

  it('refuses two slices of one architecture (a malformed universal file), even when both recorded entries match one of them', () => {
    // The second arm64 slice is the dual one, whose candidates both recorded entries name.
    const twice = [slice('arm64', OTHER, [['sha256', OTHER]]), dual[0]!]
    assert.equal(isRecordedCode(twice, [{arch: 'arm64', cdhash: SHA1}, {arch: 'arm64', cdhash: SHA256}]), false)
    // One recorded entry naming the kept slice's cdhash: still two slices where the receipt recorded one.
    assert.equal(isRecordedCode(twice, [{arch: 'arm64', cdhash: SHA256}]), false)
  })

  it('shows cdhashes sorted by architecture, an unsigned slice as empty', () => {
    assert.equal(shownCdhashes([{arch: 'x86_64', cdhash: OTHER}, {arch: 'arm64'}]), `arm64: x86_64:${OTHER}`)
  })
})
