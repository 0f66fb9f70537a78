import {join} from 'node:path'
import type {CodesignAdapter} from '../adapters/codesign.js'
import {RootFs} from '../adapters/root-fs.js'
import {BuildRefusal} from '../bundle/bundle-error.js'
import {ExitCode} from '../exit-codes.js'
import type {PrefixLayout} from '../layout/prefix-layout.js'
import {judgePayload} from '../lifecycle/judge-payload.js'
import {missingConfigFile} from '../manifest/config-files.js'
import type {Manifest} from '../manifest/manifest.js'
import type {TrustStore} from '../trust/trust-store.js'
import type {Finding} from '../verify/finding.js'

export interface StagedPayload {
  /** The assembled payload directory (esdctl.json, the bundle at manifest `bundle`, etc/ …) in staging. */
  dir: string
  manifest: Manifest
  manifestPath: string
  layout: PrefixLayout
  /** What the vendor passed, so findings name their files rather than the staging copy. */
  app: string
  etc?: string
}

/**
 * Refuses a payload every install would refuse, with the judgement install itself makes
 * (judgePayload: the verifier over every slice, the signature's team and identifier against the
 * manifest, Info.plist, etc/, codesign's second opinion on macOS), then the manifest's `config`
 * against the shipped etc/ (the rule install applies next). Judged on the staged copy, the bytes
 * that will ship. Throws BuildRefusal: exit 3 with the findings, or exit 4 naming `/config/<i>`.
 */
export async function refuseWhatInstallRefuses(p: StagedPayload, opts: {trust: TrustStore; now: Date; codesign?: CodesignAdapter}): Promise<void> {
  const ctx = {root: '/', offline: false, verifyOptions: {trust: opts.trust, now: opts.now}, ...(opts.codesign ? {codesign: opts.codesign} : {})}
  const judgement = await judgePayload(ctx, new RootFs(), p.dir, p.manifest, p.layout)
  if (!judgement.ok) {
    const findings = judgement.findings.map((f) => named(f, [[join(p.dir, p.layout.bundle), p.app], ...(p.etc === undefined ? [] : [[join(p.dir, 'etc'), p.etc] as [string, string]])]))
    const errors = findings.filter((f) => f.severity === 'error')
    throw new BuildRefusal('payload.verify-failed', p.app, '--app',
      `every install would refuse this bundle (exit 3), so nothing was written:\n  ${errors.map((f) => `${f.id}: ${f.message}`).join('\n  ')}`,
      'Pass the bundle as signed for the manifest\'s team and bundle id: on a Mac, run the sign.sh that esdctl bundle wrote (or esdctl bundle itself), check it with esdctl verify, then run esdctl payload on it. Each finding says what else to fix.',
      ExitCode.verificationFailed, findings)
  }
  const missing = missingConfigFile(p.manifest, judgement.record?.configHashes ?? {})
  if (missing !== undefined) {
    const where = p.etc === undefined ? 'no --etc was given' : `--etc ${p.etc} has no ${missing.file}`
    throw new BuildRefusal('payload.config-missing', p.manifestPath, missing.pointer,
      `names ${JSON.stringify(missing.file)}, but the payload would have no etc/${missing.file} (${where}); every install would refuse it (exit 4), so nothing was written`,
      `Pass --etc with the folder holding ${missing.file}, or remove it from "config".`)
  }
}

/** `f` with each staged path (prefix) replaced by the path the vendor gave. */
function named(f: Finding, moves: [string, string][]): Finding {
  const move = (text: string): string => moves.reduce((t, [from, to]) => t.split(from).join(to), text)
  return {...f, path: move(f.path), message: move(f.message), ...(f.fix !== undefined ? {fix: move(f.fix)} : {})}
}
