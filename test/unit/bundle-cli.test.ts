import {strict as assert} from 'node:assert'
import {mkdtemp, readdir, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {execa} from 'execa'
import {runCommand} from '../support/command-process.js'
import {ARTIFACTS, realArtifact, realProfile} from '../support/real-artifacts.js'
import {skipBecause} from '../support/skip.js'

const esdctl = runCommand

describe('esdctl bundle (the command, as a process, with real Apple profiles)', () => {
  let dir: string
  let exe: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'esdctl-bundle-cli-'))
    exe = await realArtifact(ARTIFACTS.esbuild)
  })
  after(() => rm(dir, {recursive: true, force: true}))

  it('--json on a machine without codesign: signed false, the script, the entitlements', async function () {
    const profile = realProfile('processmonitor-devid-es')
    if (!profile) skipBecause(this, 'fixtures-absent')
    if (process.platform === 'darwin') skipBecause(this, 'not-on-macos')
    const out = join(dir, 'out')
    const r = await esdctl('bundle', '--json', '--executable', exe, '--profile', profile!, '--bundle-id', 'com.objective-see.processmonitor', '--version', '1.0', '--out', out)
    assert.equal(r.exitCode, 0, r.stderr + r.stdout)
    const json = JSON.parse(r.stdout)
    assert.equal(json.signed, false)
    assert.equal(json.script, join(out, 'sign.sh'))
    assert.equal(json.teamId, 'VBG97UB4TA')
    assert.equal(json.entitlements['com.apple.developer.endpoint-security.client'], true)
    assert.equal(json.entitlements['com.apple.application-identifier'], 'VBG97UB4TA.com.objective-see.processmonitor')
    assert.deepEqual((await readdir(out)).sort(), ['esbuild.app', 'esbuild.entitlements', 'sign.sh'])
    assert.equal((await execa('bash', ['-n', join(out, 'sign.sh')], {reject: false})).exitCode, 0)
    assert.match(await readFile(join(out, 'sign.sh'), 'utf8'), /--entitlements "\$HERE"\/esbuild\.entitlements "\$HERE"\/esbuild\.app$/m)
  })

  it('refuses Endpoint Security under a profile without it: exit 4, the file and field named, --json error', async function () {
    const profile = realProfile('karabiner-daemon-devid')
    if (!profile) skipBecause(this, 'fixtures-absent')
    const out = join(dir, 'karabiner')
    const r = await esdctl('bundle', '--json', '--executable', exe, '--profile', profile!, '--bundle-id', 'org.pqrs.Karabiner-VirtualHIDDevice-Daemon', '--version', '1.0', '--out', out)
    assert.equal(r.exitCode, 4)
    const json = JSON.parse(r.stdout)
    assert.equal(json.error.code, 'bundle.entitlement-not-allowed')
    assert.match(json.error.message, /karabiner-daemon-devid\.provisionprofile: Entitlements\.com\.apple\.developer\.endpoint-security\.client: /)
    assert.deepEqual((await readdir(dir)).filter(f => f.startsWith('karabiner') || f.includes('esdctl-')), [])
  })

  it('refuses an expired profile in text mode with exit 4 and the fix', async function () {
    const profile = realProfile('credctl-development-expired')
    if (!profile) skipBecause(this, 'fixtures-absent')
    const r = await esdctl('bundle', '--executable', exe, '--profile', profile!, '--bundle-id', 'com.crzy.credctl', '--version', '1.0', '--out', join(dir, 'credctl'))
    assert.equal(r.exitCode, 4)
    assert.match(r.stderr.replace(/\s*›\s*/g, ' '), /ExpirationDate: the provisioning profile .* expired on/)
  })

  it('a development profile: refused (exit 4) unless --allow-development-profile, which passes the warning on in --json and text', async function () {
    const profile = realProfile('touchfs-team-wildcard')
    if (!profile) skipBecause(this, 'fixtures-absent')
    const common = ['--executable', exe, '--profile', profile!, '--bundle-id', 'com.example.touchfs', '--version', '1.0', '--entitlement', 'com.apple.security.cs.allow-jit']
    const refused = await esdctl('bundle', '--json', ...common, '--out', join(dir, 'dev-refused'))
    assert.equal(refused.exitCode, 4, refused.stdout + refused.stderr)
    const error = JSON.parse(refused.stdout).error
    assert.equal(error.code, 'bundle.profile-development')
    assert.match(error.message, /touchfs-team-wildcard\.provisionprofile: ProvisionedDevices: a development profile: the daemon runs only on the 2 Mac\(s\) it lists/)
    assert.match(error.suggestions[0], /--allow-development-profile/)
    assert.deepEqual((await readdir(dir)).filter(f => f.startsWith('dev-refused') || f.includes('esdctl-')), [])

    const allowed = await esdctl('bundle', '--json', ...common, '--allow-development-profile', '--out', join(dir, 'dev-json'))
    assert.equal(allowed.exitCode, 0, allowed.stdout + allowed.stderr)
    assert.deepEqual(JSON.parse(allowed.stdout).warnings.map((w: {id: string}) => w.id), ['profile.development'])
    if (process.platform === 'darwin') return
    // Text mode, into a folder whose name needs quoting: the printed command lines paste into a shell as they are.
    const spaced = join(dir, 'dev out')
    const text = await esdctl('bundle', ...common, '--allow-development-profile', '--out', spaced)
    assert.equal(text.exitCode, 0, text.stderr)
    assert.match(text.stdout, /^warning: .*a development profile: the daemon runs only on the 2 Mac\(s\) it lists.* \[profile\.development\]$/m)
    assert.ok(text.stdout.includes(`run: bash '${join(spaced, 'sign.sh')}'`), text.stdout)
    assert.ok(text.stdout.includes(`esdctl verify '${join(spaced, 'esbuild.app')}'`), text.stdout)
  })

  it('payload: a manifest that is not JSON is exit 4 naming the file', async () => {
    const bad = join(dir, 'esdctl.json')
    await (await import('node:fs/promises')).writeFile(bad, '{')
    const r = await esdctl('payload', '--json', '--app', join(dir, 'x.app'), '--manifest', bad, '--out', join(dir, 'p'))
    assert.equal(r.exitCode, 4)
    const json = JSON.parse(r.stdout)
    assert.equal(json.error.code, 'payload.manifest')
    assert.ok(json.error.message.startsWith(`${bad}: (whole file): is not valid JSON`), json.error.message)
  })
})
