import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {readFile} from 'node:fs/promises'
import fc from 'fast-check'
import {verifyCms} from '../../src/trust/cms.js'
import {FormatError} from '../../src/formats/format-error.js'
import {machHeaderExtent, parseFileLayout, parseMachO} from '../../src/formats/macho.js'
import {blobPayload, entryForSlot, parseEmbeddedSignature, SlotType} from '../../src/formats/superblob.js'
import {TrustStore} from '../../src/trust/apple-roots.js'
import {signedRegions, within} from '../support/cms-regions.js'
import {createTestPki} from '../support/test-pki.js'
import {ARTIFACTS, realArtifact} from '../support/real-artifacts.js'

interface SliceSignature {
  arch: string
  cms: Buffer
  codeDirectory: Buffer
}

/** Mach-O universal → each slice → LC_CODE_SIGNATURE → SuperBlob → slot-0 CodeDirectory and the CMS payload. */
async function sliceSignatures(path: string): Promise<SliceSignature[]> {
  const file = await readFile(path)
  const layout = parseFileLayout(file.subarray(0, 4096), file.length)
  return layout.slices.map(slice => {
    const sliceBytes = file.subarray(slice.offset, slice.offset + slice.size)
    const image = parseMachO(sliceBytes.subarray(0, machHeaderExtent(sliceBytes, slice.size)), slice.size)
    assert.ok(image.codeSignature, `${slice.arch} has no LC_CODE_SIGNATURE`)
    const signature = parseEmbeddedSignature(sliceBytes.subarray(image.codeSignature.dataOffset, image.codeSignature.dataOffset + image.codeSignature.dataSize))
    const cd = entryForSlot(signature, SlotType.codeDirectory)
    const cms = entryForSlot(signature, SlotType.signature)
    assert.ok(cd && cms, `${slice.arch} lacks a CodeDirectory or CMS blob`)
    return {arch: slice.arch, cms: Buffer.from(blobPayload(cms)), codeDirectory: Buffer.from(cd.blob)}
  })
}

const NOW = new Date('2026-01-15T00:00:00Z')

function flipped(buf: Buffer, offset: number): Buffer {
  const copy = Buffer.from(buf)
  copy[offset] = copy[offset]! ^ 0x01
  return copy
}

describe('verifyCms on the real sentry-cli Developer ID signature', function () {
  let slices: SliceSignature[]

  before(async function () {
    slices = await sliceSignatures(await realArtifact(ARTIFACTS.sentryCli))
  })

  it('finds a CMS in both slices', function () {
    assert.deepEqual(slices.map(s => s.arch).sort(), ['arm64', 'x86_64'])
  })

  it('verifies signature, leaf, chain to Apple Root CA, timestamp and cdhash attributes in every slice', async function () {
    for (const slice of slices) {
      const r = await verifyCms(slice.cms, {trust: TrustStore.apple(), now: NOW, detachedContent: slice.codeDirectory, validity: 'timestamp-or-now'})
      assert.equal(r.signatureValid, true, `${slice.arch}: ${r.signatureError}`)
      assert.equal(r.digestAlgorithm, 'sha256')
      assert.equal(r.signer?.commonName, 'Developer ID Application: GetSentry LLC (97JCY7859U)')
      assert.equal(r.signer?.teamId, '97JCY7859U')
      assert.equal(r.signer?.role, 'developer-id')
      assert.equal(r.chain.trusted, true, r.chain.error)
      assert.equal(r.chain.anchor, 'Apple Root CA')
      assert.deepEqual(r.chain.chain.map(c => c.commonName), [
        'Developer ID Application: GetSentry LLC (97JCY7859U)',
        'Developer ID Certification Authority',
        'Apple Root CA',
      ])
      assert.equal(r.timestamp?.valid, true, r.timestamp?.error)
      assert.equal(r.validatedAtSource, 'timestamp')
      assert.equal(r.validatedAt.getTime(), r.timestamp!.time.getTime())
      assert.ok(r.signingTime)
      const fullHash = createHash('sha256').update(slice.codeDirectory).digest()
      assert.deepEqual(r.appleCdHashes, [fullHash.subarray(0, 20)])
      assert.deepEqual(r.appleCdHashes2, [{algorithm: 'sha256', digest: fullHash}])
      assert.equal(r.content, undefined)
    }
  })

  it('reports an invalid signature when one byte of the signature value flips', async function () {
    const slice = slices[0]!
    const good = await verifyCms(slice.cms, {trust: TrustStore.apple(), now: NOW, detachedContent: slice.codeDirectory, validity: 'timestamp-or-now'})
    // The signer's signature value is the only 256-byte OCTET STRING right before the unsigned attributes.
    const signatureValue = slice.cms.indexOf(Buffer.from([0x04, 0x82, 0x01, 0x00]))
    assert.ok(signatureValue > 0)
    const r = await verifyCms(flipped(slice.cms, signatureValue + 4 + 100), {trust: TrustStore.apple(), now: NOW, detachedContent: slice.codeDirectory, validity: 'timestamp-or-now'})
    assert.equal(good.signatureValid, true)
    assert.equal(r.signatureValid, false)
    assert.match(r.signatureError ?? '', /signature/)
    // The timestamp imprints the original signature value, so it no longer covers this one.
    assert.equal(r.timestamp?.valid, false)
  })

  it('reports an invalid signature when one byte of the signed CodeDirectory flips', async function () {
    const slice = slices[0]!
    const r = await verifyCms(slice.cms, {trust: TrustStore.apple(), now: NOW, detachedContent: flipped(slice.codeDirectory, 200), validity: 'timestamp-or-now'})
    assert.equal(r.signatureValid, false)
    assert.match(r.signatureError ?? '', /message digest/)
  })

  it('does not trust the chain with an empty trust store, even though the CMS ships Apple Root CA', async function () {
    const slice = slices[0]!
    const r = await verifyCms(slice.cms, {trust: new TrustStore([]), now: NOW, detachedContent: slice.codeDirectory, validity: 'timestamp-or-now'})
    assert.equal(r.signatureValid, true)
    assert.equal(r.chain.trusted, false)
    assert.match(r.chain.error ?? '', /Apple Root CA.*not a trusted root/)
    assert.equal(r.timestamp?.valid, false)
    assert.equal(r.validatedAtSource, 'now')
  })

  it('does not trust the chain with a store holding only the test root', async function () {
    const pki = await createTestPki()
    const slice = slices[0]!
    const r = await verifyCms(slice.cms, {trust: pki.trust, now: NOW, detachedContent: slice.codeDirectory, validity: 'timestamp-or-now'})
    assert.equal(r.chain.trusted, false)
    assert.equal(r.chain.anchor, undefined)
  })

  it('without detached content, reports the signature as unverifiable rather than throwing', async function () {
    const r = await verifyCms(slices[0]!.cms, {trust: TrustStore.apple(), now: NOW, validity: 'timestamp-or-now'})
    assert.equal(r.signatureValid, false)
    assert.match(r.signatureError ?? '', /no content/)
  })

  it('throws FormatError for bytes that are not a CMS', async function () {
    await assert.rejects(verifyCms(Buffer.from('not a cms'), {trust: TrustStore.apple(), now: NOW, validity: 'timestamp-or-now'}), FormatError)
    await assert.rejects(verifyCms(Buffer.alloc(0), {trust: TrustStore.apple(), now: NOW, validity: 'timestamp-or-now'}), FormatError)
  })

  it('random mutations: inside the signed bytes always invalid, elsewhere a result or FormatError only (150 runs)', async function () {
    const slice = slices[0]!
    const regions = signedRegions(slice.cms)
    const signedEnd = regions.signatureValue[1]
    const mutation = fc.oneof(
      fc.record({kind: fc.constant('truncate' as const), at: fc.nat({max: slice.cms.length})}),
      fc.record({kind: fc.constant('edit' as const), edits: fc.array(fc.tuple(fc.nat({max: slice.cms.length - 1}), fc.integer({min: 0, max: 255})), {minLength: 1, maxLength: 8})}),
      // Edits aimed at the signed attributes and the signature value, which random offsets rarely hit.
      fc.record({kind: fc.constant('edit' as const), edits: fc.array(fc.tuple(fc.integer({min: regions.signedAttributes[0], max: regions.signatureValue[1] - 1}), fc.integer({min: 0, max: 255})), {minLength: 1, maxLength: 4})}),
    )
    await fc.assert(
      fc.asyncProperty(mutation, async m => {
        let bytes: Buffer
        let mustFail: boolean
        if (m.kind === 'truncate') {
          bytes = slice.cms.subarray(0, m.at)
          mustFail = m.at < signedEnd
        } else {
          bytes = Buffer.from(slice.cms)
          for (const [at, value] of m.edits) bytes[at] = value
          const changed = m.edits.filter(([at]) => bytes[at] !== slice.cms[at]).map(([at]) => at)
          mustFail = changed.some(at => within(at, regions.signedAttributes) || within(at, regions.signatureValue))
        }
        let r
        try {
          r = await verifyCms(bytes, {trust: TrustStore.apple(), now: NOW, detachedContent: slice.codeDirectory, validity: 'timestamp-or-now'})
        } catch (e) {
          if (!(e instanceof FormatError)) throw e
          return
        }
        if (mustFail) assert.equal(r.signatureValid, false, 'a change inside the signed bytes was accepted')
        assert.equal(typeof r.chain.trusted, 'boolean')
      }),
      {numRuns: 150},
    )
  })

  it('random edits of the signed CodeDirectory always invalidate the signature (40 runs)', async function () {
    const slice = slices[0]!
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat({max: slice.codeDirectory.length - 1}), fc.integer({min: 1, max: 255})), {minLength: 1, maxLength: 4}), async edits => {
        const content = Buffer.from(slice.codeDirectory)
        for (const [at, xor] of edits) content[at] = content[at]! ^ xor
        if (content.equals(slice.codeDirectory)) return
        const r = await verifyCms(slice.cms, {trust: TrustStore.apple(), now: NOW, detachedContent: content, validity: 'timestamp-or-now'})
        assert.equal(r.signatureValid, false)
      }),
      {numRuns: 40},
    )
  })
})
