import {strict as assert} from 'node:assert'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import fc from 'fast-check'
import {join} from 'node:path'
import {loadManifest, MAX_MANIFEST_BYTES, validateManifest} from '../../src/manifest/load-manifest.js'
import type {ManifestError} from '../../src/manifest/manifest-error.js'
import {expandPlaceholders} from '../../src/manifest/placeholders.js'
import {PrefixLayout} from '../../src/layout/prefix-layout.js'

const FILE = '/payload/esdctl.json'

function minimal(): Record<string, unknown> {
  return {name: 'thed', label: 'com.example.thed', bundleId: 'com.example.thed', teamId: '97JCY7859U'}
}

function full(): Record<string, unknown> {
  return {
    ...minimal(),
    programArguments: ['--config', '{etc}/thed.conf', '--state={var}/state', '{{literal}}'],
    environment: {THED_HOME: '{prefix}', LANG: 'C'},
    KeepAlive: {SuccessfulExit: false, PathState: {'/opt/thed/etc/thed.conf': true}},
    RunAtLoad: true,
    ThrottleInterval: 30,
    ExitTimeOut: 10,
    ProcessType: 'Interactive',
    StandardOutPath: '{var}/log/thed.out.log',
    StandardErrorPath: '/opt/thed/var/log/thed.err.log',
    WorkingDirectory: '{var}',
    UserName: 'root',
    GroupName: 'wheel',
    Umask: '022',
    SoftResourceLimits: {NumberOfFiles: 4096},
    HardResourceLimits: {NumberOfFiles: 8192, Core: 0},
    Nice: -5,
    LowPriorityIO: false,
    config: ['thed.conf', 'rules/default.yaml'],
    healthCheck: {runningSeconds: 5, command: ['{executable}', '--ping'], timeoutSeconds: 3},
  }
}

function errorsOf(value: unknown): ManifestError[] {
  const result = validateManifest(value, FILE)
  assert.ok('errors' in result, `expected errors, got a manifest`)
  return result.errors
}

function only(value: unknown): ManifestError {
  const errors = errorsOf(value)
  assert.equal(errors.length, 1, JSON.stringify(errors, null, 2))
  return errors[0]!
}

describe('manifest', () => {
  it('accepts a minimal and a full manifest', () => {
    for (const value of [minimal(), full()]) {
      const result = validateManifest(value, FILE)
      assert.ok('manifest' in result, JSON.stringify(result))
      assert.deepEqual(result.manifest, value)
    }
  })

  it('a value nested 100 000 deep is an error naming the field, not a stack overflow (found by npm run fuzz)', () => {
    const depth = 100_000
    const value = JSON.parse(`{"name":"thed","label":"com.example.thed","bundleId":"com.example.thed","teamId":"ABCDE12345","ExitTimeOut":${'['.repeat(depth)}${']'.repeat(depth)}}`) as Record<string, unknown>
    const result = validateManifest(value, FILE)
    assert.ok('errors' in result)
    assert.match(result.errors[0]!.message, /\/ExitTimeOut/)
    assert.ok(result.errors[0]!.message.length < 400, result.errors[0]!.message)
  })

  it('names the file and the missing field', () => {
    const value = minimal()
    delete value['teamId']
    const e = only(value)
    assert.equal(e.path, FILE)
    assert.equal(e.field, '/teamId')
    assert.match(e.message, /^\/payload\/esdctl\.json: \/teamId: required field "teamId" is missing/)
    assert.match(e.fix, /10 upper-case letters or digits/)
  })

  it('refuses names and labels that could leave the prefix, pointing at the field', () => {
    for (const name of ['../etc', 'a/b', '..', 'a..b', '-Thed']) {
      const e = only({...minimal(), name})
      assert.equal(e.field, '/name', name)
      // The message says what is allowed, not only that this is not.
      assert.match(e.message, /is not allowed; allowed: .*\/opt\/<name>.*letters, digits, '\.', '_' or '-'/)
    }
    for (const label of ['com/example', '../../etc/x', 'thed']) {
      assert.equal(only({...minimal(), label}).field, '/label', label)
    }
  })

  it('takes a real daemon\'s layout: a capitalised name, bundle, links, replaces; refuses what would leave their places', () => {
    const ok = validateManifest({...minimal(), name: 'Karabiner-VirtualHIDDevice-Daemon', bundle: 'lib/osquery.app', links: [{path: 'bin/osqueryd'}, {path: '/usr/local/bin/osqueryctl', target: 'Contents/Resources/osqueryctl'}], replaces: ['com.example.old-thed']}, 'esdctl.json')
    assert.ok('manifest' in ok, JSON.stringify(ok))
    assert.equal(only({...minimal(), bundle: 'etc/thed.app'}).field, '/bundle')
    assert.match(only({...minimal(), bundle: 'var/thed.app'}).message, /var\/, which holds the admin's state/)
    assert.equal(only({...minimal(), bundle: '../thed.app'}).field, '/bundle')
    assert.equal(only({...minimal(), links: [{path: '/usr/bin/thed'}]}).field, '/links/0/path')
    assert.equal(only({...minimal(), links: [{path: 'bin/x', target: 'Contents/../../x'}]}).field, '/links/0/target')
    const twin = only({...minimal(), links: [{path: 'bin/Thed'}, {path: 'bin/thed'}]})
    assert.equal(twin.field, '/links/1/path')
    assert.match(twin.message, /same file as \/links\/0\/path on a case-insensitive volume/)
    assert.equal(only({...minimal(), replaces: ['not a label']}).field, '/replaces/0')
  })

  it('checks the team id form', () => {
    const e = only({...minimal(), teamId: '97jcy7859u'})
    assert.equal(e.field, '/teamId')
  })

  it('points at the array element with a wrong type', () => {
    const e = only({...minimal(), programArguments: ['--a', '--b', 3]})
    assert.equal(e.field, '/programArguments/2')
    assert.match(e.message, /must be string, found an integer/)
  })

  it('rejects an unknown placeholder, naming it and the element', () => {
    const e = only({...minimal(), programArguments: ['--a', '--config={etcc}/x']})
    assert.equal(e.field, '/programArguments/1')
    assert.match(e.message, /unknown placeholder \{etcc\}/)
    assert.match(e.fix, /\{etc\}/)
    assert.equal(only({...minimal(), environment: {X: '{prefix'}}).field, '/environment/X')
    assert.equal(only({...minimal(), healthCheck: {runningSeconds: 2, command: ['a}']}}).field, '/healthCheck/command/0')
  })

  it('refuses a health probe that is not an absolute path: it runs as root and is never looked up on a PATH', () => {
    const e = only({...minimal(), healthCheck: {runningSeconds: 2, command: ['mytool', '--ping']}})
    assert.equal(e.field, '/healthCheck/command/0')
    assert.match(e.message, /"mytool" is not an absolute path/)
    assert.match(e.fix, /\{bin\}\/<tool>/)
    assert.equal(only({...minimal(), healthCheck: {runningSeconds: 2, command: ['../bin/tool']}}).field, '/healthCheck/command/0')
    for (const ok of ['{executable}', '{bin}/tool', '/usr/bin/true']) {
      assert.ok('manifest' in validateManifest({...minimal(), healthCheck: {runningSeconds: 2, command: [ok]}}, FILE), ok)
    }
  })

  it('refuses dyld variables in a root daemon\'s environment, naming the key', () => {
    const e = only({...minimal(), environment: {LANG: 'C', DYLD_INSERT_LIBRARIES: '/tmp/x.dylib'}})
    assert.equal(e.field, '/environment/DYLD_INSERT_LIBRARIES')
    assert.match(e.message, /dynamic loader/)
    assert.equal(only({...minimal(), environment: {dyld_library_path: '/tmp'}}).field, '/environment/dyld_library_path')
  })

  it('names unknown fields, including misspelled launchd keys', () => {
    const e = only({...minimal(), Keepalive: true})
    assert.equal(e.field, '/Keepalive')
    assert.match(e.message, /unknown field "Keepalive"/)
    assert.match(e.fix, /KeepAlive/)
    assert.equal(only({...minimal(), healthCheck: {runningSeconds: 1, retries: 2}}).field, '/healthCheck/retries')
  })

  it('reports several problems at once', () => {
    const errors = errorsOf({...minimal(), name: '../x', RunAtLoad: 'yes', ThrottleInterval: -1})
    assert.deepEqual(errors.map(e => e.field).sort(), ['/RunAtLoad', '/ThrottleInterval', '/name'])
  })

  it('says once that KeepAlive or Umask has none of its allowed forms', () => {
    const e = only({...minimal(), KeepAlive: 'always'})
    assert.equal(e.field, '/KeepAlive')
    assert.match(e.message, /none of the allowed forms/)
    assert.equal(only({...minimal(), Umask: '99'}).field, '/Umask')
    assert.equal(only({...minimal(), KeepAlive: {SuccessfulExit: 'no'}}).field, '/KeepAlive/SuccessfulExit')
  })

  it('keeps log paths inside the prefix and out of the bundle and esdctl records', () => {
    for (const [path, why] of [
      ['/var/log/thed.log', /outside \/opt\/thed/],
      ['{prefix}', /outside/],
      ['/opt/thed-other/log', /outside/],
      ['log/thed.log', /not an absolute path/],
      ['{var}/../../../etc/passwd', /not an absolute path without '\.\.'/],
      ['{app}/Contents/log', /signed bundle/],
      ['/opt/thed/.esdctl/x.log', /esdctl's own records/],
    ] as const) {
      const e = only({...minimal(), StandardErrorPath: path})
      assert.equal(e.field, '/StandardErrorPath', path)
      assert.match(e.message, why, path)
      assert.match(e.fix, /\{var\}\/log\/thed\.log/)
    }
  })

  it('requires an absolute working directory and relative config paths without ..', () => {
    assert.equal(only({...minimal(), WorkingDirectory: 'var'}).field, '/WorkingDirectory')
    assert.equal(only({...minimal(), config: ['../secret']}).field, '/config/0')
    assert.equal(only({...minimal(), config: ['ok.conf', '/etc/passwd']}).field, '/config/1')
    assert.equal(only({...minimal(), config: ['a/../b']}).field, '/config/0')
  })

  it('escapes ~ and / in JSON pointers', () => {
    const e = only({...minimal(), environment: {'A/B': 'x'}})
    assert.equal(e.field, '/environment/A~1B')
  })

  it('answers any JSON value with a manifest or errors, never an exception', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.record({name: fc.string(), label: fc.string(), bundleId: fc.string(), teamId: fc.string(), programArguments: fc.array(fc.string()), StandardOutPath: fc.string()}, {requiredKeys: []})), value => {
        const result = validateManifest(value, FILE)
        if ('errors' in result) {
          assert.ok(result.errors.length > 0)
          for (const e of result.errors) assert.ok(e.message.startsWith(`${FILE}: `) && e.fix.length > 0)
        }
      }),
      {numRuns: 500},
    )
  })

  describe('placeholders', () => {
    const layout = new PrefixLayout({name: 'thed', label: 'com.example.thed'})
    it('expand from the layout, with doubled braces as literals', () => {
      assert.deepEqual(expandPlaceholders('{bin}/{name} {{x}} {executable}', layout), {value: '/opt/thed/bin/thed {x} /opt/thed/thed.app/Contents/MacOS/thed'})
    })
  })

  describe('loadManifest', () => {
    let dir: string
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'esdctl-manifest-'))
    })
    afterEach(async () => {
      await rm(dir, {recursive: true, force: true})
    })

    it('loads a valid file', async () => {
      const path = join(dir, 'esdctl.json')
      await writeFile(path, JSON.stringify(full()))
      const result = await loadManifest(path)
      assert.ok('manifest' in result)
      assert.equal(result.manifest.name, 'thed')
    })

    it('reports a missing file, bad JSON and an oversized file without throwing', async () => {
      const missing = await loadManifest(join(dir, 'nope.json'))
      assert.ok('errors' in missing)
      assert.match(missing.errors[0]!.message, /nope\.json: \(whole file\): cannot be read \(ENOENT\)/)

      const bad = join(dir, 'bad.json')
      await writeFile(bad, '{"name": "thed",')
      const badResult = await loadManifest(bad)
      assert.ok('errors' in badResult)
      assert.equal(badResult.errors[0]!.field, '')
      assert.match(badResult.errors[0]!.message, /bad\.json.*not valid JSON/)

      const huge = join(dir, 'huge.json')
      await writeFile(huge, Buffer.alloc(MAX_MANIFEST_BYTES + 10, 0x20))
      const hugeResult = await loadManifest(huge)
      assert.ok('errors' in hugeResult)
      assert.match(hugeResult.errors[0]!.message, /limit/)

      const notObject = join(dir, 'array.json')
      await writeFile(notObject, '[]')
      const arrayResult = await loadManifest(notObject)
      assert.ok('errors' in arrayResult)
      assert.match(arrayResult.errors[0]!.message, /must be object, found an array/)
    })
  })
})
