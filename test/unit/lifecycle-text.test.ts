import assert from 'node:assert/strict'
import type {LifecycleJson} from '../../src/cli/lifecycle-command.js'
import {renderLifecycleText} from '../../src/render/lifecycle-text.js'

describe('the human summary of a lifecycle refusal', () => {
  const refusal = (msg: string, details: string[]): LifecycleJson =>
    ({ok: false, failed: true, changed: false, rc: 9, exitCode: 9, msg, message: msg, details}) as unknown as LifecycleJson

  it('a one-problem refusal whose line quotes the problem prints it once', () => {
    const problem = '/opt/thed/bin (owner uid 0, group gid 0, mode 0644) is not a directory; esdctl needs a directory there; move it away and run again'
    assert.equal(renderLifecycleText(refusal(`unsafe directory: ${problem}`, [problem])), `✖ unsafe directory: ${problem}`)
  })

  it('with several problems, every one is listed under the line that names the first', () => {
    const text = renderLifecycleText(refusal('unsafe directory: /a is writable by everyone', ['/a is writable by everyone', '/b is writable by its group']))
    assert.equal(text, ['  - /a is writable by everyone', '  - /b is writable by its group', '✖ unsafe directory: /a is writable by everyone'].join('\n'))
  })

  it('a detail the line does not quote is listed', () => {
    assert.equal(renderLifecycleText(refusal('refusing to run as root with NODE_PATH set', ['NODE_PATH is set'])), '  - NODE_PATH is set\n✖ refusing to run as root with NODE_PATH set')
  })

  describe('the last line marks the outcome', () => {
    const result = (over: Partial<LifecycleJson>): LifecycleJson => ({ok: true, failed: false, rc: 0, msg: 'm', dryRun: false, changed: false, ...over})

    it('✔ changed, = nothing to change, ✖ failed', () => {
      assert.equal(renderLifecycleText(result({changed: true})), '✔ m')
      assert.equal(renderLifecycleText(result({changed: false})), '= m')
      assert.equal(renderLifecycleText(result({ok: false, failed: true, rc: 4})), '✖ m')
    })

    it('a dry run whose real run would change something is →, not ✔: nothing was done', () => {
      assert.equal(renderLifecycleText(result({dryRun: true, changed: true})), '→ m')
      assert.equal(renderLifecycleText(result({dryRun: true, changed: false})), '= m')
    })
  })
})
