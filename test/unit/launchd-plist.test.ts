import {strict as assert} from 'node:assert'
import {parsePropertyListDict} from '../../src/formats/property-list.js'
import {PrefixLayout} from '../../src/layout/prefix-layout.js'
import {describePlistWrite} from '../../src/launchd/plist-write.js'
import {renderLaunchdPlist} from '../../src/launchd/render-plist.js'
import {validateManifest} from '../../src/manifest/load-manifest.js'
import type {Manifest} from '../../src/manifest/manifest.js'

function manifest(extra: Record<string, unknown> = {}): Manifest {
  const result = validateManifest({name: 'thed', label: 'com.example.thed', bundleId: 'com.example.thed.daemon', teamId: '97JCY7859U', ...extra}, 'esdctl.json')
  assert.ok('manifest' in result, JSON.stringify(result))
  return result.manifest
}

const EXECUTABLE = '/opt/thed/thed.app/Contents/MacOS/thed'

function keysOf(xml: string): string[] {
  return [...xml.matchAll(/^\t\t<key>([^<]+)<\/key>$/gm)].map(m => m[1]!)
}

describe('launchd plist rendering', () => {
  const layout = new PrefixLayout({name: 'thed', label: 'com.example.thed'})

  it('runs the real executable inside the bundle with argv[0] first and names the bundle id', () => {
    const xml = renderLaunchdPlist(manifest({programArguments: ['--config', '{etc}/thed.conf']}), layout)
    const job = parsePropertyListDict(Buffer.from(xml), 'plist')
    assert.deepEqual(job, {
      Label: 'com.example.thed',
      Program: EXECUTABLE,
      ProgramArguments: [EXECUTABLE, '--config', '/opt/thed/etc/thed.conf'],
      AssociatedBundleIdentifiers: ['com.example.thed.daemon'],
    })
    assert.notEqual(job['Program'], layout.binLink)
    assert.match(xml, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<!DOCTYPE plist/)
    assert.match(xml, /<!-- Written by esdctl/)
  })

  it('carries the launchd keys people use, with Umask as the integer launchd expects', () => {
    const xml = renderLaunchdPlist(
      manifest({
        environment: {ZED: '1', HOME_DIR: '{var}'},
        KeepAlive: {SuccessfulExit: false, PathState: {'/b': true, '/a': false}},
        RunAtLoad: true,
        ThrottleInterval: 15,
        ExitTimeOut: 30,
        ProcessType: 'Interactive',
        StandardOutPath: '{var}/log/out.log',
        StandardErrorPath: '{var}/log/err.log',
        WorkingDirectory: '{var}',
        UserName: 'root',
        GroupName: 'wheel',
        Umask: '027',
        SoftResourceLimits: {NumberOfFiles: 4096},
        HardResourceLimits: {NumberOfFiles: 8192, Core: 0},
        Nice: -10,
        LowPriorityIO: true,
      }),
      layout,
    )
    const job = parsePropertyListDict(Buffer.from(xml), 'plist')
    assert.deepEqual(job['EnvironmentVariables'], {HOME_DIR: '/opt/thed/var', ZED: '1'})
    assert.deepEqual(job['KeepAlive'], {SuccessfulExit: false, PathState: {'/a': false, '/b': true}})
    assert.equal(job['Umask'], 0o027)
    assert.equal(job['StandardOutPath'], '/opt/thed/var/log/out.log')
    assert.equal(job['StandardErrorPath'], '/opt/thed/var/log/err.log')
    assert.equal(job['WorkingDirectory'], '/opt/thed/var')
    assert.deepEqual(job['HardResourceLimits'], {Core: 0, NumberOfFiles: 8192})
    for (const [k, v] of Object.entries({RunAtLoad: true, ThrottleInterval: 15, ExitTimeOut: 30, ProcessType: 'Interactive', UserName: 'root', GroupName: 'wheel', Nice: -10, LowPriorityIO: true})) {
      assert.deepEqual(job[k], v, k)
    }
    assert.match(xml, /<key>Umask<\/key>\n\t\t<integer>23<\/integer>/)
    assert.deepEqual(keysOf(xml), [
      'Label', 'Program', 'ProgramArguments', 'AssociatedBundleIdentifiers', 'EnvironmentVariables', 'WorkingDirectory', 'UserName', 'GroupName', 'Umask',
      'RunAtLoad', 'KeepAlive', 'ThrottleInterval', 'ExitTimeOut', 'ProcessType', 'Nice', 'LowPriorityIO', 'SoftResourceLimits', 'HardResourceLimits',
      'StandardOutPath', 'StandardErrorPath',
    ])
  })

  it('is deterministic whatever the manifest key order', () => {
    const a = renderLaunchdPlist(manifest({RunAtLoad: true, KeepAlive: true, environment: {A: '1', B: '2'}}), layout)
    const b = renderLaunchdPlist(manifest({environment: {B: '2', A: '1'}, KeepAlive: true, RunAtLoad: true}), layout)
    assert.equal(a, b)
  })

  it('writes target-system paths even when staged under --root', () => {
    const staged = new PrefixLayout({name: 'thed', label: 'com.example.thed', root: '/tmp/image'})
    const xml = renderLaunchdPlist(manifest({StandardErrorPath: '{var}/log/err.log'}), staged)
    assert.ok(!xml.includes('/tmp/image'))
    assert.equal(xml, renderLaunchdPlist(manifest({StandardErrorPath: '{var}/log/err.log'}), layout))
  })

  it('escapes XML in values so they round-trip', () => {
    const args = ['--filter=<a & b>', ']]>', 'line1\n\tline2']
    const job = parsePropertyListDict(Buffer.from(renderLaunchdPlist(manifest({programArguments: args}), layout)), 'plist')
    assert.deepEqual(job['ProgramArguments'], [EXECUTABLE, ...args])
  })

  it('refuses a layout that belongs to another daemon', () => {
    assert.throws(() => renderLaunchdPlist(manifest(), new PrefixLayout({name: 'other', label: 'com.example.thed'})), /does not belong/)
  })

  it('describes the write: target path, root:wheel, 0644', () => {
    const staged = new PrefixLayout({name: 'thed', label: 'com.example.thed', root: '/tmp/image'})
    assert.deepEqual(describePlistWrite(staged), {
      path: '/tmp/image/Library/LaunchDaemons/com.example.thed.plist',
      systemPath: '/Library/LaunchDaemons/com.example.thed.plist',
      owner: 'root',
      group: 'wheel',
      uid: 0,
      gid: 0,
      mode: 0o644,
    })
  })
})
