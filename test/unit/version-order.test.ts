import assert from 'node:assert/strict'
import {compareVersions, isBundleVersion} from '../../src/lifecycle/version-order.js'

/**
 * The one version order and format (version-order.ts): install's downgrade rule and `status
 * --format munki` must never disagree about which of two versions is newer, or Munki asks for an
 * install that install refuses as a downgrade, on every run.
 */
describe('version order and format, shared by install and the Munki installcheck', () => {
  it('orders the cases install and the Munki form each had, the same way', () => {
    const cases: Array<[string, string, number]> = [
      ['1.2', '1.2.0', 0],
      ['1.9', '1.10', -1],
      ['2.0', '10.0', -1],
      ['6.0.0', '6.10.0', -1],
      ['3', '2.99', 1],
      ['1.2.3', '1.2.3b', -1],
      ['1.0.0', '1.0.0', 0],
      // The disagreement that looped: Munki splits at '-', '+' and spaces, and so does install now.
      ['1.0-2', '1.0-10', -1],
      ['1.0+2', '1.0+10', -1],
      ['1.0 2', '1.0 10', -1],
      [' 1.2 ', '1.2', 0],
      // Parts beyond a double's range compare equal rather than as NaN.
      ['1'.repeat(400), '1'.repeat(400), 0],
    ]
    for (const [a, b, order] of cases) {
      assert.equal(compareVersions(a, b), order, `${a} vs ${b}`)
      assert.equal(compareVersions(b, a), -order || 0, `${b} vs ${a}`)
    }
  })

  it('a bundle version is one to three period-separated integers, as Apple documents CFBundleShortVersionString', () => {
    for (const v of ['0', '1', '1.4', '6.10.0', '999999999.0.1']) assert.equal(isBundleVersion(v), true, v)
    for (const v of ['', '1.', '.1', '1..2', '1.2.3.4', '1.0-2', '2.0-beta1', '1.2.3 45', '1.2.3b', 'v1.2', '01.2', '1.02', '1234567890', ' 1.2', 3, undefined]) {
      assert.equal(isBundleVersion(v), false, String(v))
    }
  })
})
