import {strict as assert} from 'node:assert'
import fc from 'fast-check'
import {FormatError} from '../../src/formats/format-error.js'
import {BlobMagic, SlotType, blobPayload, codeDirectoryEntries, entryForSlot, parseEmbeddedSignature} from '../../src/formats/superblob.js'
import {blob, throwsFormat} from '../support/format-assertions.js'
import {ARTIFACTS, realArtifact} from '../support/real-artifacts.js'
import {realSlices, type RealSlice} from '../support/real-slices.js'

/** A SuperBlob with the blobs laid out after the index in the order given. */
function superBlob(items: Array<{slot: number; blob: Buffer}>): Buffer {
  const indexEnd = 12 + items.length * 8
  const head = Buffer.alloc(indexEnd)
  head.writeUInt32BE(BlobMagic.embeddedSignature, 0)
  head.writeUInt32BE(items.length, 8)
  let at = indexEnd
  items.forEach((item, i) => {
    head.writeUInt32BE(item.slot, 12 + i * 8)
    head.writeUInt32BE(at, 16 + i * 8)
    at += item.blob.length
  })
  const whole = Buffer.concat([head, ...items.map(i => i.blob)])
  whole.writeUInt32BE(whole.length, 4)
  return whole
}

describe('embedded signature SuperBlob (real binaries)', () => {
  let sentry: RealSlice[]
  let esbuild: RealSlice[]
  before(async () => {
    sentry = await realSlices(await realArtifact(ARTIFACTS.sentryCli))
    esbuild = await realSlices(await realArtifact(ARTIFACTS.esbuild))
  })

  it('indexes the Developer ID signature of each sentry-cli slice', () => {
    const summary = sentry.map(({arch, signatureData: data}) => {
      const sig = parseEmbeddedSignature(data)
      return [arch, sig.length, sig.entries.map(e => [e.slot, e.offset, e.magic, e.length])]
    })
    assert.deepEqual(summary, [
      ['x86_64', 156181, [
        [0, 52, 0xfade0c02, 146759], [2, 146811, 0xfade0c01, 188], [5, 146999, 0xfade7171, 188], [7, 147187, 0xfade7172, 15], [0x10000, 147202, 0xfade0b01, 8979],
      ]],
      ['arm64', 141397, [
        [0, 52, 0xfade0c02, 131975], [2, 132027, 0xfade0c01, 188], [5, 132215, 0xfade7171, 188], [7, 132403, 0xfade7172, 15], [0x10000, 132418, 0xfade0b01, 8979],
      ]],
    ])
    // The load command reserves more than the SuperBlob uses; the rest is zero padding.
    for (const {signatureData: data} of sentry) {
      const sig = parseEmbeddedSignature(data)
      assert.ok(data.length > sig.length)
      assert.ok(data.subarray(sig.length).every(b => b === 0))
    }
  })

  it('hands out each blob whole, and the CMS payload as DER', () => {
    const sig = parseEmbeddedSignature(sentry[0]!.signatureData)
    const cms = entryForSlot(sig, SlotType.signature)!
    assert.equal(cms.blob.readUInt32BE(0), BlobMagic.blobWrapper)
    assert.equal(cms.blob.length, 8979)
    const der = blobPayload(cms)
    assert.equal(der.length, 8971)
    assert.equal(der[0], 0x30, 'a DER SEQUENCE (ContentInfo)')
    assert.equal(entryForSlot(sig, SlotType.infoPlist), undefined)
    assert.deepEqual(codeDirectoryEntries(sig).map(e => e.slot), [0])
  })

  it('indexes the single CodeDirectory of the linker-signed esbuild', () => {
    const sig = parseEmbeddedSignature(esbuild[0]!.signatureData)
    assert.equal(sig.length, 76114)
    assert.deepEqual(sig.entries.map(e => [e.slot, e.offset, e.magic, e.length]), [[0, 20, 0xfade0c02, 76094]])
  })

  it('survives byte flips, truncations and absurd fields: a result or a FormatError, never anything else', () => {
    const real = sentry[0]!.signatureData
    fc.assert(
      fc.property(
        fc.array(fc.record({at: fc.integer({min: 0, max: 63}), value: fc.integer({min: 0, max: 255})}), {minLength: 1, maxLength: 6}),
        fc.option(fc.nat({max: real.length}), {nil: undefined}),
        fc.constantFrom(0, 1, 8, 0x7fffffff, 0xffffffff),
        fc.integer({min: 0, max: 15}),
        (flips, cut, absurd, word) => {
          const b = Buffer.from(real)
          for (const f of flips) b[f.at] = f.value
          if (word < 12) b.writeUInt32BE(absurd, word * 4)
          const input = cut === undefined ? b : b.subarray(0, cut)
          try {
            const sig = parseEmbeddedSignature(input)
            for (const e of sig.entries) assert.ok(e.offset + e.length <= sig.length && sig.length <= input.length)
          } catch (e) {
            if (!(e instanceof FormatError)) throw e
          }
        },
      ),
      {numRuns: 300},
    )
  })

  it('refuses a huge claimed blob count without walking it', () => {
    const b = Buffer.from(sentry[0]!.signatureData)
    b.writeUInt32BE(0xffffffff, 8)
    throwsFormat(() => parseEmbeddedSignature(b), 'superblob.bad-count')
  })
})

describe('embedded signature SuperBlob (synthetic)', () => {
  const cd = blob(BlobMagic.codeDirectory, Buffer.alloc(16, 1))
  const reqs = blob(BlobMagic.requirementSet, Buffer.alloc(4))

  it('parses a well-formed SuperBlob', () => {
    const sig = parseEmbeddedSignature(superBlob([{slot: 0, blob: cd}, {slot: 2, blob: reqs}, {slot: 0x1000, blob: cd}]))
    assert.deepEqual(sig.entries.map(e => [e.slot, e.offset, e.length]), [[0, 36, 24], [2, 60, 12], [0x1000, 72, 24]])
    assert.deepEqual(codeDirectoryEntries(sig).map(e => e.slot), [0, 0x1000])
    assert.deepEqual(sig.entries[1]!.blob, reqs)
  })

  it('rejects a wrong magic, a bad length, and a count that cannot fit', () => {
    const good = superBlob([{slot: 0, blob: cd}])
    throwsFormat(() => parseEmbeddedSignature(Buffer.alloc(8)), 'superblob.truncated')
    const wrongMagic = Buffer.from(good)
    wrongMagic.writeUInt32BE(BlobMagic.codeDirectory, 0)
    throwsFormat(() => parseEmbeddedSignature(wrongMagic), 'superblob.bad-magic')
    throwsFormat(() => parseEmbeddedSignature(good.subarray(0, good.length - 1)), 'superblob.bad-length')
    const shortLength = Buffer.from(good)
    shortLength.writeUInt32BE(10, 4)
    throwsFormat(() => parseEmbeddedSignature(shortLength), 'superblob.bad-length')
    const bigCount = Buffer.from(good)
    bigCount.writeUInt32BE(5, 8)
    throwsFormat(() => parseEmbeddedSignature(bigCount), 'superblob.bad-count')
  })

  it('rejects blobs that overlap the index or each other, run past the end, or repeat a slot', () => {
    const two = superBlob([{slot: 0, blob: cd}, {slot: 2, blob: reqs}])
    const intoIndex = Buffer.from(two)
    intoIndex.writeUInt32BE(20, 16)
    throwsFormat(() => parseEmbeddedSignature(intoIndex), 'superblob.overlap')
    const overlapping = Buffer.from(two)
    overlapping.writeUInt32BE(28, 28 + 4) // the CodeDirectory now claims 4 bytes of the requirement set
    throwsFormat(() => parseEmbeddedSignature(overlapping), 'superblob.overlap')
    const pastEnd = Buffer.from(two)
    pastEnd.writeUInt32BE(two.length - 4, 24)
    throwsFormat(() => parseEmbeddedSignature(pastEnd), 'superblob.blob-out-of-range')
    const longBlob = Buffer.from(two)
    longBlob.writeUInt32BE(1000, 28 + 4)
    throwsFormat(() => parseEmbeddedSignature(longBlob), 'superblob.blob-out-of-range')
    const duplicate = Buffer.from(two)
    duplicate.writeUInt32BE(0, 20)
    throwsFormat(() => parseEmbeddedSignature(duplicate), 'superblob.duplicate-slot')
  })
})
