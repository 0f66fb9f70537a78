import assert from 'node:assert/strict'
import {verifyPath} from '../../src/verify/verify-path.js'
import {realProfile} from '../support/real-artifacts.js'
import {skipBecause} from '../support/skip.js'

describe('esdctl verify on a real profile file', () => {
  it('translatium (2021, NumericString Version): refused for a daemon as expired and app-store, never as malformed', async function () {
    const path = realProfile('translatium-5c695e9')
    if (!path) skipBecause(this, 'fixtures-absent')
    const r = await verifyPath(path!, {now: new Date('2026-01-15T00:00:00Z')})
    assert.equal(r.ok, false)
    assert.deepEqual(r.findings.map(f => f.id).sort(), ['profile.expired', 'profile.kind'])
    const kind = r.findings.find(f => f.id === 'profile.kind')!
    assert.match(kind.message, /: an app-store profile cannot authorise/)
    assert.equal(r.profile?.kind, 'app-store')
  })
})
