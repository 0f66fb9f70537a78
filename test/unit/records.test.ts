import assert from 'node:assert/strict'
import {isFormatError} from '../../src/formats/format-error.js'
import {parseInstallRecord, serializeInstallRecord, type InstallRecord} from '../../src/records/install-record.js'
import {parseRegistry, serializeRegistry, withEntry, withoutEntry} from '../../src/records/registry.js'

const RECORD: InstallRecord = {
  schemaVersion: 1, name: 'thed', label: 'com.example.thed', bundleId: 'com.example.thed', teamId: 'ABCDE12345', version: '1.2.3', build: '45',
  installedAt: '2026-01-01T00:00:00.000Z', installedBy: 'admin', cdhashes: [{arch: 'arm64', cdhash: 'ab'.repeat(20)}], signer: {kind: 'developer-id', commonName: 'Developer ID Application: X (ABCDE12345)'},
  configHashes: {'thed.conf': 'cd'.repeat(32)}, plistPath: '/Library/LaunchDaemons/com.example.thed.plist', executable: '/opt/thed/thed.app/Contents/MacOS/thed',
}

describe('install record and registry files', () => {
  it('the install record round-trips', () => {
    assert.deepEqual(parseInstallRecord(Buffer.from(serializeInstallRecord(RECORD)), 'r.json'), RECORD)
  })

  it('a damaged record is a FormatError naming the file and what is wrong', () => {
    for (const [bytes, why] of [['{', /not valid JSON/], ['[]', /not a JSON object/], [JSON.stringify({...RECORD, schemaVersion: 2}), /schemaVersion/], [JSON.stringify({...RECORD, name: '../x'}), /name/], [JSON.stringify({...RECORD, configHashes: {a: 1}}), /configHashes/]] as const) {
      assert.throws(() => parseInstallRecord(Buffer.from(bytes), '/x/receipt.json'), (e: unknown) => isFormatError(e) && e.message.startsWith('/x/receipt.json: ') && why.test(e.message))
    }
  })

  it('the registry adds, replaces and removes by name, sorted', () => {
    const a = withEntry([], {name: 'zed', label: 'com.example.zed', prefix: '/opt/zed'})
    const b = withEntry(a, {name: 'abc', label: 'com.example.abc', prefix: '/opt/abc'})
    const c = withEntry(b, {name: 'zed', label: 'com.example.zed2', prefix: '/opt/zed'})
    const parsed = parseRegistry(Buffer.from(serializeRegistry(c)), 'reg.json')
    assert.deepEqual(parsed.map((e) => e.label), ['com.example.abc', 'com.example.zed2'])
    assert.deepEqual(withoutEntry(parsed, 'abc').map((e) => e.name), ['zed'])
    assert.throws(() => parseRegistry(Buffer.from('{"schemaVersion":1,"daemons":[{"name":"../x","label":"a.b","prefix":"/"}]}'), 'reg.json'), /daemons\[0\]/)
  })
})
