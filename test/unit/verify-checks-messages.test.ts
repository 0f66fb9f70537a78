// The exact texts of the signature findings a user reads: what failed, where, and what to do
// (issue 14, area verify-checks). Each case builds a binary with one defect and pins its finding.
import {strict as assert} from 'node:assert'
import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import type {Finding} from '../../src/verify/finding.js'
import {verifyPath} from '../../src/verify/verify-path.js'
import {buildSignedMachO, buildSignedMachOSlice, buildUniversal} from '../support/macho-writer.js'
import {SLOT, type SignOptions} from '../support/signature-writer.js'
import {signCodeDirectories, type TestPki} from '../support/test-pki.js'
import {signingKitSuite} from '../support/signing-kit-suite.js'

const TEAM = 'ESDTEST001'
const NOW = new Date('2026-11-26T12:00:00Z')

describe('verify checks: the texts of signature findings', () => {
  const kit = signingKitSuite(TEAM, NOW, 'esdctl-msg-')
  let n = 0

  /** A thin arm64 executable signed by the test Developer ID kit.leaf, by `cms`, or ad hoc (`null`). */
  async function binary(sign: Partial<SignOptions>, cms?: SignOptions['cms'] | null): Promise<string> {
    const opts: SignOptions = {identifier: 'com.example.esd', teamId: TEAM, flags: 0x10000, ...sign}
    if (cms !== null) opts.cms = cms ?? (cds => signCodeDirectories({codeDirectories: cds, identity: kit.leaf, signingTime: NOW}))
    const path = join(kit.work, `bin${n++}`)
    await writeFile(path, await buildSignedMachO({arch: 'arm64', codeSize: 40_000}, opts))
    return path
  }

  /** The file's findings with the scratch folder written `<kit.work>`; `production` judges with Apple's anchors. */
  async function findings(path: string, trust: TestPki['trust'] | 'production'): Promise<Finding[]> {
    const r = await verifyPath(path, trust === 'production' ? {now: NOW} : {trust, now: NOW})
    // Each binary has a file of its own; the texts name it <file>.
    const named = (text: string) => text.split(kit.work).join('<kit.work>').replace(/<kit.work>\/bin\d+/g, '<file>')
    return r.findings.map(f => ({...f, path: named(f.path), message: named(f.message)}))
  }

  const DEVID_FIX = 'Sign again with your "Developer ID Application" identity and a secure timestamp: codesign --force --options runtime --timestamp --sign "Developer ID Application: … (TEAMID)" …'
  const CDHASH_FIX = 'Sign again with a current codesign; the signature does not vouch for every CodeDirectory it carries.'
  const RESIGN = 'Sign the file again (codesign --force --sign …) after the last change to it, and ship exactly the signed bytes.'

  /** The one finding `id` of the file, with its message and fix exactly as printed. */
  async function only(path: string, id: string, trust: TestPki['trust'] | 'production' = kit.pki.trust): Promise<Finding> {
    const all = await findings(path, trust)
    const hits = all.filter(f => f.id === id)
    assert.equal(hits.length, 1, `${id} once in ${JSON.stringify(all.map(f => f.id))}`)
    return hits[0]!
  }

  /** `message` with `$` for the file and its slice label. */
  const expect = (f: Finding, message: string, fix: string) =>
    assert.deepEqual({path: f.path, message: f.message, fix: f.fix}, {path: '<file>', message: message.replace('$', '<file> [arm64]'), fix})

  it('cms.malformed quotes the decoder', async () => {
    const path = await binary({}, async () => Buffer.from('30030201ff', 'hex'))
    expect(await only(path, 'cms.malformed'),
      '$: the CMS signature cannot be decoded: CMS signature: not a CMS SignedData structure (ContentInfo contentType is not an OBJECT IDENTIFIER)', DEVID_FIX)
  })

  it('cms.signature-invalid says why the signature does not verify', async () => {
    const path = await binary({}, cds => signCodeDirectories({codeDirectories: [Buffer.concat([cds[0]!, Buffer.from([0])])], identity: kit.leaf, signingTime: NOW, cdhashAttributes: 'none'}))
    expect(await only(path, 'cms.signature-invalid'),
      '$: the CMS signature does not verify over the CodeDirectory (the message digest does not match the sha256 of the content); the signature was altered or belongs to other code', DEVID_FIX)
  })

  it('cms.certificate-expired names the certificate and its last day', async () => {
    const expired = await kit.pki.developerId(TEAM, {notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2025-01-01T00:00:00Z')})
    const path = await binary({}, cds => signCodeDirectories({codeDirectories: cds, identity: expired, signingTime: new Date('2024-06-01T00:00:00Z')}))
    expect(await only(path, 'cms.certificate-expired'),
      '$: the signing certificate "Developer ID Application: esdctl Test Developer (ESDTEST001)" expired on 2025-01-01 and the signature has no valid secure timestamp, so macOS no longer accepts it',
      'Sign again with a current certificate and --timestamp, so the signature stays valid after the certificate expires.')
  })

  it('an expired certificate that chains to no trusted root is cms.untrusted, not cms.certificate-expired', async () => {
    const expired = await kit.pki.developerId(TEAM, {notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2025-01-01T00:00:00Z')})
    const path = await binary({}, cds => signCodeDirectories({codeDirectories: cds, identity: expired, signingTime: new Date('2024-06-01T00:00:00Z')}))
    const all = await findings(path, 'production')
    assert.deepEqual(all.filter(f => f.id.startsWith('cms.')).map(f => f.id), ['cms.untrusted'])
  })

  it('cms.untrusted names the signer and the chain error', async () => {
    const f = await only(await binary({}), 'cms.untrusted', 'production')
    assert.equal(f.fix, 'Sign with a certificate issued by Apple (Developer ID Application for software shipped outside the App Store).')
    assert.match(f.message, /^<file> \[arm64\]: the signing certificate does not chain to a trusted Apple root \(.+\); signer "Developer ID Application: esdctl Test Developer \(ESDTEST001\)"$/)
  })

  it('cms.team-mismatch names both teams', async () => {
    const otherTeam = await kit.pki.developerId('OTHERTEAM9')
    const path = await binary({}, cds => signCodeDirectories({codeDirectories: cds, identity: otherTeam, signingTime: NOW}))
    expect(await only(path, 'cms.team-mismatch'), '$: the signing certificate belongs to team OTHERTEAM9 but the CodeDirectory names team ESDTEST001', DEVID_FIX)
  })

  it('cms.cdhashes-missing and cms.cdhashes-mismatch count the CodeDirectories', async () => {
    const missing = await binary({hashTypes: [1, 2]}, cds => signCodeDirectories({codeDirectories: cds, identity: kit.leaf, signingTime: NOW, cdhashAttributes: 'none'}))
    expect(await only(missing, 'cms.cdhashes-missing'), '$: the signature carries 2 CodeDirectories but no signed cdhash list, so the alternates are not protected', CDHASH_FIX)
    const partial = await binary({hashTypes: [1, 2]}, cds => signCodeDirectories({codeDirectories: cds, identity: kit.leaf, signingTime: NOW, cdhashAttributes: 'first-only'}))
    expect(await only(partial, 'cms.cdhashes-mismatch'), '$: the signed cdhash list (1 entry) does not match the 2 CodeDirectories present', CDHASH_FIX)
  })

  it('a blob bound but absent, present but unbound, and changed after signing', async () => {
    expect(await only(await binary({omittedBlobs: [SLOT.requirements]}), 'signature.requirements-missing'),
      '$: the signature binds requirements (special slot −2) but the blob is absent', RESIGN)
    expect(await only(await binary({unboundSlots: [SLOT.requirements]}), 'signature.requirements-unbound'),
      '$: requirements are present but not bound by the CodeDirectory (special slot −2 is empty)', RESIGN)
    const changed = await binary({entitlements: {'com.example.flag': 'abc'}})
    const bytes = await readFile(changed)
    bytes.write('abd', bytes.indexOf('abc'))
    await writeFile(changed, bytes)
    const der = await binary({entitlements: {'com.example.flag': 'abc'}, derEntitlements: true})
    const derBytes = await readFile(der)
    derBytes.write('abd', derBytes.indexOf('abc', derBytes.indexOf(Buffer.from([0xfa, 0xde, 0x71, 0x72]))))
    await writeFile(der, derBytes)
    expect(await only(der, 'signature.der-entitlements-modified'),
      '$: DER entitlements changed after signing (its hash no longer matches special slot −7); macOS rejects the signature', RESIGN)
    expect(await only(changed, 'signature.entitlements-modified'),
      '$: entitlements changed after signing (its hash no longer matches special slot −5); macOS rejects the signature', RESIGN)
  })

  it('signature.code-modified lists the first five changed pages with their byte ranges, the last one cut at the code limit', async () => {
    const many = await binary({})
    const bytes = await readFile(many)
    for (const at of [100, 5000, 9000, 13000, 17000, 21000, 25000]) bytes[at]! ^= 1
    await writeFile(many, bytes)
    const why = '. The executable was changed after signing; macOS kills it at launch (Killed: 9).'
    expect(await only(many, 'signature.code-modified'),
      `$: 7 of 10 code pages do not match their signed hashes: page 0 (bytes 0–4095), page 1 (bytes 4096–8191), page 2 (bytes 8192–12287), page 3 (bytes 12288–16383), page 4 (bytes 16384–20479), …${why}`, RESIGN)
    const last = await binary({})
    const lastBytes = await readFile(last)
    lastBytes[39_000]! ^= 1
    await writeFile(last, lastBytes)
    expect(await only(last, 'signature.code-modified'), `$: 1 of 10 code pages do not match their signed hashes: page 9 (bytes 36864–39999)${why}`, RESIGN)
  })

  it('signature.code-limit: a CodeDirectory ending before or after the signature', async () => {
    for (const [delta, tail] of [[-16, 'the bytes in between are not protected'], [16, 'it claims to cover its own signature']] as const) {
      const path = await binary({})
      const bytes = await readFile(path)
      const cd = bytes.indexOf(Buffer.from([0xfa, 0xde, 0x0c, 0x02]))
      const limit = bytes.readUInt32BE(cd + 0x20)
      bytes.writeUInt32BE(limit + delta, cd + 0x20)
      // From version 0x20300 a non-zero codeLimit64 takes precedence.
      if (bytes.readBigUInt64BE(cd + 0x38) !== 0n) bytes.writeBigUInt64BE(BigInt(limit + delta), cd + 0x38)
      await writeFile(path, bytes)
      expect(await only(path, 'signature.code-limit'), `$: the CodeDirectory covers ${limit + delta} bytes but the signature starts at ${limit}; ${tail}`, RESIGN)
    }
  })
  it('a CodeDirectory naming no team is not compared with the certificate\'s team', async () => {
    const apple = await kit.pki.appleSoftwareSigning()
    const appleSigned = await binary({teamId: undefined}, cds => signCodeDirectories({codeDirectories: cds, identity: apple, signingTime: NOW}))
    assert.deepEqual((await findings(appleSigned, kit.pki.trust)).map(f => f.id), [])
    assert.deepEqual((await findings(await binary({teamId: undefined}), kit.pki.trust)).map(f => f.id), [])
  })

  it('an expired certificate with a secure timestamp from its lifetime is no finding', async () => {
    const expired = await kit.pki.developerId(TEAM, {notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2025-01-01T00:00:00Z')})
    const signedAt = new Date('2024-06-01T00:00:00Z')
    const path = await binary({}, cds => signCodeDirectories({codeDirectories: cds, identity: expired, signingTime: signedAt, timestamp: {time: signedAt}}))
    assert.deepEqual((await findings(path, kit.pki.trust)).map(f => f.id), [])
  })

  it('a bare executable whose signature binds an Info.plist it cannot see is not judged on it', async () => {
    const path = await binary({infoPlist: Buffer.from('<plist version="1.0"><dict/></plist>')})
    assert.deepEqual((await findings(path, kit.pki.trust)).map(f => f.id), [])
  })
  describe('entitlements and signing mode', () => {
    const GTA = 'com.apple.security.get-task-allow'
    it('entitlements.der-mismatch', async () => {
      const path = await binary({entitlements: {'com.example.flag': 'abc'}, derEntitlements: true})
      const bytes = await readFile(path)
      bytes.write('<string>abd</string>', bytes.indexOf('<string>abc</string>'))
      await writeFile(path, bytes)
      expect(await only(path, 'entitlements.der-mismatch'), '$: the XML and DER entitlements differ; macOS enforces the DER form',
        'Sign again with codesign so both forms are generated from the same entitlements file.')
    })

    it('entitlements.restricted-adhoc lists the restricted claims; an ad-hoc claim of nothing restricted is fine', async () => {
      const claims = {'com.apple.developer.endpoint-security.client': true, 'keychain-access-groups': ['T.x'], 'com.apple.developer.off': false}
      expect(await only(await binary({flags: 0x2, entitlements: claims}, null), 'entitlements.restricted-adhoc'),
        '$: ad-hoc signed but claims com.apple.developer.endpoint-security.client, keychain-access-groups; restricted entitlements need an Apple-issued signing certificate and a provisioning profile, so macOS will kill it (Killed: 9)',
        'Sign with your Developer ID Application certificate, inside an app-like bundle with an embedded.provisionprofile that allows these entitlements.')
      assert.deepEqual((await findings(await binary({flags: 0x2, entitlements: {'com.apple.developer.off': false, [GTA]: true}}, null), kit.pki.trust)).map(f => f.id), [])
    })

    it('entitlements.get-task-allow on Developer ID code, with notarization named unless library validation is off too', async () => {
      const fix = `Remove ${GTA} from the release entitlements.`
      expect(await only(await binary({entitlements: {[GTA]: true}}), 'entitlements.get-task-allow'),
        `$: a Developer ID build claims ${GTA} (debugging); notarization refuses it, and it lets other processes of the same user attach to the daemon and inject code`, fix)
      expect(await only(await binary({entitlements: {[GTA]: true, 'com.apple.security.cs.disable-library-validation': true}}), 'entitlements.get-task-allow'),
        `$: a Developer ID build claims ${GTA} (debugging); it lets other processes of the same user attach to the daemon and inject code`, fix)
      assert.deepEqual((await findings(await binary({entitlements: {[GTA]: false}}), kit.pki.trust)).map(f => f.id), [])
      // Ad-hoc code is for debugging: get-task-allow and no hardened runtime are its normal state.
      assert.deepEqual((await findings(await binary({flags: 0x2, entitlements: {[GTA]: true}}, null), kit.pki.trust)).map(f => f.id), [])
    })

    it('signature.hardened-runtime-missing on Developer ID code only', async () => {
      expect(await only(await binary({flags: 0}), 'signature.hardened-runtime-missing'),
        '$: signed without the hardened runtime: notarization has required it for new submissions since February 2020, and without it the code has no protection against injected libraries or debuggers',
        'Sign with --options runtime.')
    })
  })
  describe('binary.trailing-data', () => {
    const WHY = 'no signature covers them: anyone can change or append them without breaking the signature (a place to hide a payload), and codesign --verify --strict refuses such a file ("main executable failed strict validation"), as Gatekeeper and notarization do'
    const FIX = 'Ship the file exactly as the linker and codesign wrote it: re-sign the original build output, and keep extra data in a separate file (inside a bundle, under Contents/Resources, where the seal covers it).'

    it('after the signature of a thin file, naming the byte range', async () => {
      const path = await binary({})
      const bytes = await readFile(path)
      await writeFile(path, Buffer.concat([bytes, Buffer.alloc(7)]))
      const f = await only(path, 'binary.trailing-data')
      assert.deepEqual({message: f.message, fix: f.fix}, {message: `<file>: 7 bytes follow the code signature (file bytes ${bytes.length}–${bytes.length + 6}); ${WHY}`, fix: FIX})
    })

    it('inside a slice of a universal file, and after its last slice, each with its range', async () => {
      const sign: SignOptions = {identifier: 'tool', teamId: TEAM, flags: 0x10000, cms: cds => signCodeDirectories({codeDirectories: cds, identity: kit.leaf, signingTime: NOW})}
      const x64 = await buildSignedMachOSlice({arch: 'x86_64', codeSize: 20_000}, sign)
      const arm = await buildSignedMachOSlice({arch: 'arm64', codeSize: 20_000}, sign)
      const fat = buildUniversal([{arch: 'x86_64', bytes: Buffer.concat([x64.bytes, Buffer.alloc(5)])}, {arch: 'arm64', bytes: arm.bytes}])
      const path = join(kit.work, 'fat')
      await writeFile(path, Buffer.concat([fat, Buffer.alloc(3)]))
      const all = (await findings(path, kit.pki.trust)).filter(f => f.id === 'binary.trailing-data')
      assert.equal(all.length, 2)
      const x64Offset = fat.readUInt32BE(8 + 8)
      assert.equal(all[0]!.message, `<kit.work>/fat [x86_64]: 5 bytes follow the code signature (file bytes ${x64Offset + x64.bytes.length}–${x64Offset + x64.bytes.length + 4}); ${WHY}`)
      assert.equal(all[1]!.message, `<kit.work>/fat: 3 bytes follow the last slice of the universal file (file bytes ${fat.length}–${fat.length + 2}); ${WHY}`)
    })
  })
  describe('a slice that cannot be read', () => {
    it('macho.malformed: load commands larger than the slice, quoting the parser', async () => {
      const path = await binary({})
      const bytes = await readFile(path)
      bytes.writeUInt32LE(0x7fff_ffff, 20) // sizeofcmds of the 64-bit Mach-O header
      await writeFile(path, bytes)
      const f = await only(path, 'macho.malformed')
      assert.match(f.message, /^<file> \[arm64\]: \S.*$/)
      assert.equal(f.fix, 'The file is damaged or not a macOS executable; rebuild it.')
    })

    it('signature.malformed: a damaged SuperBlob, quoting the parser', async () => {
      const path = await binary({})
      const bytes = await readFile(path)
      bytes.writeUInt32BE(0xfade0bad, bytes.indexOf(Buffer.from([0xfa, 0xde, 0x0c, 0xc0])))
      await writeFile(path, bytes)
      const f = await only(path, 'signature.malformed')
      assert.match(f.message, /^<file> \[arm64\]: the code signature cannot be read: \S.*$/)
      assert.equal(f.fix, 'Sign the file again with codesign; the signature is damaged.')
    })
  })
  it('hashing the pages stopped by the caller is the caller\'s abort, not a finding about the file', async () => {
    const path = await binary({})
    await assert.rejects(verifyPath(path, {trust: kit.pki.trust, now: NOW, pageHashing: {signal: AbortSignal.abort()}}), {name: 'AbortError'})
  })
  it('a fault in esdctl while judging the CMS is thrown, not reported as a damaged signature', async () => {
    const path = await binary({})
    // A trust store without anchors is no input esdctl can be given; it stands for a bug in the verifier.
    const broken = Object.create(Object.getPrototypeOf(kit.pki.trust)) as TestPki['trust']
    await assert.rejects(verifyPath(path, {trust: broken, now: NOW}), TypeError)
  })
  it('cms.timestamp-invalid says why the timestamp failed, and the signature is then judged now', async () => {
    const expired = await kit.pki.developerId(TEAM, {notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2025-01-01T00:00:00Z')})
    const signedAt = new Date('2024-06-01T00:00:00Z')
    const path = await binary({}, cds => signCodeDirectories({codeDirectories: cds, identity: expired, signingTime: signedAt, timestamp: {time: signedAt}}))
    // Apple's anchors trust neither the test time-stamping authority nor the signer.
    const all = await findings(path, 'production')
    assert.deepEqual(all.map(f => f.id), ['cms.timestamp-invalid', 'cms.untrusted'])
    expect(all[0]!, '$: the secure timestamp does not verify (the timestamp authority is not trusted: the chain ends at the self-signed "esdctl Test Root CA", which is not a trusted root); the signature is judged at the current time instead', DEVID_FIX)
  })
  describe("Apple's two cdhash attributes against the CodeDirectories", () => {
    const signed = (attributes: {plist: number[]; digests: number[]}, hashTypes = [1, 2]) =>
      binary({hashTypes}, cds => signCodeDirectories({codeDirectories: cds, identity: kit.leaf, signingTime: NOW, cdhashAttributes: attributes}))

    it('both lists naming every CodeDirectory, or only the plist list: no finding', async () => {
      assert.deepEqual((await findings(await signed({plist: [0, 1], digests: [0, 1]}), kit.pki.trust)).map(f => f.id), [])
      assert.deepEqual((await findings(await signed({plist: [0, 1], digests: []}), kit.pki.trust)).map(f => f.id), [])
    })

    it('a plist list of the right length naming one CodeDirectory twice is a mismatch', async () => {
      expect(await only(await signed({plist: [0, 0], digests: [0, 1]}), 'cms.cdhashes-mismatch'),
        '$: the signed cdhash list (2 entries) does not match the 2 CodeDirectories present', CDHASH_FIX)
    })

    it('a digest list missing a CodeDirectory is a mismatch, whichever algorithm is left out', async () => {
      expect(await only(await signed({plist: [0, 1], digests: [0]}), 'cms.cdhashes-mismatch'),
        '$: the signed hash list (1.2.840.113635.100.9.2) does not include the sha256 CodeDirectory', CDHASH_FIX)
      expect(await only(await signed({plist: [0, 1], digests: [1]}), 'cms.cdhashes-mismatch'),
        '$: the signed hash list (1.2.840.113635.100.9.2) does not include the sha1 CodeDirectory', CDHASH_FIX)
    })

    it('one CodeDirectory needs no cdhash list', async () => {
      assert.deepEqual((await findings(await signed({plist: [], digests: []}, [2]), kit.pki.trust)).map(f => f.id), [])
    })
  })

  it('a certificate expiring at the very moment of the check has not expired yet', async () => {
    const ending = await kit.pki.developerId(TEAM, {notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: NOW})
    const path = await binary({}, cds => signCodeDirectories({codeDirectories: cds, identity: ending, signingTime: NOW}))
    assert.deepEqual((await findings(path, 'production')).map(f => f.id), ['cms.untrusted'])
  })
  it('a timestamp made after the certificate expired: judged at the timestamp, the chain fails there, cms.untrusted', async () => {
    const expired = await kit.pki.developerId(TEAM, {notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2025-01-01T00:00:00Z')})
    const late = new Date('2025-06-01T00:00:00Z')
    const path = await binary({}, cds => signCodeDirectories({codeDirectories: cds, identity: expired, signingTime: late, timestamp: {time: late}}))
    const name = 'Developer ID Application: esdctl Test Developer (ESDTEST001)'
    expect(await only(path, 'cms.untrusted'),
      `$: the signing certificate does not chain to a trusted Apple root ("${name}" is valid from 2020-01-01T00:00:00.000Z to 2025-01-01T00:00:00.000Z, not at 2025-06-01T00:00:00.000Z); signer "${name}"`,
      'Sign with a certificate issued by Apple (Developer ID Application for software shipped outside the App Store).')
    assert.deepEqual((await findings(path, kit.pki.trust)).map(f => f.id), ['cms.untrusted'])
  })
})
