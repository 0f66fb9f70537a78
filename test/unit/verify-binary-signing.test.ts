import {strict as assert} from 'node:assert'
import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {ENDPOINT_SECURITY} from '../../src/verify/restricted-entitlements.js'
import type {VerifyReport} from '../../src/verify/report.js'
import {verifyPath} from '../../src/verify/verify-path.js'
import {buildSignedMachO, buildSignedMachOSlice, buildUniversal} from '../support/macho-writer.js'
import {SLOT, type SignOptions} from '../support/signature-writer.js'
import {ExitCode} from '../../src/exit-codes.js'
import type {FindingId} from '../../src/verify/finding-catalogue.js'
import {expectFinding} from '../support/expect-finding.js'
import {signCodeDirectories, type TestIdentity} from '../support/test-pki.js'
import {signingKitSuite} from '../support/signing-kit-suite.js'

const TEAM = 'ESDTEST001'
const NOW = new Date('2026-11-26T12:00:00Z')
const ES_ENTITLEMENTS = {'com.apple.application-identifier': `${TEAM}.com.example.esd`, 'com.apple.developer.team-identifier': TEAM, [ENDPOINT_SECURITY]: true}

const errorIds = (r: VerifyReport) => r.findings.filter(f => f.severity === 'error').map(f => f.id).sort()

describe('verify: bare binaries signed in test code', () => {
  const kit = signingKitSuite(TEAM, NOW, 'esdctl-bin-')
  let n = 0

  async function binary(sign: Partial<SignOptions>, cdhashAttributes: 'all' | 'none' | 'first-only' | 'adhoc' = 'all', identity?: TestIdentity): Promise<string> {
    const opts: SignOptions = {identifier: 'com.example.esd', teamId: TEAM, flags: 0x10000, ...sign}
    if (cdhashAttributes !== 'adhoc') {
      opts.cms = cds => signCodeDirectories({codeDirectories: cds, identity: identity ?? kit.leaf, signingTime: NOW, cdhashAttributes})
    }
    const bytes = await buildSignedMachO({arch: 'arm64', codeSize: 40_000}, opts)
    const path = join(kit.work, `bin${n++}`)
    await writeFile(path, bytes)
    return path
  }

  it('accepts a Developer ID binary with SHA-1 and SHA-256 CodeDirectories bound by the cdhash list', async () => {
    const r = await verifyPath(await binary({hashTypes: [1, 2]}), kit.opts)
    assert.deepEqual(errorIds(r), [])
    // What codesign shows (Hash type=, CDHash=) is the strongest CodeDirectory's, not slot 0's.
    assert.equal(r.slices[0]!.hashType, 'sha256')
    const candidates = r.slices[0]!.candidateCdhashes!
    assert.deepEqual(candidates.map(c => c.hashType), ['sha1', 'sha256'])
    assert.equal(r.slices[0]!.cdhash, candidates[1]!.cdhash)
    assert.notEqual(candidates[0]!.cdhash, candidates[1]!.cdhash)
  })

  for (const [hashTypes, strongest, index] of [
    [[2, 4], 'sha384', 1],
    [[3, 1], 'sha256-truncated', 0],
    [[3, 2], 'sha256', 1],
    [[1], 'sha1', 0],
  ] as const) {
    it(`reports the strongest of CodeDirectories [${hashTypes.join(', ')}]: ${strongest}`, async () => {
      const r = await verifyPath(await binary({hashTypes: [...hashTypes]}), kit.opts)
      assert.deepEqual(errorIds(r), [])
      const slice = r.slices[0]!
      assert.equal(slice.hashType, strongest)
      assert.equal(slice.cdhash, slice.candidateCdhashes![index]!.cdhash)
      assert.equal(slice.candidateCdhashes!.length, hashTypes.length)
    })
  }

  it('alternate CodeDirectories without the signed cdhash list → cms.cdhashes-missing', async () => {
    const r = await verifyPath(await binary({hashTypes: [1, 2]}, 'none'), kit.opts)
    assert.deepEqual(errorIds(r), ['cms.cdhashes-missing'])
    expectFinding(r, {id: 'cms.cdhashes-missing', severity: 'error', exitCode: ExitCode.verificationFailed})
  })

  it('a cdhash list naming only the first CodeDirectory → cms.cdhashes-mismatch', async () => {
    const r = await verifyPath(await binary({hashTypes: [1, 2]}, 'first-only'), kit.opts)
    assert.deepEqual(errorIds(r), ['cms.cdhashes-mismatch'])
    expectFinding(r, {id: 'cms.cdhashes-mismatch', severity: 'error', exitCode: ExitCode.verificationFailed})
  })

  it('a bare executable claiming ES → entitlements.restricted-in-bare-binary with the bundle fix', async () => {
    const r = await verifyPath(await binary({entitlements: ES_ENTITLEMENTS, derEntitlements: true}), kit.opts)
    assert.deepEqual(errorIds(r), ['entitlements.restricted-in-bare-binary'])
    const f = expectFinding(r, {id: 'entitlements.restricted-in-bare-binary', severity: 'error', exitCode: ExitCode.verificationFailed})
    assert.match(f.message, /endpoint-security\.client/)
    assert.match(f.message, /Killed: 9/)
    assert.match(f.fix!, /app-like bundle/)
  })

  it('an ad-hoc signature claiming ES → entitlements.restricted-adhoc', async () => {
    const r = await verifyPath(await binary({entitlements: ES_ENTITLEMENTS, flags: 0x2}, 'adhoc'), kit.opts)
    expectFinding(r, {id: 'entitlements.restricted-adhoc', severity: 'error', exitCode: ExitCode.verificationFailed})
    assert.equal(r.slices[0]!.signer, 'adhoc')
  })

  it('XML and DER entitlements that disagree → entitlements.der-mismatch', async () => {
    const path = await binary({entitlements: {'com.example.flag': 'abc'}, derEntitlements: true})
    const {readFile} = await import('node:fs/promises')
    const bytes = await readFile(path)
    // Rewrite the XML value in place and re-sign nothing: the slot hash catches it too, the mismatch is named.
    const at = bytes.indexOf('<string>abc</string>')
    bytes.write('<string>abd</string>', at)
    await writeFile(path, bytes)
    const r = await verifyPath(path, kit.opts)
    expectFinding(r, {id: 'entitlements.der-mismatch', severity: 'error', exitCode: ExitCode.verificationFailed})
    expectFinding(r, {id: 'signature.entitlements-modified', severity: 'error', exitCode: ExitCode.verificationFailed})
  })

  it('a changed byte in the DER entitlements blob → signature.der-entitlements-modified', async () => {
    const path = await binary({entitlements: {'com.example.flag': 'abc'}, derEntitlements: true})
    const bytes = await readFile(path)
    const der = bytes.indexOf(Buffer.from([0xfa, 0xde, 0x71, 0x72]))
    const at = bytes.indexOf('abc', der)
    bytes.write('abd', at)
    await writeFile(path, bytes)
    expectFinding(await verifyPath(path, kit.opts), {id: 'signature.der-entitlements-modified', severity: 'error', exitCode: ExitCode.verificationFailed})
  })

  describe('special slots and the blobs they bind (clean signatures otherwise: the CMS still verifies)', () => {
    const entitlements = {'com.apple.security.cs.allow-jit': true}
    const cases: Array<[string, Partial<SignOptions>, FindingId]> = [
      ['the requirement set bound but left out', {omittedBlobs: [SLOT.requirements]}, 'signature.requirements-missing'],
      ['the requirement set present but its slot empty', {unboundSlots: [SLOT.requirements]}, 'signature.requirements-unbound'],
      ['the entitlements bound but left out', {entitlements, derEntitlements: true, omittedBlobs: [SLOT.entitlements]}, 'signature.entitlements-missing'],
      ['the entitlements present but their slot empty', {entitlements, derEntitlements: true, unboundSlots: [SLOT.entitlements]}, 'signature.entitlements-unbound'],
      ['the DER entitlements bound but left out', {entitlements, derEntitlements: true, omittedBlobs: [SLOT.derEntitlements]}, 'signature.der-entitlements-missing'],
      ['the DER entitlements present but their slot empty', {entitlements, derEntitlements: true, unboundSlots: [SLOT.derEntitlements]}, 'signature.der-entitlements-unbound'],
    ]
    for (const [what, sign, id] of cases) {
      it(`${what} → ${id}, and nothing else`, async () => {
        const r = await verifyPath(await binary(sign), kit.opts)
        expectFinding(r, {id, severity: 'error', exitCode: ExitCode.verificationFailed})
        assert.deepEqual(errorIds(r), [id])
      })
    }
  })

  it('a signature neither ad hoc nor carrying a CMS → cms.missing', async () => {
    const r = await verifyPath(await binary({flags: 0x10000}, 'adhoc'), kit.opts)
    expectFinding(r, {id: 'cms.missing', severity: 'error', exitCode: ExitCode.verificationFailed})
    assert.equal(r.slices[0]!.signer, 'other')
  })

  it("a certificate of another team than the CodeDirectory's → cms.team-mismatch naming both", async () => {
    const other = await kit.pki.developerId('OTHERTEAM9')
    const r = await verifyPath(await binary({}, 'all', other), kit.opts)
    const f = expectFinding(r, {id: 'cms.team-mismatch', severity: 'error', exitCode: ExitCode.verificationFailed})
    assert.match(f.message, /team OTHERTEAM9 but the CodeDirectory names team ESDTEST001/)
    assert.deepEqual(errorIds(r), ['cms.team-mismatch'])
  })

  it("Apple's own signing (Software Signing kit.leaf, Apple's marker) is signer apple, not other", async () => {
    const apple = await kit.pki.appleSoftwareSigning()
    const bytes = await buildSignedMachO({arch: 'arm64', codeSize: 20_000}, {identifier: 'com.apple.ls', flags: 0, cms: cds => signCodeDirectories({codeDirectories: cds, identity: apple, signingTime: NOW})})
    const path = join(kit.work, `bin${n++}`)
    await writeFile(path, bytes)
    const r = await verifyPath(path, kit.opts)
    assert.deepEqual(errorIds(r), [])
    assert.equal(r.slices[0]!.signer, 'apple')
    assert.equal(r.slices[0]!.signerName, 'Software Signing')
  })

  it('a changed page breaking both CodeDirectories is reported once, naming both', async () => {
    const path = await binary({hashTypes: [1, 2]})
    const bytes = await readFile(path)
    bytes[12_345]! ^= 0x01
    await writeFile(path, bytes)
    const r = await verifyPath(path, kit.opts)
    assert.deepEqual(errorIds(r), ['signature.code-modified'])
    assert.match(r.findings[0]!.message, /affects the SHA-1 CodeDirectory and the alternate SHA-256 CodeDirectory\)$/)
  })

  describe('slices of a universal file', () => {
    async function universal(second: Partial<SignOptions>): Promise<VerifyReport> {
      const cms = (cds: Buffer[]) => signCodeDirectories({codeDirectories: cds, identity: kit.leaf, signingTime: NOW})
      const base: SignOptions = {identifier: 'tool-universal', teamId: TEAM, flags: 0x10000, cms, entitlements: {'com.apple.security.cs.allow-jit': true}}
      const x64 = await buildSignedMachOSlice({arch: 'x86_64', codeSize: 20_000}, base)
      const arm = await buildSignedMachOSlice({arch: 'arm64', codeSize: 20_000}, {...base, ...second})
      const path = join(kit.work, `bin${n++}`)
      await writeFile(path, buildUniversal([{arch: 'x86_64', bytes: x64.bytes}, {arch: 'arm64', bytes: arm.bytes}]))
      return verifyPath(path, kit.opts)
    }

    it('a different identifier per slice (as sentry-cli ships) changes nothing macOS decides: no finding', async () => {
      const r = await universal({identifier: 'tool-3047538001e811ea'})
      assert.deepEqual(r.findings, [])
      assert.deepEqual(r.slices.map(s => s.identifier), ['tool-universal', 'tool-3047538001e811ea'])
    })

    it('different entitlements per slice → binary.slices-disagree (the rights differ by CPU)', async () => {
      const r = await universal({entitlements: {'com.apple.security.cs.disable-library-validation': true}})
      assert.deepEqual(r.findings.map(f => f.id), ['binary.slices-disagree'])
      expectFinding(r, {id: 'binary.slices-disagree', severity: 'warning', exitCode: ExitCode.ok})
      assert.match(r.findings[0]!.message, /entitlements differ/)
    })
  })

  describe('bytes no signature covers (binary.trailing-data)', () => {
    it('after the signature of a thin file: an error that says why it matters', async () => {
      const path = await binary({})
      await writeFile(path, Buffer.concat([await readFile(path), Buffer.from('appended payload')]))
      const r = await verifyPath(path, kit.opts)
      assert.deepEqual(errorIds(r), ['binary.trailing-data'])
      const f = expectFinding(r, {id: 'binary.trailing-data', severity: 'error', exitCode: ExitCode.verificationFailed})
      assert.match(f.message, /16 bytes follow the code signature/)
      assert.match(f.message, /no signature covers them/)
      assert.match(f.message, /--strict refuses/)
      assert.match(f.fix!, /re-sign the original build output/i)
    })

    it('after the last slice of a universal file, and inside a slice after its signature', async () => {
      const cms = (cds: Buffer[]) => signCodeDirectories({codeDirectories: cds, identity: kit.leaf, signingTime: NOW})
      const sign: SignOptions = {identifier: 'tool', teamId: TEAM, flags: 0x10000, cms}
      const x64 = await buildSignedMachOSlice({arch: 'x86_64', codeSize: 20_000}, sign)
      const arm = await buildSignedMachOSlice({arch: 'arm64', codeSize: 20_000}, sign)
      const clean = buildUniversal([{arch: 'x86_64', bytes: x64.bytes}, {arch: 'arm64', bytes: arm.bytes}])
      const tail = join(kit.work, `bin${n++}`)
      await writeFile(tail, Buffer.concat([clean, Buffer.alloc(100, 0x41)]))
      const r = await verifyPath(tail, kit.opts)
      assert.deepEqual(errorIds(r), ['binary.trailing-data'])
      assert.match(r.findings[0]!.message, /100 bytes follow the last slice of the universal file/)

      const inside = join(kit.work, `bin${n++}`)
      await writeFile(inside, buildUniversal([{arch: 'x86_64', bytes: Buffer.concat([x64.bytes, Buffer.alloc(32)])}, {arch: 'arm64', bytes: arm.bytes}]))
      const r2 = await verifyPath(inside, kit.opts)
      assert.deepEqual(errorIds(r2), ['binary.trailing-data'])
      assert.match(r2.findings[0]!.message, /\[x86_64\]: 32 bytes follow the code signature/)
    })
  })

  it('the production trust store rejects the test chain', async () => {
    const r = await verifyPath(await binary({}), {now: NOW})
    assert.deepEqual(errorIds(r), ['cms.untrusted'])
    expectFinding(r, {id: 'cms.untrusted', severity: 'error', exitCode: ExitCode.verificationFailed})
  })
})
