import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import * as plist from 'plist'
import {FormatError} from '../../src/formats/format-error.js'
import type {PlistDict} from '../../src/formats/property-list.js'
import {verifyCms} from '../../src/trust/cms.js'
import {readProvisioningProfile} from '../../src/trust/provisioning-profile.js'
import {TrustStore} from '../../src/trust/trust-store.js'
import {buildCms, makeCertificate, type MadeCertificate} from '../support/cms-builder.js'
import {derBytes, derPlistElement, type PlistLike} from '../support/der-plist-writer.js'

/** What the mutation run (npm run mutate -- trust-profile) found no test for: each profile field and problem. */

const NOW = new Date('2026-01-15T00:00:00Z')
const SIGNED_AT = new Date('2025-02-03T04:05:06Z')
const FIRST_FORM = () => 0

describe('readProvisioningProfile: fields, problems, kind and the DER-Encoded-Profile', function () {
  let root: MadeCertificate
  let signer: MadeCertificate
  let trust: TrustStore
  let developerId: MadeCertificate
  let development: MadeCertificate
  let distribution: MadeCertificate
  let other: MadeCertificate

  before(async function () {
    root = await makeCertificate({cn: 'profile root', ca: true})
    signer = await makeCertificate({cn: 'profile signer', issuer: root, notBefore: new Date('2025-01-01Z'), notAfter: new Date('2025-12-31Z')})
    trust = new TrustStore([{name: 'Profile Root', der: root.der}])
    developerId = await makeCertificate({cn: 'Developer ID Application: Someone (TEAM123456)'})
    development = await makeCertificate({cn: 'Apple Development: Someone (ABCDE12345)'})
    distribution = await makeCertificate({cn: 'Apple Distribution: Someone (TEAM123456)'})
    other = await makeCertificate({cn: 'Someone else entirely'})
  })

  function full(): PlistDict {
    return {
      AppIDName: 'The Daemon',
      ApplicationIdentifierPrefix: ['TEAM123456'],
      CreationDate: new Date('2025-01-01T00:00:00Z'),
      DeveloperCertificates: [developerId.der],
      Entitlements: {'com.apple.application-identifier': 'TEAM123456.com.example.daemon', 'com.apple.developer.endpoint-security.client': true},
      ExpirationDate: new Date('2043-01-01T00:00:00Z'),
      IsXcodeManaged: false,
      Name: 'The Daemon Profile',
      Platform: ['OSX'],
      ProvisionsAllDevices: true,
      TeamIdentifier: ['TEAM123456'],
      TeamName: 'The Team',
      UUID: '11111111-2222-4333-8444-555555555555',
    }
  }

  const signed = (dict: PlistDict | string) => buildCms({signer, content: Buffer.from(typeof dict === 'string' ? dict : plist.build(dict)), signingTime: SIGNED_AT, certificates: [signer.der]})
  const read = (dict: PlistDict | string) => readProvisioningProfile(signed(dict), {trust, now: NOW})
  const derProfile = (dict: {[key: string]: PlistLike}) => buildCms({signer, content: derBytes(derPlistElement(dict, FIRST_FORM)), signingTime: SIGNED_AT, certificates: [signer.der]})

  it('reads every field, judges the CMS at its signing time, and finds nothing wrong', async function () {
    const r = await read(full())
    assert.deepEqual(r.problems, [])
    const p = r.profile
    assert.deepEqual(
      {name: p.name, uuid: p.uuid, appIdName: p.appIdName, teamIds: p.teamIds, teamName: p.teamName, prefix: p.applicationIdentifierPrefix, appId: p.appId, platforms: p.platforms},
      {name: 'The Daemon Profile', uuid: '11111111-2222-4333-8444-555555555555', appIdName: 'The Daemon', teamIds: ['TEAM123456'], teamName: 'The Team', prefix: ['TEAM123456'], appId: 'TEAM123456.com.example.daemon', platforms: ['OSX']},
    )
    assert.equal(p.creationDate?.toISOString(), '2025-01-01T00:00:00.000Z')
    assert.equal(p.expirationDate?.toISOString(), '2043-01-01T00:00:00.000Z')
    assert.deepEqual([p.isXcodeManaged, p.provisionsAllDevices, p.provisionedDevices], [false, true, []])
    assert.deepEqual(p.developerCertificates.map(c => c.commonName), ['Developer ID Application: Someone (TEAM123456)'])
    assert.equal(p.entitlements['com.apple.developer.endpoint-security.client'], true)
    assert.equal(p.kind, 'developer-id')
    assert.equal(p.plist['TeamName'], 'The Team')
    assert.equal(r.cms.validatedAtSource, 'signing-time')
    assert.equal(r.cms.validatedAt.toISOString(), SIGNED_AT.toISOString())
    assert.equal(r.cms.chain.trusted, true, r.cms.chain.error)
    assert.equal(r.cms.signatureValid, true)
    assert.equal('derProfile' in r, false)
  })

  it('an empty dictionary: each required key is missing, the optional ones are not reported', async function () {
    const r = await read({})
    assert.deepEqual(r.problems, [
      {field: 'Entitlements', message: 'is missing'},
      {field: 'DeveloperCertificates', message: 'is missing'},
      {field: 'Name', message: 'is missing'},
      {field: 'UUID', message: 'is missing'},
      {field: 'TeamIdentifier', message: 'is missing'},
      {field: 'ExpirationDate', message: 'is missing'},
      {field: 'Entitlements', message: 'com.apple.application-identifier is missing'},
    ])
    const p = r.profile
    assert.deepEqual(
      {name: p.name, uuid: p.uuid, teamIds: p.teamIds, prefix: p.applicationIdentifierPrefix, platforms: p.platforms, xcode: p.isXcodeManaged, all: p.provisionsAllDevices, devices: p.provisionedDevices, certs: p.developerCertificates, ents: p.entitlements, kind: p.kind},
      {name: '', uuid: '', teamIds: [], prefix: [], platforms: [], xcode: false, all: false, devices: [], certs: [], ents: {}, kind: 'unknown'},
    )
    for (const key of ['appIdName', 'teamName', 'creationDate', 'expirationDate', 'appId']) assert.equal(key in p, false, key)
  })

  it('each key of the wrong type is named with the type it must have', async function () {
    const r = await read({
      ...full(),
      AppIDName: 1,
      ApplicationIdentifierPrefix: 'TEAM123456',
      CreationDate: 'yesterday',
      DeveloperCertificates: [developerId.der, 'not data'],
      Entitlements: ['not', 'a', 'dict'],
      IsXcodeManaged: 'no',
      Name: true,
      Platform: ['OSX', 1],
      ProvisionsAllDevices: 1,
      ProvisionedDevices: [1],
      TeamIdentifier: [2],
      TeamName: ['x'],
      UUID: 3,
      ExpirationDate: 'later',
    } as unknown as PlistDict)
    assert.deepEqual(r.problems, [
      {field: 'Entitlements', message: 'is not a dictionary'},
      {field: 'DeveloperCertificates', message: 'is not an array of data'},
      {field: 'Name', message: 'is not a string'},
      {field: 'UUID', message: 'is not a string'},
      {field: 'TeamIdentifier', message: 'is not an array of strings'},
      {field: 'ApplicationIdentifierPrefix', message: 'is not an array of strings'},
      {field: 'Platform', message: 'is not an array of strings'},
      {field: 'IsXcodeManaged', message: 'is not a boolean'},
      {field: 'ProvisionsAllDevices', message: 'is not a boolean'},
      {field: 'ProvisionedDevices', message: 'is not an array of strings'},
      {field: 'AppIDName', message: 'is not a string'},
      {field: 'TeamName', message: 'is not a string'},
      {field: 'CreationDate', message: 'is not a date'},
      {field: 'ExpirationDate', message: 'is not a date'},
      {field: 'Entitlements', message: 'com.apple.application-identifier is missing'},
    ])
    const notString = await read({...full(), Entitlements: {'com.apple.application-identifier': ['TEAM123456.x']}})
    assert.deepEqual(notString.problems, [{field: 'Entitlements', message: 'com.apple.application-identifier is not a string'}])
    assert.equal('appId' in notString.profile, false)
  })

  it('a date that does not parse is not a date', async function () {
    const xml = plist.build({...full(), CreationDate: 'DATE'}).replace('<string>DATE</string>', '<date>not a date</date>')
    const r = await read(xml)
    assert.deepEqual(r.problems, [{field: 'CreationDate', message: 'is not a date'}])
    assert.equal('creationDate' in r.profile, false)
  })

  it('a developer certificate that does not decode is a problem of its own; the others are kept', async function () {
    const r = await read({...full(), DeveloperCertificates: [Buffer.from('not a certificate'), developerId.der]})
    assert.equal(r.problems.length, 1)
    assert.equal(r.problems[0]!.field, 'DeveloperCertificates')
    assert.match(r.problems[0]!.message, /^entry 0: certificate/)
    assert.deepEqual(r.profile.developerCertificates.map(c => c.commonName), ['Developer ID Application: Someone (TEAM123456)'])
  })

  it('the kind follows from the devices covered and the certificates allowed', async function () {
    const kindOf = async (changes: PlistDict, certs: MadeCertificate[]) => {
      const dict: PlistDict = {...full(), ...changes, DeveloperCertificates: certs.map(c => c.der)}
      delete dict['ProvisionsAllDevices']
      if (changes['ProvisionsAllDevices'] !== undefined) dict['ProvisionsAllDevices'] = changes['ProvisionsAllDevices']
      return (await read(dict)).profile.kind
    }
    const devices = {ProvisionedDevices: ['00006000-000E19D101D8801E']}
    const withEntitlement = (key: string, value: boolean) => ({...devices, Entitlements: {'com.apple.application-identifier': 'TEAM123456.x', [key]: value}})
    const cases: Array<[string, PlistDict, MadeCertificate[], string]> = [
      ['all devices, Developer ID', {ProvisionsAllDevices: true}, [other, developerId], 'developer-id'],
      ['all devices, distribution', {ProvisionsAllDevices: true}, [other, distribution], 'enterprise'],
      ['all devices, neither', {ProvisionsAllDevices: true}, [development, other], 'unknown'],
      ['all devices false, no list, distribution', {ProvisionsAllDevices: false}, [distribution], 'app-store'],
      ['devices, get-task-allow', withEntitlement('get-task-allow', true), [distribution], 'development'],
      ['devices, security get-task-allow', withEntitlement('com.apple.security.get-task-allow', true), [distribution], 'development'],
      ['devices, get-task-allow false', withEntitlement('get-task-allow', false), [distribution], 'ad-hoc'],
      ['devices, development certificate', devices, [other, development], 'development'],
      ['devices, distribution certificate', devices, [other, distribution], 'ad-hoc'],
      ['devices, neither', devices, [other, developerId], 'unknown'],
      ['an empty device list, distribution', {ProvisionedDevices: []}, [distribution], 'app-store'],
      ['no devices, distribution', {}, [other, distribution], 'app-store'],
      ['no devices, development', {}, [development], 'unknown'],
    ]
    for (const [what, changes, certs, kind] of cases) assert.equal(await kindOf(changes, certs), kind, what)
  })

  it('refuses a CMS without content, or content that is not a plist dictionary, as FormatError', async function () {
    const detached = buildCms({signer, content: Buffer.from(plist.build(full())), attached: false, certificates: [signer.der]})
    await assert.rejects(readProvisioningProfile(detached, {trust, now: NOW}), {code: 'profile.no-content', message: 'provisioning profile: the CMS has no attached content'})
    await assert.rejects(read('<?xml version="1.0"?><plist version="1.0"><array/></plist>'), (e: unknown) => e instanceof FormatError && e.message.startsWith('provisioning profile'))
  })

  it('a DER-Encoded-Profile that matches: verified, every compared key equal', async function () {
    const dict = full()
    const der = derProfile({...(dict as {[key: string]: PlistLike}), DeveloperCertificates: [createHash('sha256').update(developerId.der).digest()]})
    const r = await read({...dict, 'DER-Encoded-Profile': der})
    assert.deepEqual(r.problems, [])
    assert.equal(r.derProfile?.cms.signatureValid, true)
    assert.equal(r.derProfile?.cms.validatedAtSource, 'signing-time')
    assert.equal(r.derProfile?.cms.chain.trusted, true)
    assert.deepEqual(r.derProfile?.mismatches, [])
    assert.equal(r.derProfile?.matchesPlist, true)
  })

  it('each key that differs, or is on one side only, is a mismatch; certificates are compared by SHA-256', async function () {
    const dict = full()
    const der = derProfile({
      ...(dict as {[key: string]: PlistLike}),
      Name: 'Another Name',
      DeveloperCertificates: [developerId.der],
      ProvisionedDevices: ['00006000-000E19D101D8801E'],
      Entitlements: {'com.apple.application-identifier': 'TEAM123456.com.example.other'},
      TimeToLive: 10,
    })
    delete (dict as {[key: string]: unknown})['TeamName']
    const r = await read({...dict, 'DER-Encoded-Profile': der})
    assert.deepEqual(r.derProfile?.mismatches, ['Name', 'TeamName', 'ProvisionedDevices', 'Entitlements', 'DeveloperCertificates'])
    assert.equal(r.derProfile?.matchesPlist, false)
    assert.deepEqual(r.problems, [])
    const certsOnlyInPlist = derProfile({...(full() as {[key: string]: PlistLike}), DeveloperCertificates: 'not a list'})
    assert.deepEqual((await read({...full(), 'DER-Encoded-Profile': certsOnlyInPlist})).derProfile?.mismatches, ['DeveloperCertificates'])
    const stringCertificates = {...full(), DeveloperCertificates: ['text']} as unknown as PlistDict
    const sameStrings = derProfile({...(full() as {[key: string]: PlistLike}), DeveloperCertificates: ['text']})
    assert.deepEqual((await read({...stringCertificates, 'DER-Encoded-Profile': sameStrings})).derProfile?.mismatches, [])
    // Only DeveloperCertificates is compared by digest: data in another key is compared as it is.
    const dataDevices = {...full(), ProvisionedDevices: [Buffer.from('device')]} as unknown as PlistDict
    const sameDevices = derProfile({
      ...(full() as {[key: string]: PlistLike}),
      DeveloperCertificates: [createHash('sha256').update(developerId.der).digest()],
      ProvisionedDevices: [Buffer.from('device')],
    })
    assert.deepEqual((await read({...dataDevices, 'DER-Encoded-Profile': sameDevices})).derProfile?.mismatches, [])
    const notAList = derProfile({...(full() as {[key: string]: PlistLike}), DeveloperCertificates: 'text'})
    const both = await read({...full(), DeveloperCertificates: 'text', 'DER-Encoded-Profile': notAList})
    assert.deepEqual(both.derProfile?.mismatches, [])
    assert.deepEqual(both.problems, [{field: 'DeveloperCertificates', message: 'is not an array of data'}])
  })

  it('a DER-Encoded-Profile that is not data, not a CMS, or has no content is a problem of that key', async function () {
    const notData = await read({...full(), 'DER-Encoded-Profile': 'text'})
    assert.deepEqual(notData.problems, [{field: 'DER-Encoded-Profile', message: 'is not data'}])
    assert.equal('derProfile' in notData, false)
    const notCms = await read({...full(), 'DER-Encoded-Profile': Buffer.from('junk')})
    assert.equal(notCms.problems.length, 1)
    assert.equal(notCms.problems[0]!.field, 'DER-Encoded-Profile')
    assert.match(notCms.problems[0]!.message, /^CMS signature: /)
    const detached = buildCms({signer, content: derBytes(derPlistElement({Name: 'x'}, FIRST_FORM)), attached: false, certificates: [signer.der]})
    assert.deepEqual((await read({...full(), 'DER-Encoded-Profile': detached})).problems, [{field: 'DER-Encoded-Profile', message: 'DER-Encoded-Profile: the CMS has no attached content'}])
    const notDict = buildCms({signer, content: derBytes(derPlistElement(['x'], FIRST_FORM)), certificates: [signer.der]})
    assert.deepEqual((await read({...full(), 'DER-Encoded-Profile': notDict})).problems, [{field: 'DER-Encoded-Profile', message: 'DER-Encoded-Profile: content is not a dictionary'}])
  })

  it('the chain of both signatures is judged at their signing time, not now', async function () {
    const r = await read(full())
    assert.equal(r.cms.chain.trusted, true)
    // The same CMS judged now: the signer certificate has expired.
    assert.equal((await verifyCms(signed(full()), {trust, now: NOW, validity: 'timestamp-or-now'})).chain.trusted, false)
  })
})
