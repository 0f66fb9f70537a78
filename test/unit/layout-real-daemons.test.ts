import {strict as assert} from 'node:assert'
import {posix} from 'node:path'
import {BUNDLE_PATH_PATTERN, isValidBundlePath, isValidExecutableName, isValidLinkPath, isValidLinkTarget, isValidName, LINK_PATH_PATTERN, LINK_TARGET_PATTERN, sameName} from '../../src/layout/names.js'
import {LayoutError, PrefixLayout} from '../../src/layout/prefix-layout.js'
import {manifestSchema} from '../../src/manifest/manifest-schema.js'

/** Real daemons' layouts (DESIGN.md §11): Karabiner's capitalised name, osquery's lib/osquery.app and its /usr/local/bin links. */
describe('prefix layout: real daemons', () => {
  it('keeps the case of a name, and knows two names differing only in case are one prefix on APFS', () => {
    const karabiner = new PrefixLayout({name: 'Karabiner-VirtualHIDDevice-Daemon', label: 'org.pqrs.Karabiner-VirtualHIDDevice-Daemon'})
    assert.equal(karabiner.prefix, '/opt/Karabiner-VirtualHIDDevice-Daemon')
    assert.equal(karabiner.executable, '/opt/Karabiner-VirtualHIDDevice-Daemon/Karabiner-VirtualHIDDevice-Daemon.app/Contents/MacOS/Karabiner-VirtualHIDDevice-Daemon')
    assert.ok(sameName('Karabiner-VirtualHIDDevice-Daemon', 'karabiner-virtualhiddevice-daemon'))
    assert.ok(!sameName('thed', 'thed2'))
    for (const bad of ['-Thed', 'The D', 'Thé', 'A..b']) assert.ok(!isValidName(bad), bad)
  })

  it('places osquery: bundle lib/osquery.app, executable osqueryd, links in bin/ and /usr/local/bin', () => {
    const osquery = new PrefixLayout({
      name: 'osquery',
      label: 'io.osquery.agent',
      root: '/tmp/img',
      bundle: 'lib/osquery.app',
      executableName: 'osqueryd',
      links: [
        {path: 'bin/osqueryd', target: 'Contents/MacOS/osqueryd'},
        {path: '/usr/local/bin/osqueryi', target: 'Contents/MacOS/osqueryd'},
        {path: '/usr/local/bin/osqueryctl', target: 'Contents/Resources/osqueryctl'},
      ],
    })
    assert.equal(osquery.app, '/tmp/img/opt/osquery/lib/osquery.app')
    assert.equal(osquery.executable, '/tmp/img/opt/osquery/lib/osquery.app/Contents/MacOS/osqueryd')
    assert.equal(osquery.system.executable, '/opt/osquery/lib/osquery.app/Contents/MacOS/osqueryd')
    assert.deepEqual(osquery.versionEntries, ['lib', 'modules', 'share'])
    const [inPrefix, osqueryi, osqueryctl] = osquery.links
    assert.equal(inPrefix!.path, '/tmp/img/opt/osquery/bin/osqueryd')
    assert.equal(inPrefix!.text, '../lib/osquery.app/Contents/MacOS/osqueryd')
    assert.equal(posix.resolve(posix.dirname(inPrefix!.systemPath), inPrefix!.text), osquery.system.executable)
    // Outside the prefix the link is absolute, as the booted Mac resolves it; it is written under --root.
    assert.equal(osqueryi!.path, '/tmp/img/usr/local/bin/osqueryi')
    assert.equal(osqueryi!.text, '/opt/osquery/lib/osquery.app/Contents/MacOS/osqueryd')
    assert.equal(osqueryctl!.text, '/opt/osquery/lib/osquery.app/Contents/Resources/osqueryctl')
  })

  it('defaults: <name>.app, bin/<name> to the main executable named by CFBundleExecutable', () => {
    const layout = new PrefixLayout({name: 'thed', label: 'com.example.thed'}).with({executableName: 'TheDaemon'})
    assert.equal(layout.executable, '/opt/thed/thed.app/Contents/MacOS/TheDaemon')
    assert.deepEqual(layout.versionEntries, ['thed.app', 'lib', 'modules', 'share'])
    // The default link follows the executable name, also when it is learnt later from the bundle.
    assert.deepEqual(layout.links.map((l) => l.text), ['../thed.app/Contents/MacOS/TheDaemon'])
    assert.deepEqual(new PrefixLayout({name: 'thed', label: 'com.example.thed', executableName: 'TheDaemon'}).links.map((l) => l.text), ['../thed.app/Contents/MacOS/TheDaemon'])
    // Links given explicitly stay as given.
    const given = new PrefixLayout({name: 'thed', label: 'com.example.thed', links: [{path: 'bin/thed', target: 'Contents/Resources/tool'}]}).with({executableName: 'TheDaemon'})
    assert.deepEqual(given.links.map((l) => l.text), ['../thed.app/Contents/Resources/tool'])
  })

  it('rebuilds a layout from an install record, old records meaning the defaults', () => {
    const old = PrefixLayout.ofRecord({name: 'thed', label: 'com.example.thed', executable: '/opt/thed/thed.app/Contents/MacOS/thed'}, '/img')
    assert.equal(old.app, '/img/opt/thed/thed.app')
    assert.deepEqual(old.links.map((l) => [l.path, l.text]), [['/img/opt/thed/bin/thed', '../thed.app/Contents/MacOS/thed']])
    const osquery = PrefixLayout.ofRecord({name: 'osquery', label: 'io.osquery.agent', executable: '/opt/osquery/lib/osquery.app/Contents/MacOS/osqueryd', bundle: 'lib/osquery.app', links: []})
    assert.equal(osquery.executableName, 'osqueryd')
    assert.deepEqual(osquery.links, [])
  })

  it('refuses bundle locations, links and executable names that could leave their place', () => {
    for (const bundle of ['../x.app', 'x', 'a/b/c/d.app', 'etc/x.app', 'var/x.app', 'bin/x.app', '/opt/x.app', 'lib/../x.app', '.esdctl/x.app', 'lib//x.app']) {
      assert.ok(!isValidBundlePath(bundle), bundle)
      assert.throws(() => new PrefixLayout({name: 'thed', label: 'com.example.thed', bundle}), LayoutError, bundle)
    }
    for (const bundle of ['thed.app', 'lib/osquery.app', 'libexec/Thed Helper.app'.replace(' ', '_'), 'etc.app']) assert.ok(isValidBundlePath(bundle), bundle)
    for (const path of ['/usr/bin/x', '/usr/local/bin/../x', 'etc/x', 'bin/a/b', '/usr/local/bin/', 'bin/..', '/opt/other/bin/x', '/usr/local/lib/x']) assert.ok(!isValidLinkPath(path), path)
    for (const path of ['bin/x', 'sbin/x', '/usr/local/bin/osqueryi', '/usr/local/sbin/x']) assert.ok(isValidLinkPath(path), path)
    for (const target of ['MacOS/x', 'Contents/../../etc/passwd', '/Contents/x', 'Contents', 'Contents/a/../b']) assert.ok(!isValidLinkTarget(target), target)
    assert.ok(isValidLinkTarget('Contents/Resources/osqueryctl'))
    for (const exe of ['', '.', '..', 'a/b', '-x', 'x'.repeat(256)]) assert.ok(!isValidExecutableName(exe), exe)
    assert.ok(isValidExecutableName('Karabiner-VirtualHIDDevice-Daemon'))
    assert.throws(() => new PrefixLayout({name: 'thed', label: 'com.example.thed', links: [{path: '/etc/x', target: 'Contents/MacOS/thed'}]}), LayoutError)
  })

  it('uses the same bundle and link rules as the manifest schema', () => {
    const properties = manifestSchema()['properties'] as Record<string, {pattern: string; items: {properties: Record<string, {pattern: string}>}}>
    assert.equal(properties['bundle']?.pattern, BUNDLE_PATH_PATTERN)
    assert.equal(properties['links']?.items.properties['path']?.pattern, LINK_PATH_PATTERN)
    assert.equal(properties['links']?.items.properties['target']?.pattern, LINK_TARGET_PATTERN)
  })
})
