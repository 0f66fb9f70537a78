import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {VerifyOptions} from '../../src/verify/verify-options.js'
import {createTestPki, type TestIdentity, type TestPki} from './test-pki.js'

/** What a verify suite built on the test PKI shares: the PKI, a Developer ID leaf for its team, a scratch folder, options trusting the PKI at a fixed time. */
export interface SigningKitSuite {
  pki: TestPki
  leaf: TestIdentity
  /** A folder of its own, removed after the suite. */
  work: string
  opts: VerifyOptions
}

/** Call inside a describe: sets the kit up before its tests and removes the scratch folder after them. */
export function signingKitSuite(team: string, now: Date, prefix: string): SigningKitSuite {
  const kit = {} as SigningKitSuite
  before(async () => {
    kit.pki = await createTestPki()
    kit.leaf = await kit.pki.developerId(team)
    kit.work = await mkdtemp(join(tmpdir(), prefix))
    kit.opts = {trust: kit.pki.trust, now}
  })
  after(() => rm(kit.work, {recursive: true, force: true}))
  return kit
}
