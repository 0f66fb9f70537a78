import {strict as assert} from 'node:assert'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {isDict, type PlistDict} from '../../src/formats/property-list.js'
import {deriveRequirement, RequirementError} from '../../src/pppc/code-requirement.js'
import {buildPppcProfile} from '../../src/pppc/pppc-profile.js'
import {verifyPath} from '../../src/verify/verify-path.js'
import {buildBundle, developerIdRequirement} from '../support/bundle-builder.js'
import {ARTIFACTS, realArtifact} from '../support/real-artifacts.js'
import {createTestPki} from '../support/test-pki.js'
import {execa} from 'execa'
import {writeFile} from 'node:fs/promises'
import {REPO_ROOT} from '../support/real-artifacts.js'
import {ExitCode} from '../../src/exit-codes.js'

const UUID = /^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/

/** The one SystemPolicyAllFiles grant, checked for shape on the way. */
function grantOf(profile: PlistDict): PlistDict {
  assert.equal(profile.PayloadType, 'Configuration')
  assert.equal(profile.PayloadScope, 'System')
  assert.equal(profile.PayloadVersion, 1)
  const content = profile.PayloadContent
  assert.ok(Array.isArray(content) && content.length === 1)
  const payload = content[0]!
  assert.ok(isDict(payload))
  assert.equal(payload.PayloadType, 'com.apple.TCC.configuration-profile-policy')
  assert.ok(isDict(payload.Services))
  const grants = payload.Services.SystemPolicyAllFiles
  assert.ok(Array.isArray(grants) && grants.length === 1)
  assert.deepEqual(Object.keys(payload.Services), ['SystemPolicyAllFiles'])
  const grant = grants[0]!
  assert.ok(isDict(grant))
  assert.equal(grant.Allowed, true)
  assert.equal(grant.StaticCode, false)
  return grant
}

describe('esdctl pppc: the Full Disk Access profile', function () {
  this.timeout(120_000)

  it('keys the grant to the real designated requirement of a Developer ID binary (sentry-cli)', async () => {
    const path = await realArtifact(ARTIFACTS.sentryCli)
    const report = await verifyPath(path)
    const drs = report.slices.map((s) => s.designatedRequirement)
    assert.equal(drs.length, 2)
    assert.ok(drs.every((dr) => dr !== undefined), 'sentry-cli embeds a designated requirement in each slice')
    const profile = await buildPppcProfile(report, {executablePath: '/usr/local/bin/sentry-cli'})
    const grant = grantOf(profile.plist)
    // Its two slices are signed under different identifiers: either may run, so either satisfies the grant.
    assert.notEqual(drs[0], drs[1])
    assert.equal(grant.CodeRequirement, `(${drs[0]}) or (${drs[1]})`)
    assert.equal(profile.requirement.source, 'designated-requirement')
    // Each requirement names what its slice's signature shows: its identifier and its team.
    for (const [i, dr] of drs.entries()) {
      assert.match(dr!, new RegExp(`^identifier "?${report.slices[i]!.identifier!.replace(/[.]/g, '\\.')}"? `))
      assert.match(dr!, /certificate leaf\[subject\.OU\] = "?97JCY7859U"?/)
      assert.match(dr!, /anchor apple generic/)
    }
    assert.equal(grant.IdentifierType, 'path')
    assert.equal(grant.Identifier, '/usr/local/bin/sentry-cli')
  })

  describe('with a test-PKI Developer ID bundle', () => {
    let dir: string
    let app: string
    let trust: Awaited<ReturnType<typeof createTestPki>>['trust']
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'esdctl-pppc-'))
      const pki = await createTestPki()
      trust = pki.trust
      app = await buildBundle({dir, name: 'thed', bundleId: 'com.example.thed', teamId: 'ABCDE12345', identity: await pki.developerId('ABCDE12345'), arch: ['arm64', 'x86_64']})
    })
    after(async () => {
      await rm(dir, {recursive: true, force: true})
    })

    it('builds the Developer ID requirement from the signature, bundleID identifier, fresh UUIDs, valid plist', async () => {
      const report = await verifyPath(app, {trust})
      assert.equal(report.ok, true)
      const a = await buildPppcProfile(report, {displayName: 'thed', organization: 'Example & Co <IT>'})
      const b = await buildPppcProfile(report)
      const grant = grantOf(a.plist)
      assert.equal(grant.Identifier, report.slices[0]!.identifier)
      assert.equal(grant.Identifier, 'com.example.thed')
      assert.equal(grant.IdentifierType, 'bundleID')
      assert.equal(a.requirement.source, report.slices[0]!.designatedRequirement === undefined ? 'developer-id-markers' : 'designated-requirement')
      assert.equal(grant.CodeRequirement, report.slices[0]!.designatedRequirement ?? developerIdRequirement('com.example.thed', report.slices[0]!.teamId!))
      assert.equal(a.plist.PayloadOrganization, 'Example & Co <IT>', 'escaped in XML, intact when parsed')
      for (const p of [a, b]) {
        assert.match(p.profileUuid, UUID)
        assert.match(p.payloadUuid, UUID)
        assert.equal(p.plist.PayloadUUID, p.profileUuid)
        assert.equal((p.plist.PayloadContent as PlistDict[])[0]!.PayloadUUID, p.payloadUuid)
      }
      assert.notEqual(a.profileUuid, b.profileUuid)
      assert.notEqual(a.payloadUuid, b.payloadUuid)
      assert.equal(a.plist.PayloadIdentifier, b.plist.PayloadIdentifier, 'stable, so an MDM replaces the profile')
      assert.doesNotMatch(a.xml, /\{\{/)
    })

    it('refuses a bundle signed under an identifier other than its CFBundleIdentifier, naming both', async () => {
      const other = await buildBundle({dir: join(dir, 'other'), name: 'thed', bundleId: 'com.example.thed', teamId: 'ABCDE12345', identity: await (await createTestPki()).developerId('ABCDE12345'), signOverrides: {identifier: 'com.example.someone-else'}})
      const report = await verifyPath(other, {trust})
      assert.deepEqual(report.findings.filter((f) => f.severity === 'error').map((f) => f.id), [], 'the signature itself verifies')
      await assert.rejects(buildPppcProfile(report), (e: unknown) => {
        assert.ok(e instanceof RequirementError, String(e))
        assert.match(e.message, /the arm64 slice is signed with identifier com\.example\.someone-else \(team ABCDE12345\), but the bundle's CFBundleIdentifier is "com\.example\.thed"/)
        return true
      })
    })

    it('refuses slices that disagree, ad-hoc code, and code without a team', () => {
      const base = {arch: 'arm64', identifier: 'com.example.thed', teamId: 'ABCDE12345', flags: [], signer: 'developer-id' as const, entitlements: {}}
      assert.throws(() => deriveRequirement([base, {...base, arch: 'x86_64', teamId: 'ZZZZZ99999'}]), /different teams/)
      assert.equal(deriveRequirement([{...base, designatedRequirement: 'A'}, {...base, arch: 'x86_64', designatedRequirement: 'A'}]).requirement, 'A')
      assert.throws(() => deriveRequirement([{...base, signer: 'adhoc', teamId: undefined}], '/x/thed.app'), /\/x\/thed\.app: the arm64 slice is ad-hoc signed.*code hash.*esdctl bundle/)
      assert.throws(() => deriveRequirement([{...base, teamId: undefined}]), /no team id/)
      assert.throws(() => deriveRequirement([{...base, signer: 'apple-development'}]), /not a Developer ID/)
      assert.throws(() => deriveRequirement([]), /not signed/)
      assert.match(deriveRequirement([base]).requirement, /certificate leaf\[subject\.OU\] = ABCDE12345$/)
    })
  })

  it('a path that does not exist is named as missing (exit 4), not as unsigned code', async () => {
    const r = await execa(process.execPath, [join(REPO_ROOT, 'bin', 'run.js'), 'pppc', '/nonexistent/x.app'], {reject: false})
    assert.equal(r.exitCode, ExitCode.badInput)
    assert.equal(r.stdout, '')
    assert.match(r.stderr, /^esdctl pppc: \/nonexistent\/x\.app does not exist: give the path of the daemon's \.app bundle, or the NAME of a daemon esdctl installed$/)
  })

  it('a file that is not code: the verifier says what it is, not "the code is not signed"', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'esdctl-pppc-notcode-'))
    try {
      const path = join(dir, 'notes.txt')
      await writeFile(path, 'hello\n')
      await assert.rejects(buildPppcProfile(await verifyPath(path)), (e: unknown) => {
        assert.ok(e instanceof RequirementError)
        assert.ok(e.message.startsWith(`${path}: neither a Mach-O executable`), e.message)
        assert.match(e.message, /; Full Disk Access is granted to a signed \.app bundle or executable$/)
        assert.doesNotMatch(e.message, /not signed/)
        return true
      })
    } finally {
      await rm(dir, {recursive: true, force: true})
    }
  })

  it('refuses the linker-signed (ad-hoc) esbuild binary, naming the file, why a grant cannot last, and how to sign', async () => {
    const path = await realArtifact(ARTIFACTS.esbuild)
    const report = await verifyPath(path)
    await assert.rejects(buildPppcProfile(report), (e: unknown) => {
      assert.ok(e instanceof RequirementError)
      assert.ok(e.message.startsWith(`${report.path}: `), e.message)
      assert.match(e.message, /ad-hoc signed \(no certificate, no team id; signed by the linker\)/)
      assert.match(e.message, /tied to its code hash, which changes with every build/)
      assert.match(e.message, /Developer ID Application.*esdctl bundle/)
      assert.doesNotMatch(e.message, /carries no team id/)
      return true
    })
  })
})
