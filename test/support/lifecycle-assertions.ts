import assert from 'node:assert/strict'
import * as lifecycle from '../../src/lifecycle/index.js'
import type {LifecycleContext} from '../../src/lifecycle/index.js'
import {isLifecycleError, type LifecycleError} from '../../src/lifecycle/lifecycle-error.js'

/** The refusal `run` ends with; fails the test when it returns instead, rethrows anything else. */
export async function refusal(run: () => Promise<unknown>): Promise<LifecycleError> {
  try {
    await run()
  } catch (e) {
    if (isLifecycleError(e)) return e
    throw e
  }
  assert.fail('expected a refusal')
}

/**
 * The run after a crash: `start` recovers the interrupted transaction first, then must find the
 * daemon running already (changed only by the recovery, if there was one) or not installed at all;
 * anything else fails the test.
 */
export async function recoverWithStart(ctx: LifecycleContext, name: string): Promise<void> {
  try {
    const result = await lifecycle.start(ctx, name)
    assert.match(result.message, /is already running/, `after recovery the daemon must already be running: ${result.message}`)
    // start itself changed nothing; a recovery it did first is a change.
    assert.equal(result.changed, result.recovered !== undefined, `changed must say whether the recovery changed anything: ${JSON.stringify(result)}`)
  } catch (e) {
    if (!isLifecycleError(e)) throw e
    assert.match(e.message, /not installed/)
  }
}
