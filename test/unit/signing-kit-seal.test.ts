import {strict as assert} from 'node:assert'
import {createHash} from 'node:crypto'
import * as plist from 'plist'
import {buildCodeResources} from '../support/code-resources-writer.js'
import {buildProfilePlist, defaultProfileEntitlements} from '../support/profile-builder.js'

type Dict = {[key: string]: plist.PlistValue}
const sha = (alg: string, b: Buffer): Buffer => createHash(alg).update(b).digest()
// The plist package yields data as plain Uint8Array; Buffers compare cleanly with deepEqual.
function buffersFor(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v)
  if (Array.isArray(v)) return v.map(buffersFor)
  if (v && typeof v === 'object' && !(v instanceof Date)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, buffersFor(x)]))
  return v
}
const parse = (b: Buffer): Dict => buffersFor(plist.parse(b.toString('utf8'))) as Dict

describe('signing kit: CodeResources writer', () => {
  const conf = Buffer.from('listen = 0.0.0.0\n')
  const strings = Buffer.from('"k" = "v";\n')
  const profile = Buffer.from('profile bytes')
  const nestedCdhash = Buffer.alloc(20, 0xab)
  const seal = parse(
    buildCodeResources([
      {path: 'Resources/x.conf', bytes: conf},
      {path: 'Resources/en.lproj/Localizable.strings', bytes: strings, optional: true},
      {path: 'embedded.provisionprofile', bytes: profile},
      {path: 'Resources/current', symlinkTarget: 'x.conf'},
      {path: 'MacOS/helper', nested: {cdhash: nestedCdhash, requirement: 'cdhash H"abab"'}},
    ]),
  )
  const files = seal.files as Dict
  const files2 = seal.files2 as Dict

  it('seals every file in files2 with SHA-1 hash and SHA-256 hash2', () => {
    assert.deepEqual(files2['Resources/x.conf'], {hash: sha('sha1', conf), hash2: sha('sha256', conf)})
    assert.deepEqual(files2['embedded.provisionprofile'], {hash: sha('sha1', profile), hash2: sha('sha256', profile)})
    assert.deepEqual(files2['Resources/en.lproj/Localizable.strings'], {hash: sha('sha1', strings), hash2: sha('sha256', strings), optional: true})
  })

  it('seals symlinks by target and nested code by cdhash and requirement', () => {
    assert.deepEqual(files2['Resources/current'], {symlink: 'x.conf'})
    assert.deepEqual(files2['MacOS/helper'], {cdhash: nestedCdhash, requirement: 'cdhash H"abab"'})
  })

  it('keeps only resources in the version 1 files dictionary', () => {
    assert.deepEqual(Object.keys(files).sort(), ['Resources/en.lproj/Localizable.strings', 'Resources/x.conf'])
    assert.deepEqual(files['Resources/x.conf'], sha('sha1', conf))
    assert.deepEqual(files['Resources/en.lproj/Localizable.strings'], {hash: sha('sha1', strings), optional: true})
  })

  it('carries codesign\'s default rules with real weights', () => {
    const rules2 = seal.rules2 as Dict
    assert.equal(rules2['^.*'], true)
    assert.deepEqual(rules2['^Info\\.plist$'], {omit: true, weight: 20})
    assert.deepEqual(rules2['^embedded\\.provisionprofile$'], {weight: 20})
    assert.equal((seal.rules as Dict)['^Resources/'], true)
    assert.match(buildCodeResources([]).toString('utf8'), /<real>2000<\/real>/)
  })

  it('refuses an entry sealed twice or with nothing to seal', () => {
    assert.throws(() => buildCodeResources([{path: 'a', bytes: conf}, {path: 'a', bytes: conf}]), /twice/)
    assert.throws(() => buildCodeResources([{path: 'a'}]), /needs bytes/)
  })
})

describe('signing kit: provisioning profile plist', () => {
  const cert = Buffer.from('3003020101', 'hex')
  const expires = new Date('2040-01-02T03:04:05.678Z')

  it('writes a Developer ID profile with the keys Apple uses', () => {
    const p = parse(buildProfilePlist({teamId: 'ABCDE12345', appId: 'ABCDE12345.com.example.esd', kind: 'developer-id', expires, developerCertificates: [cert]}))
    assert.deepEqual(p.ApplicationIdentifierPrefix, ['ABCDE12345'])
    assert.deepEqual(p.TeamIdentifier, ['ABCDE12345'])
    assert.deepEqual(p.Platform, ['OSX'])
    assert.equal(p.ProvisionsAllDevices, true)
    assert.equal(p.ProvisionedDevices, undefined)
    assert.equal(p.IsXcodeManaged, false)
    assert.deepEqual(p.DeveloperCertificates, [cert])
    assert.deepEqual(p.Entitlements, defaultProfileEntitlements('ABCDE12345', 'ABCDE12345.com.example.esd'))
    assert.deepEqual(p.ExpirationDate, new Date('2040-01-02T03:04:05Z'))
    assert.deepEqual(p.CreationDate, new Date('2039-01-02T03:04:05Z'), 'default: a year before expiry')
    assert.equal(p.TimeToLive, 365)
    assert.equal(p.Version, 1)
    assert.match(String(p.UUID), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/)
    assert.equal(p.AppIDName, 'com.example.esd')
  })

  it('writes a development profile limited to its devices, with the entitlements given', () => {
    const entitlements = {'com.apple.application-identifier': 'T.*', 'com.apple.developer.endpoint-security.client': true}
    const p = parse(buildProfilePlist({teamId: 'T', appId: 'T.*', kind: 'development', devices: ['00006000-000E19D101D8801E'], expires, created: new Date('2039-12-26T00:00:00Z'), developerCertificates: [cert, cert], entitlements, uuid: 'u-1', name: 'n'}))
    assert.deepEqual(p.ProvisionedDevices, ['00006000-000E19D101D8801E'])
    assert.equal(p.ProvisionsAllDevices, undefined)
    assert.equal(p.IsXcodeManaged, true)
    assert.deepEqual(p.Entitlements, entitlements)
    assert.equal(p.UUID, 'u-1')
    assert.equal(p.Name, 'n')
    assert.equal(p.TimeToLive, 7)
  })
})
