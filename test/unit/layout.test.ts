import {strict as assert} from 'node:assert'
import {PrefixLayout, LayoutError} from '../../src/layout/prefix-layout.js'
import {isValidLabel, isValidName, LABEL_PATTERN, NAME_PATTERN} from '../../src/layout/names.js'
import {manifestSchema} from '../../src/manifest/manifest-schema.js'

describe('prefix layout', () => {
  const layout = new PrefixLayout({name: 'thed', label: 'com.example.thed'})

  it('places every path of the daemon under /opt/<name>', () => {
    assert.equal(layout.prefix, '/opt/thed')
    assert.equal(layout.app, '/opt/thed/thed.app')
    assert.equal(layout.contents, '/opt/thed/thed.app/Contents')
    assert.equal(layout.executable, '/opt/thed/thed.app/Contents/MacOS/thed')
    assert.equal(layout.infoPlist, '/opt/thed/thed.app/Contents/Info.plist')
    assert.equal(layout.profile, '/opt/thed/thed.app/Contents/embedded.provisionprofile')
    assert.equal(layout.binLink, '/opt/thed/bin/thed')
    assert.equal(layout.binLinkTarget, '../thed.app/Contents/MacOS/thed')
    for (const dir of ['etc', 'lib', 'modules', 'share', 'var'] as const) assert.equal(layout[dir], `/opt/thed/${dir}`)
    for (const p of [layout.stateDir, layout.staging, layout.journal, layout.lock, layout.auditLog, layout.receipt, layout.rollbackSlot]) {
      assert.ok(p.startsWith('/opt/thed/.esdctl'), p)
    }
    assert.equal(layout.launchdPlist, '/Library/LaunchDaemons/com.example.thed.plist')
  })

  it('the bin link target resolves to the executable', async () => {
    const {posix} = await import('node:path')
    assert.equal(posix.resolve(posix.dirname(layout.binLink), layout.binLinkTarget), layout.executable)
  })

  it('rebases every path onto --root and keeps the system view', () => {
    const staged = new PrefixLayout({name: 'thed', label: 'com.example.thed', root: '/tmp/img/'})
    assert.equal(staged.root, '/tmp/img')
    assert.equal(staged.prefix, '/tmp/img/opt/thed')
    assert.equal(staged.executable, '/tmp/img/opt/thed/thed.app/Contents/MacOS/thed')
    assert.equal(staged.launchdPlist, '/tmp/img/Library/LaunchDaemons/com.example.thed.plist')
    assert.equal(staged.rebase('/Library/LaunchDaemons'), '/tmp/img/Library/LaunchDaemons')
    assert.equal(staged.system.executable, '/opt/thed/thed.app/Contents/MacOS/thed')
    assert.equal(staged.binLinkTarget, layout.binLinkTarget)
    assert.equal(layout.rebase('//opt/./thed/'), '/opt/thed')
  })

  it('refuses to rebase relative paths or paths with ..', () => {
    assert.throws(() => layout.rebase('opt/thed'), LayoutError)
    assert.throws(() => layout.rebase('/opt/thed/../../etc/sudoers'), LayoutError)
    assert.throws(() => layout.rebase('/opt/thed\0/x'), LayoutError)
  })

  it('decides inside-ness by segments, never by string prefix', () => {
    assert.ok(layout.isInsidePrefix('/opt/thed'))
    assert.ok(layout.isInsidePrefix('/opt/thed/var/log/x.log'))
    assert.ok(layout.isInsidePrefix('/opt//thed/./etc/'))
    assert.ok(!layout.isInsidePrefix('/opt/thed-evil/x'))
    assert.ok(!layout.isInsidePrefix('/opt/thedx'))
    assert.ok(!layout.isInsidePrefix('/opt'))
    assert.ok(!layout.isInsidePrefix('/opt/thed/../other'))
    assert.ok(!layout.isInsidePrefix('/opt/thed/var/../../../etc'))
    assert.ok(!layout.isInsidePrefix('opt/thed/var'))
    const staged = new PrefixLayout({name: 'thed', label: 'com.example.thed', root: '/tmp/img'})
    assert.ok(staged.isInsidePrefix('/tmp/img/opt/thed/etc'))
    assert.ok(!staged.isInsidePrefix('/opt/thed/etc'))
  })

  it('refuses names and labels that could escape the prefix', () => {
    for (const name of ['..', '.', '../x', 'a/b', '', 'a..b', '-x', 'x'.repeat(65), 'a b', 'a\0b']) {
      assert.ok(!isValidName(name), name)
      assert.throws(() => new PrefixLayout({name, label: 'com.example.thed'}), LayoutError, name)
    }
    for (const label of ['thed', 'com..example', '.com.example', 'com.example.', 'com/example.x', 'com.example/../x', 'com.ex ample', 'a.' + 'b'.repeat(255)]) {
      assert.ok(!isValidLabel(label), label)
      assert.throws(() => new PrefixLayout({name: 'thed', label}), LayoutError, label)
    }
    assert.ok(isValidName('thed.agent_2-x'))
    assert.ok(isValidLabel('com.Example.the-d_2'))
    assert.throws(() => new PrefixLayout({name: 'thed', label: 'com.example.thed', root: 'relative'}), LayoutError)
    assert.throws(() => new PrefixLayout({name: 'thed', label: 'com.example.thed', root: '/tmp/../etc'}), LayoutError)
  })

  it('uses the same name and label rules as the manifest schema', () => {
    const properties = manifestSchema()['properties'] as Record<string, {pattern: string}>
    assert.equal(properties['name']?.pattern, NAME_PATTERN)
    assert.equal(properties['label']?.pattern, LABEL_PATTERN)
  })
})
