import {chmod, lstat, mkdir, rename, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {CodesignAdapter, CodesignError} from '../adapters/codesign.js'
import {describeCodesignProblems} from '../adapters/codesign-verify-output.js'
import {ExitCode} from '../exit-codes.js'
import {TrustStore} from '../trust/trust-store.js'
import {hasErrors} from '../verify/finding.js'
import {verifyPath} from '../verify/verify-path.js'
import {BuildRefusal} from './bundle-error.js'
import {checkInputs, SIGN_SCRIPT_NAME, type CheckedInputs} from './bundle-inputs.js'
import {writeBundleTree} from './bundle-layout.js'
import type {BundleEnvironment, BundleRequest, BundleResult} from './bundle-request.js'
import {authorise} from './profile-authorisation.js'
import {planSignatures, signingArgv} from './sign-plan.js'
import {renderSignScript} from './sign-script.js'
import {makeStagingDir, outRefusal} from './staging-dir.js'

export type {BundleEnvironment, BundleRequest, BundleResult, SigningStep} from './bundle-request.js'

/**
 * Turns a bare daemon into `<name>.app`: checks every input and the profile first (a refusal
 * writes nothing), lays the bundle out in a staging directory beside `--out`, signs it (or writes
 * sign.sh where codesign does not exist), verifies a signed result, and only then moves it into place.
 */
export async function buildAppBundle(req: BundleRequest, env: BundleEnvironment = {}): Promise<BundleResult> {
  const now = env.now ?? new Date()
  const trust = env.trust ?? TrustStore.apple()
  const inputs = await checkInputs(req)
  const auth = await authorise({profilePath: req.profile, bundleId: inputs.bundleId, requested: req.entitlements, identity: req.identity, trust, now, allowDevelopment: req.allowDevelopmentProfile === true})
  const codesign = env.codesign === undefined ? (CodesignAdapter.available() ? new CodesignAdapter() : null) : env.codesign

  const scratch = await makeStagingDir('bundle', inputs.out)
  const staging = scratch.path
  try {
    const tree = await writeBundleTree(staging, inputs, auth.profileBytes, auth.entitlements)
    const mainExecutable = join(tree.app, 'Contents', 'MacOS', inputs.executableName)
    const plan = await planSignatures(tree.app, mainExecutable, {identity: auth.identity, entitlementsFile: tree.entitlementsFile, bundleId: inputs.bundleId})
    const finalApp = join(inputs.out, `${inputs.name}.app`)
    const result: BundleResult = {
      name: inputs.name,
      app: finalApp,
      bundleId: inputs.bundleId,
      teamId: auth.teamId,
      version: inputs.version,
      build: inputs.build,
      entitlementsFile: join(inputs.out, `${inputs.name}.entitlements`),
      entitlements: auth.entitlements,
      profile: {path: req.profile, name: auth.profile.name, uuid: auth.profile.uuid},
      identity: auth.identity,
      signed: codesign !== null,
      signing: plan.map(p => ({target: join(inputs.name + '.app', p.path.slice(tree.app.length + 1)).replace(/\/$/, ''), argv: signingArgv(p, staging, inputs.out)})),
      warnings: auth.warnings,
    }
    if (auth.profile.appId) result.profile.appId = auth.profile.appId
    if (auth.profile.expirationDate) result.profile.expires = auth.profile.expirationDate.toISOString()

    if (codesign) {
      await signAll(codesign, plan)
      const second = await codesign.verify(tree.app)
      result.codesignVerify = second.output
      const report = await verifyPath(tree.app, {trust, now})
      result.verify = report
      if (hasErrors(report.findings) || !second.ok) {
        const problems = [...report.findings.filter(f => f.severity === 'error').map(f => f.message), ...(second.ok ? [] : [`codesign --verify: ${second.problems.length > 0 ? describeCodesignProblems(second.problems) : second.output}`])]
        throw new BuildRefusal('bundle.verify-failed', finalApp, '(signature)',
          `the signed bundle does not verify, so it was not written:\n  ${problems.join('\n  ')}`,
          'Fix what the findings name (identity, profile, entitlements) and run esdctl bundle again.', ExitCode.verificationFailed, report.findings)
      }
    } else {
      const script = renderSignScript({outDir: inputs.out, steps: result.signing.map(s => s.argv), app: finalApp, name: inputs.name})
      await writeFile(join(staging, SIGN_SCRIPT_NAME), script, {mode: 0o755})
      await chmod(join(staging, SIGN_SCRIPT_NAME), 0o755)
      result.script = join(inputs.out, SIGN_SCRIPT_NAME)
    }
    await moveIntoPlace(staging, inputs, codesign !== null, req.force === true).catch((e: unknown) => {
      throw outRefusal('bundle', inputs.out, e) ?? e
    })
    return result
  } finally {
    await scratch.dispose()
  }
}

async function signAll(codesign: CodesignAdapter, plan: Awaited<ReturnType<typeof planSignatures>>): Promise<void> {
  for (const step of plan) {
    try {
      await codesign.sign(step.path, step.options)
    } catch (e) {
      if (!(e instanceof CodesignError)) throw e
      const refused = /no identity found|could not be found/i.test(e.stderr)
      throw new BuildRefusal(refused ? 'bundle.identity-not-found' : 'bundle.codesign-failed', step.path, '--identity',
        `codesign failed (${e.code}): ${e.stderr || e.message}`,
        refused ? 'Import the Developer ID Application certificate and its private key into the keychain, or pass --identity with its exact name or SHA-1.' : 'See codesign\'s message above.',
        ExitCode.verificationFailed)
    }
  }
}

/**
 * Renames each result into `out`. A replaced bundle is first renamed aside and removed only
 * after the new one is in place, so `out` never holds half a bundle. A stale sign.sh is removed
 * when the new bundle is signed: it would sign something that no longer exists.
 */
async function moveIntoPlace(staging: string, inputs: CheckedInputs, signed: boolean, force: boolean): Promise<void> {
  await mkdir(inputs.out, {recursive: true, mode: 0o755})
  const trash = join(staging, '.replaced')
  await mkdir(trash)
  const present = new Set<string>()
  for (const name of inputs.outputs) {
    if ((await lstat(join(inputs.out, name)).catch(() => undefined)) === undefined) continue
    if (!force) {
      throw new BuildRefusal('bundle.exists', join(inputs.out, name), '--out', 'appeared while the bundle was built; nothing was replaced', 'Pass --force to replace it, or choose another --out.')
    }
    present.add(name)
  }
  for (const name of inputs.outputs) {
    const target = join(inputs.out, name)
    const exists = present.has(name)
    const produced = (await lstat(join(staging, name)).catch(() => undefined)) !== undefined
    if (exists && (produced || (signed && name === SIGN_SCRIPT_NAME))) await rename(target, join(trash, name))
    if (produced) await rename(join(staging, name), target)
  }
}
