import {strict as assert} from 'node:assert'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseFileLayout, parseMachO, machHeaderExtent} from '../../src/formats/macho.js'
import {parseEmbeddedSignature, SlotType} from '../../src/formats/superblob.js'
import * as pkijs from 'pkijs'
import {verifyPath} from '../../src/verify/verify-path.js'
import {ExitCode} from '../../src/exit-codes.js'
import {expectFinding} from '../support/expect-finding.js'
import {ARTIFACTS, realArtifact} from '../support/real-artifacts.js'

/** Locates, in a real file, where one slice's signature blob for `slot` lives. */
function blobOffset(bytes: Buffer, sliceIndex: number, slot: number): {start: number; length: number; sliceOffset: number; codeLimit: number} {
  const layout = parseFileLayout(bytes.subarray(0, 4096), bytes.length)
  const loc = layout.slices[sliceIndex]!
  const slice = bytes.subarray(loc.offset, loc.offset + loc.size)
  const image = parseMachO(slice.subarray(0, machHeaderExtent(slice, loc.size)), loc.size)
  const cs = image.codeSignature!
  const sb = parseEmbeddedSignature(slice.subarray(cs.dataOffset, cs.dataOffset + cs.dataSize))
  const e = sb.entries.find(x => x.slot === slot)!
  return {start: loc.offset + cs.dataOffset + e.offset, length: e.length, sliceOffset: loc.offset, codeLimit: cs.dataOffset}
}

describe('verify: real signed binaries from the registry', () => {
  let dir: string
  let sentry: string
  let esbuild: string
  before(async () => {
    sentry = await realArtifact(ARTIFACTS.sentryCli)
    esbuild = await realArtifact(ARTIFACTS.esbuild)
    dir = await mkdtemp(join(tmpdir(), 'esdctl-real-'))
  })
  after(() => rm(dir, {recursive: true, force: true}))

  it('accepts the Developer ID universal sentry-cli and reports both slices', async () => {
    const r = await verifyPath(sentry)
    assert.equal(r.kind, 'macho')
    assert.equal(r.ok, true, JSON.stringify(r.findings))
    assert.deepEqual(r.slices.map(s => s.arch), ['x86_64', 'arm64'])
    for (const s of r.slices) {
      assert.equal(s.teamId, '97JCY7859U')
      assert.equal(s.signer, 'developer-id')
      assert.equal(s.hashType, 'sha256')
      assert.ok(s.flags.includes('runtime'))
      assert.match(s.cdhash!, /^[0-9a-f]{40}$/)
      assert.match(s.designatedRequirement!, /anchor apple generic/)
      assert.match(s.designatedRequirement!, /certificate leaf\[subject\.OU\] = "?97JCY7859U"?/)
    }
    assert.ok(r.findings.every(f => f.severity !== 'error'))
  })

  it('recognises the linker-signed esbuild as ad-hoc', async () => {
    const r = await verifyPath(esbuild)
    assert.equal(r.ok, true, JSON.stringify(r.findings))
    assert.equal(r.slices.length, 1)
    assert.equal(r.slices[0]!.arch, 'arm64')
    assert.equal(r.slices[0]!.signer, 'adhoc')
    assert.ok(r.slices[0]!.flags.includes('linker-signed'))
    assert.ok(r.slices[0]!.flags.includes('adhoc'))
  })

  async function tampered(src: string, name: string, mutate: (b: Buffer) => void): Promise<string> {
    const bytes = await readFile(src)
    mutate(bytes)
    const out = join(dir, name)
    await writeFile(out, bytes)
    return out
  }

  it('finds one flipped byte in a code page of the second slice only', async () => {
    const out = await tampered(sentry, 'page', b => {
      const {sliceOffset} = blobOffset(b, 1, SlotType.codeDirectory)
      b[sliceOffset + 4096 * 3 + 17]! ^= 0x01
    })
    const r = await verifyPath(out)
    assert.equal(r.ok, false)
    expectFinding(r, {id: 'signature.code-modified', severity: 'error', exitCode: ExitCode.verificationFailed})
    const f = r.findings.filter(x => x.id === 'signature.code-modified')
    assert.equal(f.length, 1)
    assert.match(f[0]!.message, /\[arm64\]/)
    assert.match(f[0]!.message, /page 3 /)
    assert.match(f[0]!.message, /Killed: 9/)
  })

  it('finds a flipped byte in the CMS signature value', async () => {
    const out = await tampered(sentry, 'cms', b => {
      const {start, length} = blobOffset(b, 0, SlotType.signature)
      const cms = b.subarray(start + 8, start + length)
      const info = pkijs.ContentInfo.fromBER(cms)
      const signed = new pkijs.SignedData({schema: info.content})
      const value = Buffer.from(signed.signerInfos[0]!.signature.valueBlock.valueHexView)
      const at = cms.indexOf(value)
      assert.ok(at > 0)
      cms[at + 10]! ^= 0xff
    })
    const r = await verifyPath(out)
    assert.equal(r.ok, false)
    assert.deepEqual(r.findings.filter(x => x.severity === 'error').map(f => f.id), ['cms.signature-invalid'])
    expectFinding(r, {id: 'cms.signature-invalid', severity: 'error', exitCode: ExitCode.verificationFailed})
  })

  it('a flipped byte in the secure timestamp only costs the timestamp', async () => {
    const out = await tampered(sentry, 'ts', b => {
      const {start, length} = blobOffset(b, 0, SlotType.signature)
      b[start + length - 40]! ^= 0xff
    })
    const r = await verifyPath(out)
    // Without the timestamp, the signature is judged now, while sentry-cli's certificate is still valid.
    const f = expectFinding(r, {id: 'cms.timestamp-invalid', severity: 'warning', exitCode: ExitCode.ok})
    assert.match(f.message, /^\S+ \[\w+\]: the secure timestamp does not verify \((?!unknown reason).+\); the signature is judged at the current time instead$/)
    assert.match(f.fix!, /^Sign again with your "Developer ID Application" identity and a secure timestamp: codesign --force/)
  })

  it('finds a flipped byte in the requirements blob', async () => {
    const out = await tampered(sentry, 'req', b => {
      const {start, length} = blobOffset(b, 0, SlotType.requirements)
      b[start + length - 2]! ^= 0x20
    })
    const r = await verifyPath(out)
    assert.ok(r.findings.some(x => x.id === 'signature.requirements-modified' || x.id === 'signature.malformed'), JSON.stringify(r.findings.map(f => f.id)))
    assert.equal(r.ok, false)
    // The last byte of the designated requirement's text: the blob still parses, only its hash differs.
    const last = await tampered(sentry, 'req-last', b => {
      const {start, length} = blobOffset(b, 0, SlotType.requirements)
      b[start + length - 1]! ^= 0x01
    })
    expectFinding(await verifyPath(last), {id: 'signature.requirements-modified', severity: 'error', exitCode: ExitCode.verificationFailed})
  })

  describe('damage to the structure, each its own finding', () => {
    /** esbuild's LC_CODE_SIGNATURE load command: its offset in the file and the signature's. */
    function codeSignatureCommand(b: Buffer): {command: number; dataOffset: number} {
      const image = parseMachO(b.subarray(0, machHeaderExtent(b, b.length)), b.length)
      let at = 32
      for (let i = 0; i < b.readUInt32LE(16); i++) {
        if (b.readUInt32LE(at) === 0x1d) return {command: at, dataOffset: image.codeSignature!.dataOffset}
        at += b.readUInt32LE(at + 4)
      }
      throw new Error('esbuild has no LC_CODE_SIGNATURE')
    }

    it('the signature load command turned into another one: signature.missing', async () => {
      const out = await tampered(esbuild, 'unsigned', b => b.writeUInt32LE(0x2b, codeSignatureCommand(b).command))
      const f = expectFinding(await verifyPath(out), {id: 'signature.missing', severity: 'error', exitCode: ExitCode.verificationFailed})
      assert.match(f.message, /\[arm64\]: the slice is not signed/)
    })

    it('the SuperBlob magic changed: signature.malformed', async () => {
      const out = await tampered(esbuild, 'superblob', b => {
        b[codeSignatureCommand(b).dataOffset]! ^= 0xff
      })
      expectFinding(await verifyPath(out), {id: 'signature.malformed', severity: 'error', exitCode: ExitCode.verificationFailed})
    })

    it('a CodeDirectory whose codeLimit stops one byte short of the signature: signature.code-limit', async () => {
      const out = await tampered(esbuild, 'code-limit', b => {
        const {start, codeLimit} = blobOffset(b, 0, SlotType.codeDirectory)
        b.writeUInt32BE(codeLimit - 1, start + 0x20)
      })
      const f = expectFinding(await verifyPath(out), {id: 'signature.code-limit', severity: 'error', exitCode: ExitCode.verificationFailed})
      assert.match(f.message, /the bytes in between are not protected/)
    })

    it('a header claiming more load commands than fit: macho.malformed', async () => {
      const out = await tampered(esbuild, 'ncmds', b => b.writeUInt32LE(0xffff, 16))
      expectFinding(await verifyPath(out), {id: 'macho.malformed', severity: 'error', exitCode: ExitCode.verificationFailed})
    })

    it('a CMS blob that is no SignedData: cms.malformed in each slice', async () => {
      const out = await tampered(sentry, 'cms-der', b => {
        for (const slice of [0, 1]) {
          const {start} = blobOffset(b, slice, SlotType.signature)
          b[start + 8] = 0x04
        }
      })
      const r = await verifyPath(out)
      expectFinding(r, {id: 'cms.malformed', severity: 'error', exitCode: ExitCode.verificationFailed})
      assert.equal(r.findings.filter(f => f.id === 'cms.malformed').length, 2)
    })
  })

  it('finds a changed CodeDirectory (identifier byte) through the CMS, not the page hashes', async () => {
    const out = await tampered(sentry, 'cd', b => {
      const {start} = blobOffset(b, 0, SlotType.codeDirectory)
      const identOffset = b.readUInt32BE(start + 0x14)
      b[start + identOffset]! ^= 0x01
    })
    const r = await verifyPath(out)
    assert.equal(r.ok, false)
    const ids = r.findings.map(f => f.id)
    assert.ok(ids.includes('cms.signature-invalid'), ids.join(','))
    assert.ok(!ids.includes('signature.code-modified'))
  })

  it('reports a truncated file as a finding, never a crash', async () => {
    const bytes = await readFile(sentry)
    const out = join(dir, 'short')
    await writeFile(out, bytes.subarray(0, bytes.length - 5000))
    const r = await verifyPath(out)
    assert.equal(r.ok, false)
    assert.ok(r.findings.length > 0)
  })

  it('says what a missing path or a foreign file is', async () => {
    const missing = await verifyPath(join(dir, 'nope'))
    assert.equal(missing.findings[0]!.id, 'input.unreadable')
    expectFinding(missing, {id: 'input.unreadable', severity: 'error', exitCode: ExitCode.badInput})
    const text = join(dir, 'text.txt')
    await writeFile(text, 'hello')
    const unknown = await verifyPath(text)
    assert.equal(unknown.findings[0]!.id, 'input.unknown-kind')
    assert.equal(unknown.ok, false)
    expectFinding(unknown, {id: 'input.unknown-kind', severity: 'error', exitCode: ExitCode.badInput})
  })
})
